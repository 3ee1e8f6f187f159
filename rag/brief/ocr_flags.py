"""Figures of a brief read by OCR: each gets its own confidence, and a low one is flagged.

A scanned 汇编 is read by Tesseract; a figure it read with little confidence (6 seen as 8) must
not reach a leader as a checked fact. The brief's verification (``verify.py``) proves a figure
stands in its quote; it cannot know the quote itself was misread. So every shipped figure is
looked up in its report's ``ocr_spans`` (the same per-character confidences ``rag check`` and
``ask`` use), and one below ``Settings.ocr_min_confidence`` is marked on its FigureRef and named
in 需要关注的事项, with its place in the report, for the reader to check against the original.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.brief.schema import Item, ReportSummary
from rag.documents.ocr_text import figure_confidence, is_low
from rag.schema import Report


def _flag_item(item: Item, spans: Sequence[tuple[int, int, float]], floor: float) -> Item:
    refs = tuple(
        ref.model_copy(update={"ocr_confidence": conf, "ocr_low": is_low(conf, floor)})
        for ref in item.figures
        for conf in [figure_confidence(spans, ref.start, ref.end)]
    )
    return item.model_copy(update={"figures": refs})


def flag_ocr_figures(
    summaries: Sequence[ReportSummary], reports: Sequence[Report], floor: float
) -> tuple[tuple[ReportSummary, ...], list[str]]:
    """(summaries with OCR confidences on their figures, a 需要关注 note per low-confidence figure)."""
    spans = {(r.source, r.index): r.ocr_spans for r in reports if r.ocr_spans}
    out, notes = [], []
    for s in summaries:
        report_spans = spans.get((s.source, s.index))
        if not report_spans:
            out.append(s)
            continue
        groups = {
            name: tuple(_flag_item(i, report_spans, floor) for i in getattr(s, name))
            for name in ("items", "problems", "plans")
        }
        for item in (*groups["items"], *groups["problems"], *groups["plans"]):
            if item.kind == "成效" and not item.key:
                continue  # not shown in the brief
            for ref in item.figures:
                if ref.ocr_low:
                    notes.append(
                        f"{s.label}：“{ref.raw}”由 OCR 识别，置信度 {ref.ocr_confidence:.2f}，偏低，"
                        f"未经核实：请对照原件第 {ref.start}-{ref.end} 字处"
                    )
        out.append(s.model_copy(update=groups))
    return tuple(out), notes
