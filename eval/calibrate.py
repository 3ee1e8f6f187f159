"""Calibrate the support judge on a labeled set (``eval/judge/labeled.yaml``): ``rag eval judge``.

Each claim goes through the real checker path: evidence retrieved from its source file by
the project's retrieval, then the judge's P(是). Reported: accuracy at 0.5 and ROC AUC of
the judge score alone, and accuracy of the checker's verdict (figure check + judge).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from eval.metrics import auc
from eval.runner import RUNS_DIR, corpus_index
from rag.grounding.check import Sources, check
from rag.grounding.judge import judge_prompt
from rag.index.index import Index
from rag.llm.base import LLM
from rag.settings import Settings

LABELED = Path(__file__).resolve().parent / "judge" / "labeled.yaml"
KINDS = ("supported", "number", "entity", "unrelated")


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    source: str  # a file name inside the corpus
    claim: str

    @property
    def label(self) -> bool:
        return self.kind == "supported"


def load_labeled(path: Path = LABELED) -> tuple[list[Path], list[Item]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    corpus = [(Path(path).parent / p).resolve() for p in _as_list(data.get("corpus", []))]
    items = [Item(str(d["id"]), d["kind"], d["source"], d["claim"]) for d in data["items"]]
    bad = [i.id for i in items if i.kind not in KINDS]
    if bad:
        raise ValueError(f"{path}: unknown kind in {bad}: use {', '.join(KINDS)}")
    return corpus, items


def _as_list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _source_key(index: Index, name: str) -> str:
    keys = [d["source"] for d in index.store.documents() if Path(d["source"]).name == name]
    if len(keys) != 1:
        raise ValueError(f"calibration source {name!r} is not (uniquely) in the corpus index")
    return keys[0]


def calibrate(
    llm: LLM,
    settings: Settings,
    *,
    path: Path = LABELED,
    index: Index | None = None,
    runs_dir: Path = RUNS_DIR,
    limit: int | None = None,
    threshold: float = 0.5,
    progress: Callable[[int, int, dict], None] | None = None,
) -> dict:
    corpus, items = load_labeled(path)
    items = items[:limit] if limit else items
    index = index or corpus_index(corpus, settings, runs_dir)
    rows = []
    t0 = time.perf_counter()
    for n, item in enumerate(items, 1):
        sources = Sources.from_index(index, [(_source_key(index, item.source), None)])
        result = check(item.claim, sources, llm, threshold=threshold, settings=settings)
        # One claim is one sentence; should it split, the weakest sentence decides.
        worst = min(result.sentences, key=lambda s: (s.verdict == "supported", s.score))
        row = {
            "id": item.id,
            "kind": item.kind,
            "label": item.label,
            "score": round(worst.score, 4),
            "verdict": worst.verdict,
            "evidence": worst.evidence.quote if worst.evidence else None,
        }
        rows.append(row)
        if progress:
            progress(n, len(items), row)
    seconds = time.perf_counter() - t0
    return report(rows, llm.model_id, settings, threshold, seconds)


def _accuracy(rows: list[dict], key: Callable[[dict], bool]) -> float | None:
    return round(sum(key(r) == r["label"] for r in rows) / len(rows), 4) if rows else None


def best_threshold(scores: list[float], labels: list[bool]) -> tuple[float, float]:
    """The cut-off with the highest accuracy on this set (in-sample: optimistic), and that accuracy."""
    best = (0.5, -1.0)
    for t in sorted(set(scores)):
        acc = sum((s >= t) == y for s, y in zip(scores, labels, strict=True)) / len(scores)
        if acc > best[1]:
            best = (t, acc)
    return round(best[0], 4), round(best[1], 4)


def report(rows: list[dict], model: str, settings: Settings, threshold: float, seconds: float) -> dict:
    by_score = lambda r: r["score"] >= threshold  # noqa: E731 - a named predicate reads better here
    by_verdict = lambda r: r["verdict"] == "supported"  # noqa: E731
    checker_scores = [r["score"] if r["verdict"] != "figure_mismatch" else 0.0 for r in rows]
    labels = [r["label"] for r in rows]
    prompt = judge_prompt(settings)
    kinds = {}
    for kind in KINDS:
        sub = [r for r in rows if r["kind"] == kind]
        if sub:
            kinds[kind] = {
                "n": len(sub),
                "judge_accuracy": _accuracy(sub, by_score),
                "checker_accuracy": _accuracy(sub, by_verdict),
                "mean_score": round(sum(r["score"] for r in sub) / len(sub), 4),
            }
    judge_auc = auc([r["score"] for r in rows], labels)
    cut, cut_accuracy = best_threshold([r["score"] for r in rows], labels) if rows else (None, None)
    checker_auc = auc(checker_scores, labels)
    return {
        "n": len(rows),
        "positives": sum(labels),
        "negatives": len(rows) - sum(labels),
        "threshold": threshold,
        "judge_accuracy": _accuracy(rows, by_score),
        "judge_auc": None if judge_auc is None else round(judge_auc, 4),
        "best_threshold": cut,
        "best_threshold_accuracy": cut_accuracy,
        "checker_accuracy": _accuracy(rows, by_verdict),
        "checker_auc": None if checker_auc is None else round(checker_auc, 4),
        "by_kind": kinds,
        "model": model,
        "prompt_id": prompt.id,
        "prompt_hash": prompt.hash,
        "seconds": round(seconds, 2),
        "seconds_per_item": round(seconds / len(rows), 3) if rows else None,
        "items": rows,
    }
