"""Calibrate the checker on labeled sets: ``rag eval judge``.

Eight sets, each claim checked against its own source file through the real checker path
(figure binding, evidence, the judge's P(是)):

* ``seed`` (``eval/judge/labeled.yaml``): supported vs altered claims authored from the seeds
  (kinds supported | number | entity | unrelated);
* ``dev`` (``eval/judge/binding_dev.yaml``): figure binding over ``tests/fixtures/reports``, the part
  the binding rules were tuned on;
* ``retired`` (``eval/judge/binding_heldout.yaml``): the first held-out set (``heldout_sources/``),
  studied and tuned on since 2026-12-01, so now a second tuning set;
* ``retired2`` (``eval/judge/binding_heldout2.yaml``): the second held-out set (``heldout2_sources/``,
  kinds supported | paraphrase, label 1; misbound | swap | elsewhere | qualifier | number, label 0),
  written blind to the rules and measured once (2026-12-01), then studied and tuned on: a third
  tuning set;
* ``retired3`` (``eval/judge/binding_heldout3.yaml``): the third held-out set (``heldout3_sources/``,
  163 claims over 8 reports), measured once (2026-12-01), then studied and tuned on;
* ``retired4`` (``eval/judge/binding_heldout4.yaml``): the fourth held-out set (``heldout4_sources/``,
  185 claims over 8 reports), measured once (2026-12-01), then studied and tuned on;
* ``retired5`` (``eval/judge/binding_heldout5.yaml``): the fifth held-out set (``heldout5_sources/``,
  189 claims over 8 reports), measured once (2026-12-01), then studied and tuned on;
* ``heldout`` (``eval/judge/binding_heldout6.yaml``): the sixth held-out set (``heldout6_sources/``,
  186 claims over 8 new reports, the same kinds), written blind to the rules and to the other
  sets, never tuned on.

A fresh blind set is added as one more entry of ``SETS`` (key ``heldout``), measured once, then
retired in turn under another key.

Reported per set and per kind: the checker's accuracy, its false-accept rate (altered claims
passed) and false-reject rate (faithful claims flagged); the same for the figure binding alone
(code, no model); and the judge score alone (accuracy at the threshold, ROC AUC). The judge scores
every claim here (``judge_all``), also those the binding rejected, so its own numbers are complete.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from eval.metrics import auc
from eval.runner import RUNS_DIR, Cache, corpus_index
from rag.grounding.check import Sources, check
from rag.grounding.judge import judge_prompt
from rag.index.index import Index
from rag.llm.base import LLM
from rag.settings import Settings

JUDGE_DIR = Path(__file__).resolve().parent / "judge"
LABELED = JUDGE_DIR / "labeled.yaml"
BINDING_DEV = JUDGE_DIR / "binding_dev.yaml"
BINDING_HELDOUT = JUDGE_DIR / "binding_heldout.yaml"  # retired: tuned on since
BINDING_HELDOUT2 = JUDGE_DIR / "binding_heldout2.yaml"  # retired2: measured once, tuned on since
BINDING_HELDOUT3 = JUDGE_DIR / "binding_heldout3.yaml"  # retired3: measured once, tuned on since
BINDING_HELDOUT4 = JUDGE_DIR / "binding_heldout4.yaml"  # retired4: measured once, tuned on since
BINDING_HELDOUT5 = JUDGE_DIR / "binding_heldout5.yaml"  # retired5: measured once, tuned on since
BINDING_HELDOUT6 = JUDGE_DIR / "binding_heldout6.yaml"  # blind: never tuned on
# The sets `rag eval judge` runs by default, in order: one line per set (a new blind set goes last).
SETS: dict[str, Path] = {
    "seed": LABELED,
    "dev": BINDING_DEV,
    "retired": BINDING_HELDOUT,
    "retired2": BINDING_HELDOUT2,
    "retired3": BINDING_HELDOUT3,
    "retired4": BINDING_HELDOUT4,
    "retired5": BINDING_HELDOUT5,
    "heldout": BINDING_HELDOUT6,
}
SEED_KINDS = ("supported", "number", "entity", "unrelated")
BINDING_KINDS = ("supported", "paraphrase", "misbound", "swap", "elsewhere", "qualifier", "number")
KINDS = tuple(dict.fromkeys((*SEED_KINDS, *BINDING_KINDS)))
REJECTED = ("figure_mismatch", "figure_misbound")  # verdicts the figure binding decides alone


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    source: str  # a file name inside the corpus
    claim: str
    labeled: bool | None = None  # the set's label; None: derived from the kind (seed set)
    evidence: str = ""
    note: str = ""

    @property
    def label(self) -> bool:
        return self.kind == "supported" if self.labeled is None else self.labeled


class CachedJudge:
    """The judge with a disk cache keyed by (model, judge messages): a re-run after a change of
    the binding or the sets asks the model only about new (evidence, claim) pairs."""

    def __init__(self, llm: LLM, root: Path) -> None:
        self.llm, self.model_id, self.cache = llm, llm.model_id, Cache(root)

    def yes_probability(self, messages: list[dict]) -> float:
        key = hashlib.sha256(json.dumps([self.model_id, messages], ensure_ascii=False).encode()).hexdigest()
        hit = self.cache.get(key)
        if hit is not None:
            return float(hit["p"])
        p = self.llm.yes_probability(messages)
        self.cache.put(key, {"p": p})
        return p


def load_labeled(path: Path = LABELED) -> tuple[list[Path], list[Item]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    corpus = [(Path(path).parent / p).resolve() for p in _as_list(data.get("corpus", []))]
    items = [
        Item(
            str(d["id"]),
            d["kind"],
            d["source"],
            d["claim"],
            None if d.get("label") is None else bool(d["label"]),
            d.get("evidence") or "",
            d.get("note") or "",
        )
        for d in data["items"]
    ]
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
    """One labeled set: every claim through the checker, then the report."""
    corpus, items = load_labeled(path)
    items = items[:limit] if limit else items
    index = index or corpus_index(corpus, settings, runs_dir)
    rows = []
    t0 = time.perf_counter()
    for n, item in enumerate(items, 1):
        sources = Sources.from_index(index, [(_source_key(index, item.source), None)])
        result = check(item.claim, sources, llm, threshold=threshold, settings=settings, judge_all=True)
        # One claim is one sentence; should it split, the weakest sentence decides.
        worst = min(
            result.sentences, key=lambda s: (s.verdict == "supported", s.verdict not in REJECTED, s.score)
        )
        misbound = next(
            (f.binding for s in result.sentences for f in s.figures if f.binding and not f.found), None
        )
        row = {
            "id": item.id,
            "kind": item.kind,
            "label": item.label,
            "score": round(worst.score, 4),
            "verdict": worst.verdict,
            "binding_ok": all(s.verdict not in REJECTED for s in result.sentences),
            "claim": item.claim,
            "evidence": worst.evidence.quote if worst.evidence else None,
            "title": worst.evidence.report_title if worst.evidence else None,
            "binding": misbound.note() if misbound else "",
        }
        rows.append(row)
        if progress:
            progress(n, len(items), row)
    seconds = time.perf_counter() - t0
    out = report(rows, llm.model_id, settings, threshold, seconds)
    out["set"] = Path(path).stem
    return out


def calibrate_sets(
    llm: LLM,
    settings: Settings,
    *,
    sets: dict[str, Path] | None = None,
    runs_dir: Path = RUNS_DIR,
    limit: int | None = None,
    threshold: float = 0.5,
    progress: Callable[[str, int, int, dict], None] | None = None,
    cache: bool = True,
) -> dict:
    """Several labeled sets (default: ``SETS``), each with its own corpus index; judge
    scores are cached under ``runs_dir/judge-cache`` unless ``cache`` is False."""
    out: dict[str, dict] = {}
    llm = CachedJudge(llm, runs_dir / "judge-cache") if cache else llm
    for name, path in (sets or SETS).items():
        step = (lambda n, total, row, name=name: progress(name, n, total, row)) if progress else None
        out[name] = calibrate(
            llm, settings, path=path, runs_dir=runs_dir, limit=limit, threshold=threshold, progress=step
        )
    prompt = judge_prompt(settings)
    return {"sets": out, "model": llm.model_id, "prompt_id": prompt.id, "prompt_hash": prompt.hash}


def _accuracy(rows: list[dict], key: Callable[[dict], bool]) -> float | None:
    return round(sum(key(r) == r["label"] for r in rows) / len(rows), 4) if rows else None


def _rate(rows: list[dict], key: Callable[[dict], bool], label: bool) -> float | None:
    """Share of the rows with ``label`` that ``key`` gets wrong: false accepts among the altered
    claims (label False), false rejects among the faithful ones (label True)."""
    sub = [r for r in rows if r["label"] == label]
    return round(sum(key(r) != label for r in sub) / len(sub), 4) if sub else None


def best_threshold(scores: list[float], labels: list[bool]) -> tuple[float, float]:
    """The cut-off with the highest accuracy on this set (in-sample: optimistic), and that accuracy."""
    best = (0.5, -1.0)
    for t in sorted(set(scores)):
        acc = sum((s >= t) == y for s, y in zip(scores, labels, strict=True)) / len(scores)
        if acc > best[1]:
            best = (t, acc)
    return round(best[0], 4), round(best[1], 4)


def _rates(rows: list[dict], key: Callable[[dict], bool], prefix: str = "") -> dict:
    return {
        f"{prefix}accuracy": _accuracy(rows, key),
        f"{prefix}false_accept_rate": _rate(rows, key, False),
        f"{prefix}false_reject_rate": _rate(rows, key, True),
    }


def report(rows: list[dict], model: str, settings: Settings, threshold: float, seconds: float) -> dict:
    by_score = lambda r: r["score"] >= threshold  # noqa: E731 - a named predicate reads better here
    by_verdict = lambda r: r["verdict"] == "supported"  # noqa: E731
    by_binding = lambda r: r.get("binding_ok", r["verdict"] not in REJECTED)  # noqa: E731
    checker_scores = [r["score"] if r["verdict"] not in REJECTED else 0.0 for r in rows]
    labels = [r["label"] for r in rows]
    prompt = judge_prompt(settings)
    kinds = {}
    for kind in KINDS:
        sub = [r for r in rows if r["kind"] == kind]
        if sub:
            label = sub[0]["label"]
            kinds[kind] = {
                "n": len(sub),
                "judge_accuracy": _accuracy(sub, by_score),
                "checker_accuracy": _accuracy(sub, by_verdict),
                "mean_score": round(sum(r["score"] for r in sub) / len(sub), 4),
                "label": int(label),
                "binding_accuracy": _accuracy(sub, by_binding),
                ("checker_false_reject_rate" if label else "checker_false_accept_rate"): _rate(
                    sub, by_verdict, label
                ),
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
        "checker_false_accept_rate": _rate(rows, by_verdict, False),
        "checker_false_reject_rate": _rate(rows, by_verdict, True),
        "checker_auc": None if checker_auc is None else round(checker_auc, 4),
        **_rates(rows, by_binding, "binding_"),
        "by_kind": kinds,
        "model": model,
        "prompt_id": prompt.id,
        "prompt_hash": prompt.hash,
        "seconds": round(seconds, 2),
        "seconds_per_item": round(seconds / len(rows), 3) if rows else None,
        "items": rows,
    }


def binding_only(path: Path, *, limit: int | None = None) -> dict:
    """The figure binding alone (code, no model, no index) over a labeled set: per item, are all
    figures of the claim bound in its source file? For tests and quick loops."""
    from rag.documents.load import load_document
    from rag.grounding.binding import SourceText, bind_claim, worst_match

    corpus, items = load_labeled(path)
    texts: dict[str, Sequence[SourceText]] = {}
    rows = []
    for item in items[:limit] if limit else items:
        if item.source not in texts:
            file = next(p / item.source for p in corpus if (p / item.source).is_file())
            texts[item.source] = [
                SourceText(r.source, r.text, 0, r.index) for r in load_document(file).reports
            ]
        ok = worst_match(bind_claim(item.claim, texts[item.source])) == "bound"
        rows.append({"id": item.id, "kind": item.kind, "label": item.label, "binding_ok": ok})
    by_binding = lambda r: r["binding_ok"]  # noqa: E731
    kinds = {
        k: {"n": len(sub), **_rates(sub, by_binding)}
        for k in KINDS
        if (sub := [r for r in rows if r["kind"] == k])
    }
    return {"n": len(rows), **_rates(rows, by_binding), "by_kind": kinds, "items": rows}
