"""Lines of a page as a PDF text layer or OCR gives them: lines wrapped at the page edge are
rejoined, short lines (titles, headings) kept, page numbers dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.documents.ocr_text import OcrText
from rag.documents.text_lines import SUB_LINE_RE as _SUB_LINE_RE
from rag.documents.text_lines import TOP_RE as _TOP_RE

_PAGE_NUMBER_RE = re.compile(r"^(?:[-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?)$")
_PDF_STOPS = "。！？：；:;"


def reflow_groups(lines: Sequence[str]) -> list[list[int]]:
    """Which lines (by index, stripped) make one line: those the PDF wrapped at the page edge
    are rejoined; short lines (titles, headings) and page numbers (dropped) are not."""
    kept = [(i, line.strip()) for i, line in enumerate(lines)]
    kept = [(i, line) for i, line in kept if line and not _PAGE_NUMBER_RE.match(line)]
    width = max((len(line) for _, line in kept), default=0)
    groups: list[list[int]] = []
    prev = ""  # the line built so far (joined lines included)
    for i, line in kept:
        wrapped = width >= 20 and len(prev) >= width * 0.85 and prev[-1] not in _PDF_STOPS
        if wrapped and not (_TOP_RE.match(line) or _SUB_LINE_RE.match(line)):
            groups[-1].append(i)
            prev += _joiner(prev, line) + line
        else:
            groups.append([i])
            prev = line
    return groups


def _joiner(before: str, after: str) -> str:
    return " " if before[-1].isascii() and after[0].isascii() else ""


def reflow(page: str) -> str:
    """Rejoin lines the PDF wrapped at the page edge; keep short lines (titles, headings)."""
    lines = [line.strip() for line in page.splitlines()]
    out = []
    for group in reflow_groups(lines):
        text = lines[group[0]]
        for i in group[1:]:
            text += _joiner(text, lines[i]) + lines[i]
        out.append(text)
    return "\n".join(out)


def reflow_ocr(lines: Sequence[OcrText]) -> OcrText:
    """``reflow`` for OCR lines: the same joins, confidences carried along."""
    stripped = [_strip(line) for line in lines]
    out = []
    for group in reflow_groups([line.text for line in stripped]):
        joined = stripped[group[0]]
        for i in group[1:]:
            joined = joined + OcrText.plain(_joiner(joined.text, stripped[i].text)) + stripped[i]
        out.append(joined)
    return OcrText.join(out)


def _strip(line: OcrText) -> OcrText:
    text = line.text
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return OcrText(text[start:end], line.conf[start:end])
