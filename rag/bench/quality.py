"""Retrieval quality: recall@1/3/5/10 and MRR@10 of ours (tuned fusion with query understanding,
plain RRF, and each leg alone) vs LangChain + Chroma and rank_bm25, in one run, on:

- the ask suite's questions that name an expected passage (``eval/suites/ask.yaml``; a small
  built-in list when it is missing) over the seeds: the figures ``rag bench quality`` reported
  before the paraphrase sets existed, still under ``systems``;
- the paraphrased dev set, each part of :data:`PARTS` under ``paraphrase.<part>``: ``tune``
  (``eval/retrieval/paraphrase_tune.yaml``) and ``retired`` (``paraphrase_heldout.yaml``: the
  first held-out part, measured once and now tuned on too, rag/bench/fusion_fit.py), over the
  corpus the files name (seeds + the report fixtures); ``retired2`` (``paraphrase_heldout2.yaml``:
  60 questions over 28 reports, the second blind part, measured once, then tuned on); and
  ``heldout`` (``paraphrase_heldout3.yaml``: 64 questions over all 31 reports, written blind to the
  retrieval code and the other parts, never tuned on). A new blind part is one more entry in
  :data:`PARTS`; ``parts=`` picks some.

A hit is a passage from the expected source holding every expected substring (the rule of
eval.metrics.relevant). Passage vectors are cached on disk across runs (``CachedEmbedder``);
query embeddings are computed per query and included in each system's latency.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rag.bench.baselines import CachedEmbedder, LangChainChroma, RankBM25, split_texts
from rag.bench.measure import load, phase, stats_ms
from rag.bench.scale import release_chroma
from rag.documents.files import iter_files
from rag.documents.load import load_document
from rag.fusion import load_fusion
from rag.index.embeddings import Embedder, create_embedder
from rag.index.index import Index
from rag.retrieval import hybrid_search
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SUITE = REPO / "eval" / "suites" / "ask.yaml"
PARAPHRASE_TUNE = REPO / "eval" / "retrieval" / "paraphrase_tune.yaml"
PARAPHRASE_RETIRED = REPO / "eval" / "retrieval" / "paraphrase_heldout.yaml"
PARAPHRASE_RETIRED2 = REPO / "eval" / "retrieval" / "paraphrase_heldout2.yaml"  # measured once, tuned on
PARAPHRASE_HELDOUT = REPO / "eval" / "retrieval" / "paraphrase_heldout3.yaml"  # blind: never tuned on
# The parts the fusion weights are fitted on (rag/bench/fusion_fit.py) …
TUNING_PARTS: dict[str, Path] = {
    "tune": PARAPHRASE_TUNE,
    "retired": PARAPHRASE_RETIRED,
    "retired2": PARAPHRASE_RETIRED2,
}
# … and every part `rag bench quality` reports (a blind held-out part goes here, never above).
PARTS: dict[str, Path] = {**TUNING_PARTS, "heldout": PARAPHRASE_HELDOUT}
DEPTH = 10
Log = Callable[[str], None]
Hits = list[tuple[str, str]]  # (source, text) best first

# Used when the ask suite is missing: (id, question, source substring, passage substrings).
BUILTIN_CASES = [
    ("tea-factory", "化眉村的茶叶加工厂有多大？", "002_", ["800平米"]),
    ("collective-income", "全镇村集体经济总收入是多少？", "002_", ["179.25万元"]),
    ("party-meetings", "党委书记2022年组织召开了多少场次党委会议？", "001_", ["党委会议26场次"]),
    ("study-day", "村党总支的党员学习日定在每月哪一天？", "000_", ["每月20日党员学习日"]),
    ("sewage-investment", "沿江污水治理项目完成投资多少？", "003_", ["938.47万元"]),
    ("flue-cured-grade", "烤烟收购中上等烟比例达到多少？", "003_", ["71.06％"]),
    ("grain-area", "2023年完成粮食播种面积多少？", "003_", ["5.27万亩"]),
    ("pumpkin-revenue", "种植蜜本南瓜实现了多少销售收入？", "003_", ["16.2万元"]),
]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    source: str  # a substring of the hit's source (a file stem)
    passage: tuple[str, ...]  # every one must be in the hit's text
    kind: str = ""

    def relevant(self, source: str, text: str) -> bool:
        return self.source in source and all(p in text for p in self.passage)


def load_ask_cases(suite: Path | None = DEFAULT_SUITE) -> tuple[list[tuple[str, str, str, list[str]]], str]:
    """(cases, where they came from): the suite's ask cases that name an expected passage."""
    if suite is not None and Path(suite).exists():
        data = yaml.safe_load(Path(suite).read_text(encoding="utf-8")) or {}
        cases = []
        for case in data.get("cases", []):
            passage = case.get("expect_passage") or []
            if case.get("task") == "ask" and case.get("question") and passage:
                passage = [passage] if isinstance(passage, str) else list(passage)
                cases.append((case["id"], case["question"], case.get("expect_source") or "", passage))
        if cases:
            return cases, str(suite)
    return list(BUILTIN_CASES), "builtin list in rag/bench/quality.py (ask suite not found)"


def load_paraphrase(path: Path) -> tuple[list[Case], list[Path]]:
    """The cases of a paraphrase file and the corpus folders it names (relative to the file)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    cases = []
    for c in data.get("cases", []):
        passage = c.get("expect_passage") or []
        passage = [passage] if isinstance(passage, str) else passage
        cases.append(Case(str(c["id"]), c["question"], c["expect_source"], tuple(passage), c.get("kind", "")))
    corpus = [(Path(path).parent / p).resolve() for p in data.get("corpus", [])]
    return cases, corpus


def corpus_files(dirs: Sequence[Path]) -> list[Path]:
    """The report files of the corpus folders; a folder's README is documentation, not a report."""
    return sorted(p for p in iter_files(list(dirs)) if not p.name.lower().startswith("readme"))


def first_relevant(hits: Hits, case: Case) -> int:
    """1-based rank of the first relevant hit; 0 if none."""
    for rank, (source, text) in enumerate(hits, 1):
        if case.relevant(source, text):
            return rank
    return 0


def metrics(ranks: dict[str, int], seconds: Sequence[float], depth: int = DEPTH) -> dict[str, Any]:
    rs = list(ranks.values())
    n = len(rs) or 1

    def recall(k: int) -> float:
        return round(sum(0 < r <= k for r in rs) / n, 3)

    return {
        "recall_at_1": recall(1),
        "recall_at_3": recall(3),
        "recall_at_5": recall(5),
        f"recall_at_{depth}": recall(depth),
        f"mrr_at_{depth}": round(sum(1 / r for r in rs if r) / n, 3),
        "missed_at_3": [c for c, r in ranks.items() if not 0 < r <= 3],
        "latency_with_query_embedding": stats_ms(list(seconds)),
    }


class Systems:
    """Ours and the baselines over the same files, each answering ``name(query) -> hits``."""

    def __init__(self, settings: Settings, files: Sequence[Path], embedder: Embedder, root: Path) -> None:
        run = settings.model_copy(
            update={"index_dir": root / "ours", "chroma_url": None, "collection": "quality"}
        )
        with phase("index ours") as p_ours:
            self.index = Index(run, embedder=embedder)
            result = self.index.ingest(list(files))
        if not result.ok:
            raise ValueError(f"质量评测语料导入失败：{[f.error for f in result.files if f.error]}")
        texts = [(doc.source, r.text) for f in files for doc in [load_document(f)] for r in doc.reports]
        self.lc_docs = split_texts(texts, settings.chunk_max_chars)
        with phase("index langchain") as p_lc:
            self.lc = LangChainChroma(root / "langchain", embedder)
            self.lc.add(self.lc_docs)
            self.bm = RankBM25()
            self.bm.add(self.lc_docs)
        self.index_s = {"ours": p_ours.seconds, "baselines": p_lc.seconds}
        rrf = self.index.settings.model_copy(update={"fusion": "rrf", "query_understanding": False})
        self.rrf_index = Index(rrf, embedder=embedder)  # the same store and Chroma, plain RRF

    def _chunks(self, pairs: list[tuple[str, float]]) -> Hits:
        found = self.index.store.chunks_by_ids([cid for cid, _ in pairs])
        return [(found[cid].source, found[cid].text) for cid, _ in pairs if cid in found]

    def callables(self, depth: int = DEPTH) -> dict[str, Callable[[str], Hits]]:
        def passages(index: Index) -> Callable[[str], Hits]:
            return lambda q: [(p.chunk.source, p.chunk.text) for p in hybrid_search(index, q, k=depth)]

        return {
            "ours": passages(self.index),
            "ours_rrf": passages(self.rrf_index),
            "ours_dense_only": lambda q: self._chunks(self.index.dense_search(q, depth)),
            "ours_keyword_only": lambda q: self._chunks(self.index.keyword_search(q, depth)),
            "langchain_chroma": lambda q: [
                (d.metadata["source"], d.page_content) for d in self.lc.search(q, depth)
            ],
            "rank_bm25": lambda q: [(d.metadata["source"], d.page_content) for d in self.bm.search(q, depth)],
        }

    def close(self) -> None:
        self.index.close()
        self.rrf_index.close()


def run_cases(systems: dict[str, Callable[[str], Hits]], cases: Sequence[Case], depth: int = DEPTH) -> dict:
    """Every system on every case, alternating the order per case; metrics per system."""
    names = list(systems)
    ranks: dict[str, dict[str, int]] = {n: {} for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    for n in names:  # warm-up
        systems[n](cases[0].question)
    for i, case in enumerate(cases):
        for n in names if i % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            hits = systems[n](case.question)
            times[n].append(time.perf_counter() - t0)
            ranks[n][case.id] = first_relevant(hits, case)
    out = {n: metrics(ranks[n], times[n], depth) for n in names}
    kinds = sorted({c.kind for c in cases if c.kind})
    if kinds:
        for n in ("ours", "ours_rrf", "rank_bm25"):
            if n in out:
                out[n]["recall_at_3_by_kind"] = {
                    k: round(
                        sum(0 < ranks[n][c.id] <= 3 for c in cases if c.kind == k)
                        / sum(c.kind == k for c in cases),
                        3,
                    )
                    for k in kinds
                }
    return out


@contextmanager
def _workdir() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-quality-"))
    try:
        yield tmp
    finally:
        release_chroma()
        shutil.rmtree(tmp, ignore_errors=True)


def bench_quality(
    settings: Settings,
    *,
    seeds_dir: Path = REPO / "seeds",
    suite: Path | None = DEFAULT_SUITE,
    embedder: Embedder | None = None,
    depth: int = DEPTH,
    paraphrase: Mapping[str, Path] | None = None,
    parts: Sequence[str] | None = None,
    embed_cache: bool | None = None,
    log: Log = _quiet,
) -> dict[str, Any]:
    """The ask suite over the seeds (``systems``) and each paraphrase part over its corpus
    (``paraphrase``), every system measured in the same run (module doc). ``paraphrase`` maps
    part names to files (default :data:`PARTS`); ``parts`` picks some of them by name."""
    chosen = dict(PARTS if paraphrase is None else paraphrase)
    unknown = [p for p in parts or [] if p not in chosen]
    if unknown:
        raise ValueError(f"未知的评测部分 {unknown}：可用 {', '.join(chosen)}")
    chosen = {n: Path(p) for n, p in chosen.items() if not parts or n in parts}
    machine_start = load()
    inner = embedder or create_embedder(settings)
    if embed_cache is None:  # the hashed embedder costs microseconds: nothing to keep
        embed_cache = not inner.id.startswith("hash/")
    cache_path = settings.model_cache_dir / "bench" / "quality-passages.sqlite" if embed_cache else None
    embedder = CachedEmbedder(inner, cache_path)
    ask_cases, cases_from = load_ask_cases(suite)
    with _workdir() as tmp:
        log(f"quality: indexing {seeds_dir} with {embedder.id}")
        seeds = Systems(settings, corpus_files([seeds_dir]), embedder, tmp / "seeds")
        cases = [Case(i, q, s, tuple(p)) for i, q, s, p in ask_cases]
        ask = run_cases(seeds.callables(depth), cases, depth)
        out: dict[str, Any] = {
            "what": f"recall@k / MRR@{depth}; a hit is a passage from the expected source containing "
            "every expected substring (eval.metrics.relevant). ours = tuned fusion with query "
            "understanding (rag/fusion.py, rag/query.py); ours_rrf = plain RRF, no query understanding",
            "cases": len(cases),
            "suite": cases_from,
            "embedder": inner.id,
            "machine_start": machine_start,
            "ours_chunks": seeds.index.store.counts()["chunks"],
            "baseline_chunks": len(seeds.lc_docs),
            "note": "baseline chunks are larger (RecursiveCharacterTextSplitter, chunk_size="
            f"{settings.chunk_max_chars}, overlap {settings.chunk_max_chars // 10}), which favours them "
            "on substring recall",
            "index_s": seeds.index_s,
            "systems": {n: v for n, v in ask.items() if n != "ours_rrf"},
            "variants": {"ours_rrf": ask["ours_rrf"]},
        }
        seeds.close()
        present = {n: p for n, p in chosen.items() if p.exists()}
        if present:
            out["paraphrase"] = _paraphrase(settings, present, embedder, tmp, depth, log)
        out["fusion"] = load_fusion(settings).describe()
        out["embedding_cache"] = embedder.stats()
        out["machine_end"] = load()
        return out


def _paraphrase(
    settings: Settings, parts: Mapping[str, Path], embedder: Embedder, tmp: Path, depth: int, log: Log
) -> dict[str, Any]:
    loaded = {name: load_paraphrase(p) for name, p in parts.items()}
    folders = sorted({d for _, corpus in loaded.values() for d in corpus})
    files = corpus_files(folders)
    log(f"quality: indexing {len(files)} files of {', '.join(map(str, folders))} with {embedder.id}")
    systems = Systems(settings, files, embedder, tmp / "paraphrase")
    try:
        out: dict[str, Any] = {
            "corpus": [str(d.relative_to(REPO)) if d.is_relative_to(REPO) else str(d) for d in folders],
            "files": len(files),
            "ours_chunks": systems.index.store.counts()["chunks"],
            "baseline_chunks": len(systems.lc_docs),
            "index_s": systems.index_s,
        }
        calls = systems.callables(depth)
        for name, (cases, _) in loaded.items():
            log(f"quality: paraphrase {name} ({len(cases)} questions)")
            out[name] = {"cases": len(cases), "systems": run_cases(calls, cases, depth)}
        return out
    finally:
        systems.close()
