"""Tuning the fusion weights of rag/fusion.py on the tuning parts of the paraphrased dev set.

    .venv/bin/python -m rag.bench.fusion_fit            # print the fit and its cross-validation
    .venv/bin/python -m rag.bench.fusion_fit --write    # and write rag/data/fusion.yaml
    .venv/bin/python -m rag.bench.fusion_fit --parts tune   # fit on one part only

For every question the candidates (dense + keyword top-``n``, with the query features) are
collected once from an index of the corpus (real e5 by default). The combiner is a linear score
over rag.fusion.FEATURES fitted as a pairwise logistic model (the answering passage against every
other candidate of its question, L2-regularised, weights kept ≥ 0 so every feature can only lift
a passage): convex, so the same data give the same weights. The rank constants and the
regularisation are picked by 2-fold cross-validation over the questions grouped by report
(a question never shares a report with the fold it is scored on).

Honesty check: with two or more parts, every part is also scored by weights fitted on the other
parts only (``cross_part``), beside the packaged weights and the two legs alone on the same
candidates: a fit that only memorises its questions shows up as a gap between ``fit`` and
``cross_part``. The blind held-out part (rag.bench.quality.PARTS ``heldout``) is never a tuning part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rag.bench.baselines import CachedEmbedder
from rag.bench.quality import TUNING_PARTS, Case, corpus_files, load_paraphrase
from rag.fusion import FEATURES, FUSION_FILE, feature_matrix, load_fusion
from rag.index.embeddings import Embedder, create_embedder
from rag.index.index import Index
from rag.query import corpus_vocabulary, load_terms
from rag.retrieval import candidates, check_query
from rag.settings import Settings

RANK_K_GRID = (2.0, 5.0, 10.0, 20.0, 60.0)
LAMBDA_GRID = (0.001, 0.003, 0.01, 0.03)
POOL = 40  # candidates per retriever, as Settings.candidates


@dataclass
class Collected:
    case: Case
    items: list  # rag.fusion.Candidate
    intent: Any
    labels: np.ndarray  # True where the candidate answers the question


def collect(index: Index, cases: Sequence[Case], n: int = POOL) -> list[Collected]:
    out = []
    for case in cases:
        found = candidates(index, check_query(case.question, 10), n)
        labels = np.array([case.relevant(c.chunk.source, c.chunk.text) for c in found.items], dtype=bool)
        out.append(Collected(case, found.items, found.intent, labels))
    return out


def features(data: Sequence[Collected], vocab, k: float) -> list[np.ndarray]:
    rank_k = {"dense": k, "keyword": k, "report": k}
    return [feature_matrix(d.items, d.intent, vocab, rank_k) for d in data]


def fit_pairwise(
    data: Sequence[Collected], feats: Sequence[np.ndarray], lam: float, which=None
) -> np.ndarray:
    """Weights minimising mean log(1 + exp(-(s_answer - s_other))) + lam·|w|² (gradient descent)."""
    diffs = []
    for i, (d, x) in enumerate(zip(data, feats, strict=True)):
        if (which is not None and i not in which) or not d.labels.any():
            continue
        diffs.append(x[d.labels][0][None, :] - x[~d.labels])
    dmat = np.vstack(diffs)
    w = np.zeros(dmat.shape[1])
    w[FEATURES.index("dense")] = w[FEATURES.index("keyword")] = 1.0
    for _ in range(3000):
        z = np.clip(dmat @ w, -30, 30)
        grad = -(dmat * (1.0 / (1.0 + np.exp(z)))[:, None]).mean(axis=0) + lam * w
        w = np.maximum(w - 0.5 * grad, 0.0)  # boosts, never penalties: a match can only help
    return w


def evaluate(data: Sequence[Collected], feats: Sequence[np.ndarray], w: np.ndarray, which=None) -> dict:
    ranks = []
    for i, (d, x) in enumerate(zip(data, feats, strict=True)):
        if which is not None and i not in which:
            continue
        order = np.argsort(-(x @ w), kind="stable")
        hit = np.nonzero(d.labels[order])[0]
        ranks.append(int(hit[0]) + 1 if len(hit) else 0)
    n = len(ranks) or 1
    return {
        "recall_at_1": round(sum(0 < r <= 1 for r in ranks) / n, 3),
        "recall_at_3": round(sum(0 < r <= 3 for r in ranks) / n, 3),
        "mrr_at_10": round(sum(1 / r for r in ranks if 0 < r <= 10) / n, 3),
        "questions": len(ranks),
    }


def folds(data: Sequence[Collected]) -> list[set[int]]:
    sources = sorted({d.case.source for d in data})
    return [{i for i, d in enumerate(data) if sources.index(d.case.source) % 2 == f} for f in (0, 1)]


def fit(data: Sequence[Collected], vocab) -> dict[str, Any]:
    """Pick (rank k, lambda) by 2-fold CV (mean of MRR@10 and recall@3), then fit on all."""
    parts = folds(data)
    best = None
    grid = []
    for k in RANK_K_GRID:
        feats = features(data, vocab, k)
        for lam in LAMBDA_GRID:
            scores = []
            for f in (0, 1):
                w = fit_pairwise(data, feats, lam, which=parts[f])
                scores.append(evaluate(data, feats, w, which=parts[1 - f]))
            cv = float(np.mean([s["mrr_at_10"] + s["recall_at_3"] for s in scores]) / 2)
            grid.append({"rank_k": k, "lambda": lam, "cv": round(cv, 4), "folds": scores})
            if best is None or cv > best[0] + 1e-9:
                best = (cv, k, lam, scores)
    assert best is not None
    _, k, lam, scores = best
    feats = features(data, vocab, k)
    w = fit_pairwise(data, feats, lam)
    plain = np.zeros(len(FEATURES))
    plain[FEATURES.index("dense")] = plain[FEATURES.index("keyword")] = 1.0
    return {
        "weights": {f: round(float(v), 3) for f, v in zip(FEATURES, w, strict=True)},
        "rank_k": {"dense": k, "keyword": k, "report": k},
        "lambda": lam,
        "cv_folds": scores,
        "fit": evaluate(data, feats, w),
        "two_legs_only": evaluate(data, features(data, vocab, 60.0), plain),
        "grid": grid,
    }


def write(result: dict[str, Any], path: Path, *, embedder_id: str, questions: int, source: str) -> None:
    cv = result["cv_folds"]
    header = (
        "# Weights of the fusion combiner (rag/fusion.py): score = Σ weight × feature.\n"
        "# Written by `python -m rag.bench.fusion_fit --write` (rag/bench/fusion_fit.py): a pairwise\n"
        f"# logistic fit on {questions} questions of {source} with {embedder_id},\n"
        f"# {dt.date.today().isoformat()}; rank constant and regularisation (lambda {result['lambda']}) by\n"
        "# 2-fold cross-validation over the questions grouped by report. The blind held-out part\n"
        "# is not used.\n"
        f"# CV folds (MRR@10 / recall@3): {cv[0]['mrr_at_10']} / {cv[0]['recall_at_3']} and "
        f"{cv[1]['mrr_at_10']} / {cv[1]['recall_at_3']};\n# on all fitted questions "
        f"{result['fit']['mrr_at_10']} / {result['fit']['recall_at_3']} (dense + keyword alone: "
        f"{result['two_legs_only']['mrr_at_10']} / {result['two_legs_only']['recall_at_3']}).\n"
        + "".join(
            f"# fitted without part {name}, scored on it: {v['mrr_at_10']} / {v['recall_at_3']}\n"
            for name, v in (result.get("cross_part") or {}).items()
        )
    )
    body = yaml.safe_dump(
        {"weights": result["weights"], "rank_k": result["rank_k"]}, allow_unicode=True, sort_keys=False
    )
    path.write_text(header + body, encoding="utf-8")


def cross_part(parts: dict[str, list[Collected]], vocab) -> dict[str, dict]:
    """Every part scored by weights fitted (rank k and lambda included) on the other parts only."""
    out = {}
    for name, held in parts.items():
        rest = [d for other, data in parts.items() if other != name for d in data]
        if not rest:
            continue
        res = fit(rest, vocab)
        k = res["rank_k"]["dense"]
        w = np.array([res["weights"][f] for f in FEATURES])
        out[name] = evaluate(held, features(held, vocab, k), w) | {"fitted_on": len(rest)}
    return out


def packaged(parts: dict[str, list[Collected]], vocab, settings: Settings) -> dict[str, dict]:
    """The weights in use (rag/data/fusion.yaml, before any --write) on each part."""
    fusion = load_fusion(settings)
    w = np.array([fusion.weights[f] for f in FEATURES])
    out = {}
    for name, data in parts.items():
        feats = [feature_matrix(d.items, d.intent, vocab, fusion.rank_k) for d in data]
        out[name] = evaluate(data, feats, w)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--parts", default=",".join(TUNING_PARTS), help=f"tuning parts, of {', '.join(TUNING_PARTS)}"
    )
    parser.add_argument("--write", action="store_true", help=f"write {FUSION_FILE}")
    parser.add_argument("--out", type=Path, default=FUSION_FILE)
    parser.add_argument("--index-dir", type=Path, help="keep the index here (reused when it exists)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.parts.split(",") if n.strip()]
    unknown = [n for n in names if n not in TUNING_PARTS]
    if unknown or not names:
        parser.error(f"unknown tuning part {unknown}: use {', '.join(TUNING_PARTS)}")
    settings = Settings()
    embedder: Embedder = CachedEmbedder(
        create_embedder(settings), settings.model_cache_dir / "bench" / "quality-passages.sqlite"
    )
    loaded = {n: load_paraphrase(TUNING_PARTS[n]) for n in names}
    folders = sorted({d for _, corpus in loaded.values() for d in corpus})
    root = args.index_dir or Path(settings.model_cache_dir) / "bench" / "fusion-fit-index"
    index = Index(settings.model_copy(update={"index_dir": root, "chroma_url": None}), embedder=embedder)
    index.ingest(corpus_files(folders))
    vocab = corpus_vocabulary(index, load_terms(index.settings))
    parts = {n: collect(index, cases) for n, (cases, _) in loaded.items()}
    data = [d for part in parts.values() for d in part]
    result = fit(data, vocab)
    result["cross_part"] = cross_part(parts, vocab)
    result["packaged_weights"] = packaged(parts, vocab, settings)
    shown = {k: v for k, v in result.items() if k != "grid"}
    print(yaml.safe_dump(shown, allow_unicode=True, sort_keys=False))
    if args.write:
        source = " + ".join(TUNING_PARTS[n].name for n in names)
        write(result, args.out, embedder_id=embedder.id, questions=len(data), source=source)
        print(f"written: {args.out}", file=sys.stderr)
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
