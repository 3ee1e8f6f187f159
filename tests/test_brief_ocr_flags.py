"""A brief of a scanned 汇编: every shown figure carries its own OCR confidence, and one read with
low confidence is flagged in 需要关注的事项 (and counted), never passed as a checked fact."""

from __future__ import annotations

import dataclasses

from rag.brief.summarize import summarize
from rag.documents.load import load_document
from rag.settings import Settings
from tests.test_summarize import SEED, EchoLLM


def _scanned(reports, low: tuple[int, int] | None = None, conf: float = 0.95):
    """The reports as if read by OCR: every character at ``conf``, except ``low`` at 0.41."""
    out = []
    for r in reports:
        n = len(r.text)
        if low and r.index == 0:
            spans = ((0, low[0], conf), (low[0], low[1], 0.41), (low[1], n, conf))
        else:
            spans = ((0, n, conf),)
        out.append(dataclasses.replace(r, ocr_spans=spans))
    return out


def _shown_refs(brief):
    return [f for s in brief.reports for i in s.key_items for f in i.figures]


def test_a_confident_scan_flags_nothing_and_figures_carry_their_confidence() -> None:
    reports = list(load_document(SEED).reports)
    brief = summarize(_scanned(reports), EchoLLM(), Settings())
    refs = _shown_refs(brief)
    assert refs and all(f.ocr_confidence == 0.95 and not f.ocr_low for f in refs)
    assert brief.figures_ocr_low == 0 and not any("OCR" in a for a in brief.attention)


def test_a_figure_read_with_low_confidence_is_flagged_with_its_place() -> None:
    reports = list(load_document(SEED).reports)
    first = next(
        f
        for s in summarize(reports, EchoLLM(), Settings()).reports
        if s.index == 0
        for i in s.key_items
        for f in i.figures
    )
    brief = summarize(_scanned(reports, low=(first.start, first.end)), EchoLLM(), Settings())
    flagged = [f for f in _shown_refs(brief) if f.ocr_low]
    assert [(f.raw, f.start) for f in flagged] == [(first.raw, first.start)]
    assert flagged[0].ocr_confidence == 0.41
    assert brief.figures_ocr_low == 1 and brief.to_json()["figures_ocr_low"] == 1
    note = next(a for a in brief.attention if "OCR" in a)
    assert first.raw in note and "0.41" in note and f"{first.start}-{first.end}" in note
    assert note.split("：")[0] in brief.markdown and "0.41" in brief.markdown  # the reader sees it


def test_the_floor_is_the_setting() -> None:
    reports = list(load_document(SEED).reports)
    brief = summarize(_scanned(reports, conf=0.7), EchoLLM(), Settings(ocr_min_confidence=0.6))
    assert brief.figures_ocr_low == 0
    brief = summarize(_scanned(reports, conf=0.7), EchoLLM(), Settings(ocr_min_confidence=0.75))
    assert brief.figures_ocr_low == len(_shown_refs(brief)) > 0
