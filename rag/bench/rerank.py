"""The LLM reranking experiment (rag/rerank.py): quality gain and latency on the tune part.

    .venv/bin/python -m rag.bench.rerank [--top 5] [--hits-too 8] [--json out.json]

The embedded model reads one prompt per passage, so the full tune set (66 questions × 10
passages) costs hours on a 2-core CPU. The experiment therefore scores the questions where the
fused ranking does *not* put the answer first (where a reranker can gain) plus ``--hits-too`` of
those where it does (where it can lose), the top ``--top`` passages of each, and reports recall@1/3
and MRR@10 before and after on that subset for several blend weights, the seconds and prompt
tokens per passage, and what that costs per question on this CPU and at the design notes' fast
CPU (~144 prompt tokens/s). Held-out questions are never used.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

from rag.bench.baselines import CachedEmbedder
from rag.bench.measure import load
from rag.bench.quality import PARAPHRASE_TUNE, corpus_files, first_relevant, load_paraphrase
from rag.index.embeddings import create_embedder
from rag.index.index import Index
from rag.llm.factory import create_llm
from rag.rerank import combine, rerank_prompt, yes_scores
from rag.retrieval import hybrid_search
from rag.settings import Settings

FAST_CPU_PROMPT_TOK_S = 144.0  # shared/DESIGN.md, the Xeon with AMX
WEIGHTS = (0.25, 0.5, 0.75, 1.0)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _summary(ranks: list[int]) -> dict:
    n = len(ranks) or 1
    return {
        "recall_at_1": round(sum(0 < r <= 1 for r in ranks) / n, 3),
        "recall_at_3": round(sum(0 < r <= 3 for r in ranks) / n, 3),
        "mrr_at_10": round(sum(1 / r for r in ranks if r) / n, 3),
    }


def run(top: int = 5, hits_too: int = 8, depth: int = 10) -> dict:
    settings = Settings()
    embedder = CachedEmbedder(
        create_embedder(settings), settings.model_cache_dir / "bench" / "quality-passages.sqlite"
    )
    cases, corpus = load_paraphrase(PARAPHRASE_TUNE)
    root = settings.model_cache_dir / "bench" / "fusion-fit-index"
    index = Index(settings.model_copy(update={"index_dir": root, "chroma_url": None}), embedder=embedder)
    index.ingest(corpus_files(corpus))
    fused = {c.id: hybrid_search(index, c.question, k=depth) for c in cases}
    before = {c.id: first_relevant([(p.chunk.source, p.chunk.text) for p in fused[c.id]], c) for c in cases}
    chosen = [c for c in cases if before[c.id] != 1] + [c for c in cases if before[c.id] == 1][:hits_too]
    llm = create_llm(settings)
    prompt = rerank_prompt(settings)
    out_cases, seconds, tokens = [], [], []
    machine_start = load()
    try:
        for i, c in enumerate(chosen):
            print(f"rerank {i + 1}/{len(chosen)} {c.id}", file=sys.stderr)
            passages = fused[c.id]
            yes, secs = yes_scores(llm, prompt, c.question, passages[:top])
            toks = []
            if hasattr(llm, "prompt_tokens"):
                for p in passages[:top]:
                    msgs = prompt.render(
                        question=c.question, title=p.chunk.report_title, passage=p.chunk.text[:400]
                    )
                    toks.append(len(llm.prompt_tokens(msgs)))
            seconds += secs
            tokens += toks
            after = {
                w: first_relevant([(p.chunk.source, p.chunk.text) for p in combine(passages, yes, w)], c)
                for w in WEIGHTS
            }
            out_cases.append(
                {"id": c.id, "before": before[c.id], "after": after, "yes": [round(y, 3) for y in yes]}
            )
    finally:
        close = getattr(llm, "close", None)
        if close:
            close()
    per_passage_tokens = statistics.mean(tokens) if tokens else None
    firsts = min(hits_too, sum(r == 1 for r in before.values()))
    return {
        "what": f"LLM yes/no reranking of the fused top {top} (rag/rerank.py, prompts/rerank/default.yaml) "
        f"on {len(chosen)} tune questions: every one whose answer is not first ({len(chosen) - firsts}) "
        f"and {firsts} that are",
        "model": getattr(llm, "model_id", "?"),
        "cpu": _cpu_model(),
        "machine_start": machine_start,
        "machine_end": load(),
        "before": _summary([c["before"] for c in out_cases]),
        "after": {str(w): _summary([c["after"][w] for c in out_cases]) for w in WEIGHTS},
        "seconds_per_passage": {
            "median": round(statistics.median(seconds), 2) if seconds else None,
            "max": round(max(seconds), 2) if seconds else None,
        },
        "prompt_tokens_per_passage": round(per_passage_tokens, 1) if per_passage_tokens else None,
        "seconds_per_question_here": round(statistics.median(seconds) * top, 1) if seconds else None,
        "seconds_per_question_fast_cpu_estimate": round(per_passage_tokens * top / FAST_CPU_PROMPT_TOK_S, 1)
        if per_passage_tokens
        else None,
        "cases": out_cases,
        "whole_tune_set_before": _summary(list(before.values())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--hits-too", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(args.top, args.hits_too)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.json:
        args.json.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
