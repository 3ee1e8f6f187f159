"""Summarize a 汇编 into a leader's brief where every figure is traceable.

load → split into reports (rag.documents, every report read in full) → map: code picks the
figure-bearing sentences of each report (rag.brief.extract), the model condenses the most
data-bearing ones in small batches (prompts/summarize_item/<variant>.yaml) → verify: a rewrite
whose figures are not all in its own source sentence is repaired from that sentence
(rag.brief.verify) → reduce: themes across people, 共性问题, 建议, per-person table
(rag.brief.reduce) → Markdown (rag.brief.markdown; .docx in rag.export).

``summarize()`` takes a progress callback ``progress(stage, done, total)``;
``summarize_iter()`` yields the same progress as events, then the Brief (for a UI).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.brief.extract import candidates, pick_key, report_labels
from rag.brief.map import CONDENSE_OVER, Plan, Progress, batches, run_map, summarize_report
from rag.brief.ocr_flags import flag_ocr_figures
from rag.brief.reduce import assign_themes, attention, measure_groups, overview, plan_groups, problem_groups
from rag.brief.schema import Brief
from rag.brief.verify import final_check
from rag.documents.load import load_document
from rag.documents.ocr import OcrOptions
from rag.llm.base import LLM
from rag.prompts import load_prompt
from rag.schema import Report
from rag.settings import Settings

__all__ = ["ProgressEvent", "SummarizeError", "summarize", "summarize_iter"]

TASK = "summarize_item"


class SummarizeError(ValueError):
    """Input that cannot be summarized; the message says what to do."""


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # "reports" (map, one step per report) or "reduce"
    done: int
    total: int


# --------------------------------------------------------------------------- input


def _common_topic(titles: Sequence[str]) -> str:
    """Longest substring shared by all titles (抓基层党建工作), for the brief's title."""
    first = min(titles, key=len)
    for size in range(len(first), 3, -1):
        for i in range(len(first) - size + 1):
            part = first[i : i + size]
            if all(part in t for t in titles) and not any(ch.isdigit() for ch in part):
                return part
    return ""


def _title(reports: Sequence[Report]) -> str:
    years = {r.year for r in reports if r.year}
    year = f"{years.pop()}年度" if len(years) == 1 else ""
    topic = _common_topic([r.title for r in reports]).removesuffix("述职报告").lstrip("年度")
    return f"{year}{topic}述职报告汇编综述"


def load_reports(
    path_or_reports: str | Path | Sequence[Report],
    settings: Settings,
    source_name: str | None = None,
    progress: Progress | None = None,
) -> tuple[str, list[Report]]:
    """(source, reports) from a file path or from reports already parsed (e.g. from the index).

    ``source_name`` is the name the user gave the document (an upload's own file name): the
    brief, its citations and every export name the source by it, never by the path it was
    read from (a temporary upload path means nothing to a reader)."""
    if isinstance(path_or_reports, str | Path):
        doc = load_document(
            Path(path_or_reports),
            max_bytes=int(settings.max_file_mb * 1048576),
            ocr=OcrOptions.from_settings(settings),  # a scanned 汇编 is read as ingest reads it
            progress=(lambda done, total: progress("pages", done, total)) if progress else None,
        )
        source, reports = doc.source, list(doc.reports)
    else:
        reports = list(path_or_reports)
        source = "、".join(dict.fromkeys(r.source for r in reports))
    if source_name:
        reports = [dataclasses.replace(r, source=source_name) for r in reports]
        source = source_name
    return source, reports


def _check_compilation(source: str, reports: Sequence[Report], min_reports: int) -> None:
    if len(reports) < min_reports:
        raise SummarizeError(
            f"{source}: 只找到 {len(reports)} 篇报告，不是汇编 — 汇编中每篇报告应以标题行开头"
            "（如“篇1：乡长2023年度…述职报告”，或单独一行以“述职报告”结尾的标题）；"
            "单篇报告请用 rag ask / rag draft"
        )


# ----------------------------------------------------------------------------- map


# ---------------------------------------------------------------------------- public


def summarize(
    path_or_reports: str | Path | Sequence[Report],
    llm: LLM,
    settings: Settings,
    *,
    progress: Progress | None = None,
    concurrency: int = 1,
    variant: str = "default",
    max_items: int = 5,
    condense_over: int = CONDENSE_OVER,
    min_reports: int = 2,
    source_name: str | None = None,
) -> Brief:
    """A leader's brief of a 汇编 (a path) or of several parsed reports.

    ``max_items``: key items per report the brief shows (the rest stay in the JSON, verbatim);
    the model condenses those longer than ``condense_over`` characters. ``concurrency``:
    parallel model calls for an endpoint that allows them; the embedded llama.cpp model is
    always called one at a time. ``source_name``: how the brief names its source (an upload's
    original file name); by default the document key the file was read by."""
    from rag.brief.markdown import to_markdown

    t0 = time.perf_counter()
    report_progress = progress or (lambda stage, done, total: None)
    source, reports = load_reports(path_or_reports, settings, source_name, report_progress)
    _check_compilation(source, reports, min_reports)
    prompt = load_prompt(settings, TASK, variant)
    plans = []
    for report, label in zip(reports, report_labels(reports), strict=True):
        cands = candidates(report)
        plans.append(Plan(report, label, cands, pick_key(cands, max_items)))
    usage = run_map(plans, batches(plans, settings, condense_over), llm, prompt, report_progress, concurrency)
    t_map = time.perf_counter()
    report_progress("reduce", 0, 1)
    built = [summarize_report(p) for p in plans]
    checked = final_check(assign_themes(s) for s, _, _ in built)
    summaries, ocr_notes = flag_ocr_figures(checked.summaries, reports, settings.ocr_min_confidence)
    themes, problems = measure_groups(summaries), problem_groups(summaries)
    notes = [*attention(summaries, problems), *ocr_notes]
    brief = Brief(
        title=_title(reports),
        source=source,
        overview=overview(summaries, themes, problems),
        reports=summaries,
        themes=themes,
        problems=problems,
        suggestions=plan_groups(summaries),
        attention=tuple(notes),
        figures_checked=checked.figures_checked,
        figures_unsupported=checked.figures_unsupported,
        rewrite_figures_unsupported=sum(b for _, b, _ in built),
        items_repaired=sum(r for _, _, r in built),
        items_dropped=checked.dropped,
        figures_ocr_low=len(ocr_notes),
        prompt_id=prompt.id,
        prompt_hash=prompt.hash,
        model=llm.model_id,
        timing={
            "map_s": round(t_map - t0, 3),
            "total_s": round(time.perf_counter() - t0, 3),
            **usage,
        },
    )
    brief = dataclasses.replace(brief, markdown=to_markdown(brief))
    report_progress("reduce", 1, 1)
    return brief


def summarize_iter(
    path_or_reports: str | Path | Sequence[Report], llm: LLM, settings: Settings, **kwargs
) -> Iterator[ProgressEvent | Brief]:
    """For a UI: yields ProgressEvent per report as the map step advances, then the Brief.

    Runs ``summarize`` in a worker thread; an error there is raised here."""
    events: queue.Queue = queue.Queue()
    result: dict = {}

    def work() -> None:
        try:
            result["brief"] = summarize(
                path_or_reports, llm, settings, progress=lambda *a: events.put(ProgressEvent(*a)), **kwargs
            )
        except BaseException as exc:  # handed to the consumer thread
            result["error"] = exc
        finally:
            events.put(None)

    threading.Thread(target=work, name="summarize", daemon=True).start()
    while (event := events.get()) is not None:
        yield event
    if "error" in result:
        raise result["error"]
    yield result["brief"]
