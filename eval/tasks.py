"""Run one cell (case × prompt variant) of a task and observe it.

An observation is a JSON-able dict: ``text`` (what assertions read), ``output`` (a compact
copy of the chain's result), ``metrics`` (numbers, see eval.metrics) and ``check`` (the
checker's verdict counts). Observations are what the cache stores.
"""

from __future__ import annotations

import inspect
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eval.metrics import (
    citation_problems,
    figures_against,
    first_relevant_rank,
    has_figure,
    recall_and_mrr,
    redaction_marks,
    structure_counts,
    unlisted_placeholders,
)
from eval.scripted import CountingLLM
from eval.suite import Case, Suite
from rag.grounding.check import Sources, check
from rag.grounding.citations import split_sentences, strip_citations
from rag.grounding.draft_guard import PLACEHOLDER
from rag.index.index import Index
from rag.llm.base import LLM
from rag.settings import Settings

if TYPE_CHECKING:
    from rag.drafting.section import DraftRequest

PASSAGE_CHARS = 300  # passages are kept short in run files; the index holds the full text


@dataclass
class Cell:
    suite: Suite
    case: Case
    variant: str
    settings: Settings
    index: Index
    llm: CountingLLM
    judge: LLM | None  # None: the checker scores by overlap


def error_obs(message: str) -> dict:
    return {"error": message, "text": "", "output": {}, "metrics": {}, "check": {}}


def run_cell(cell: Cell) -> dict:
    runner = {"ask": _ask, "draft": _draft, "summarize": _summarize}[cell.case.task]
    cell.llm.reset()
    t0 = time.perf_counter()
    obs = runner(cell)
    obs["metrics"].update(
        {
            "prompt_tokens": cell.llm.prompt_tokens,
            "completion_tokens": cell.llm.completion_tokens,
            "llm_calls": cell.llm.calls,
            "total_s": round(time.perf_counter() - t0, 3),
        }
    )
    return obs


def _report_text(index: Index):
    """report_text(source, i) that also accepts another spelling of a stored source (a key
    made from another working directory, an absolute path): the index resolves it."""
    from rag.index.index import IndexError_

    def lookup(source: str, report_index: int) -> str | None:
        try:
            return index.store.report_text(index.resolve_source(source), report_index)
        except IndexError_:
            return None

    return lookup


def _check_metrics(cell: Cell, text: str, sources: Sources) -> tuple[dict, dict]:
    result = check(text, sources, cell.judge, settings=cell.settings)
    metrics = {
        "figures_checked": result.figures_checked,
        "unsupported_figures": result.figures_checked - result.figures_found,
        # of those, figures the sources give for another subject or with another qualifier
        "figures_misbound": result.figures_misbound,
        "figure_precision": result.figure_precision,
        "support_rate": result.support_rate,
        "check_s": round(result.seconds, 3),
    }
    summary = {
        "judge": result.judge,
        "counts": {
            v: result.count(v) for v in ("supported", "unsupported", "figure_misbound", "figure_mismatch")
        },
        "sentences": [
            {"text": s.text, "verdict": s.verdict, "score": round(s.score, 3)} for s in result.sentences
        ],
    }
    return metrics, summary


def _ask(cell: Cell) -> dict:
    from rag.ask import ask

    case = cell.case
    t0 = time.perf_counter()
    result = ask(
        cell.index, cell.llm, case.question or "", k=cell.suite.k, where=case.where, variant=cell.variant
    )
    latency = time.perf_counter() - t0
    data = result.to_json()
    passages = [
        {k: p[k] for k in ("source", "report_index", "report_title", "start", "end", "score")}
        | {"text": p["text"]}
        for p in data["passages"]
    ]
    recall, mrr = recall_and_mrr(first_relevant_rank(passages, case.expect_source, case.expect_passage))
    sentences = [s["text"] for s in data["sentences"]]
    n_cit, problems = citation_problems(data["citations"], sentences, cell.index.store.report_text)
    reports = sorted({(p.chunk.source, p.chunk.report_index) for p in result.passages})
    check_m, check_s = _check_metrics(cell, result.answer, Sources.from_index(cell.index, reports))
    for p in passages:
        p["text"] = p["text"][:PASSAGE_CHARS]
    return {
        "text": result.answer,
        "output": {
            "answer": result.answer,
            "citations": data["citations"],
            "passages": passages,
            "unsupported": data["unsupported"],
            "prompt_id": result.prompt_id,
            "prompt_hash": result.prompt_hash,
            "model": result.model,
        },
        "metrics": {
            "recall_at_k": recall,
            "mrr": mrr,
            "citations": n_cit,
            "citation_problems": problems,
            "latency_s": round(latency, 3),
            **check_m,
        },
        "check": check_s,
    }


def _draft(cell: Cell) -> dict:
    from rag.drafting.section import DraftRequest, draft

    case = cell.case
    req = DraftRequest(
        role=case.role or "",
        section=case.section or "",
        year=case.year,
        topic=case.topic,
        facts=tuple(case.facts),
        length=case.length,
    )
    t0 = time.perf_counter()
    result = draft(cell.index, cell.llm, req, variant=cell.variant)
    latency = time.perf_counter() - t0
    data = result.to_json()
    text = result.text
    # The user's facts (and the year asked for) are the only legitimate source of figures.
    checked, missing = figures_against(
        PLACEHOLDER.sub("", text), [*case.facts, f"{case.year}年" if case.year else ""]
    )
    # Exemplar citations point at borrowed phrasing, not figures: check offsets only.
    n_cit, problems = citation_problems(data["citations"], [], cell.index.store.report_text)
    counts = structure_counts(text)
    structure_ok = {"enum": counts["enum"] >= 2, "numbered": counts["numbered"] >= 2}
    structure_ok["any"] = structure_ok["enum"] or structure_ok["numbered"]
    return {
        "text": text,
        "output": {
            "text": text,
            "raw_text": result.raw_text,
            "placeholders": data["placeholders"],
            "citations": data["citations"],
            "style": result.style,
            "exemplars": [f"{p.chunk.report_title} {p.chunk.start}-{p.chunk.end}" for p in result.exemplars],
            "plan": data["plan"],
            "inventions": data["inventions"],
            "copies_removed": data["copies_removed"],
            "prompt_id": result.prompt_id,
            "prompt_hash": result.prompt_hash,
            "model": result.model,
        },
        "metrics": {
            "figures_checked": checked,
            "unsupported_figures": len(missing),
            "unsupported_list": missing,
            "figure_precision": (checked - len(missing)) / checked if checked else None,
            "citations": n_cit,
            "citation_problems": problems,
            "citations_duplicated": len(data["citations"]) - len({c["chunk_id"] for c in data["citations"]}),
            "structure": counts,
            "structure_ok": structure_ok,
            "redaction_marks": redaction_marks(text),
            "placeholders": len(data["placeholders"]),
            "placeholders_unlisted": unlisted_placeholders(text, data["placeholders"]),
            "latency_s": round(latency, 3),
            **draft_checks(cell.index, req, text),
        },
        "check": {},
    }


def draft_checks(index: Index, req: DraftRequest, text: str) -> dict:
    """Issue 17's checks of a draft, measured here on the final text (not read from the draft's
    own report): facts used as given, invented incidents/outcomes, the longest run copied from a
    single past report of the corpus, length within the corpus' range, points on the topic."""
    from rag.drafting.copying import corpus_reports, longest_copy
    from rag.drafting.facts import facts_unused
    from rag.drafting.incidents import find_inventions
    from rag.drafting.plan import on_topic
    from rag.drafting.style import section_profile

    profile = section_profile(index, req.kind, req.role)
    chars = len(re.sub(r"\s", "", text))
    hi = max(profile.max_kind, profile.floor)
    points = [line for line in text.split("\n") if line.strip()]
    # a point carrying a user's fact is on the user's topic by the user's choice
    own = [p for p in points if any(f.strip() and f.strip().rstrip("。") in p for f in req.facts)]
    off = [p for p in points if p not in own and not on_topic(p, req.topic)] if req.topic else []
    invented = find_inventions(text, req.facts, req.kind)
    return {
        "facts_total": len([f for f in req.facts if f.strip()]),
        "facts_unused": facts_unused(req.facts, text),
        "invented_incidents": len(invented),
        "invented_list": invented,
        "longest_copy": longest_copy(text, corpus_reports(index), req.facts).to_json(),
        "length": {"chars": chars, "min": profile.floor, "max": hi, "in_range": profile.floor <= chars <= hi},
        "topic_ok": (len(off) <= len(points) // 3) if req.topic else None,
        "off_topic": off,
    }


def _quoted_items(obj: object, where: tuple[str, int] | None = None) -> list[dict]:
    """Every item of a brief that carries a quote, with the (source, report index) of the
    report summary it sits in (any nesting)."""
    if isinstance(obj, list):
        return [d for v in obj for d in _quoted_items(v, where)]
    if not isinstance(obj, dict):
        return []
    if isinstance(obj.get("source"), str) and isinstance(obj.get("index", obj.get("report_index")), int):
        where = (obj["source"], obj.get("index", obj.get("report_index")))
    found = []
    if where and {"quote", "start", "end"} <= set(obj):
        found.append({"source": where[0], "report_index": where[1]} | obj)
    # "skipped" items (a redacted figure) are never presented, so they are no claims.
    return found + [d for k, v in obj.items() if k != "skipped" for d in _quoted_items(v, where)]


def _summarize(cell: Cell) -> dict:
    try:
        from rag.brief.summarize import summarize  # issue 5, built in parallel
    except ImportError:
        return error_obs("rag.summarize 尚不可用（issue 5）")
    case = cell.case
    path = cell.suite.resolve(case.file or "")
    kwargs = {"variant": cell.variant} if "variant" in inspect.signature(summarize).parameters else {}
    t0 = time.perf_counter()
    brief = summarize(path, cell.llm, cell.settings, **kwargs)
    latency = time.perf_counter() - t0
    data = brief.to_json()
    text = data.get("brief_markdown", "")
    covered = [kf for kf in case.key_figures if has_figure(text, kf)]
    items = _quoted_items(data.get("reports", []))
    claims = [strip_citations(str(d.get("text") or "")) for d in items]
    cites = [d | {"sentence": i} for i, d in enumerate(items)]
    n_cit, problems = citation_problems(cites, claims, _report_text(cell.index))
    # The brief's claims are its items (the markdown adds counts and span references).
    sources = Sources.from_index(cell.index, [(cell.index.resolve_source(str(path)), None)])
    check_m, check_s = _check_metrics(cell, "\n".join(c.rstrip("。") + "。" for c in claims if c), sources)
    return {
        "text": text,
        "output": {k: data.get(k) for k in ("figures_checked", "figures_unsupported", "items_dropped")}
        | {
            "prompt_id": data.get("prompt_id"),
            "prompt_hash": data.get("prompt_hash"),
            "model": data.get("model"),
        },
        "metrics": {
            "key_figure_coverage": len(covered) / len(case.key_figures) if case.key_figures else None,
            "key_figures_missing": [kf for kf in case.key_figures if kf not in covered],
            "citations": n_cit,
            "citation_problems": problems,
            "sentences": len(split_sentences(text)),
            "latency_s": round(latency, 3),
            **check_m,
        },
        "check": check_s,
    }


def summarize_files(suite: Suite) -> list[Path]:
    return [suite.resolve(c.file) for c in suite.cases if c.task == "summarize" and c.file]
