"""Structure-aware chunking of parsed reports.

A chunk is one paragraph of a section (a heading-only line is merged into the
paragraph after it, a short paragraph into its neighbour), split further on
sentence ends only when too long. Every chunk is an exact slice of the report
text, so a citation can show the precise span.

Why not LangChain's RecursiveCharacterTextSplitter: it does not know the
一、/（一）/一是 skeleton, so chunks would straddle sections and lose their
section type and heading path, and its ``start_index`` is found by searching,
which is ambiguous for the repeated boilerplate these reports are full of.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from rag.documents.ocr_text import span_confidence
from rag.schema import Chunk, Report, Section

_SENTENCE = re.compile(r"[^。！？；!?;]*(?:[。！？；!?;]+[”」』）)]*|$)")
_BLANK = re.compile(r"\S")


def chunk_id(source: str, report_index: int, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\x1f{report_index}\x1f{start}\x1f{end}\x1f{text}".encode())
    return digest.hexdigest()[:24]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) so it neither starts nor ends with whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Non-blank lines of text[start:end] as trimmed spans."""
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        s, e = _trim(text, pos, line_end)
        if s < e:
            yield s, e
        pos = line_end + 1


def _is_heading_only(text: str, start: int, end: int, max_len: int = 40) -> bool:
    """A short line with no sentence end is a heading to merge with what follows."""
    line = text[start:end]
    return len(line) <= max_len and not re.search(r"[。！？；]", line)


def _merge_paragraphs(text: str, spans: list[tuple[int, int]], min_chars: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for s, e in spans:
        if pending is not None:
            s = pending[0]
            pending = None
        if _is_heading_only(text, s, e) or e - s < min_chars:
            pending = (s, e)
            continue
        merged.append((s, e))
    if pending is not None:
        if merged and pending[1] - pending[0] < min_chars:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Split a span on sentence ends into pieces of at most max_chars."""
    if end - start <= max_chars:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cur_start = start
    cur_end = start
    for m in _SENTENCE.finditer(text, start, end):
        if m.start() == m.end():
            continue
        s_end = m.end()
        if cur_end > cur_start and s_end - cur_start > max_chars:
            pieces.append(_trim(text, cur_start, cur_end))
            cur_start = cur_end
        # One sentence longer than the limit (a pasted page without 。！？；): cut it at the
        # limit, or a single chunk could hold megabytes that no embedder reads past 512 tokens.
        while s_end - cur_start > max_chars:
            pieces.append(_trim(text, cur_start, cur_start + max_chars))
            cur_start += max_chars
        cur_end = s_end
    if cur_end > cur_start:
        pieces.append(_trim(text, cur_start, cur_end))
    return [p for p in pieces if p[0] < p[1]]


def _heading_path(section: Section, pos: int) -> tuple[str, ...]:
    path = [section.heading] if section.heading else []
    for sub in section.subsections:
        if sub.start <= pos < sub.end and sub.heading:
            path.append(f"{sub.marker}{sub.heading}")
            break
    return tuple(path)


def _section_body(report: Report, section: Section) -> tuple[int, int]:
    """The section without its heading line (the heading lives in heading_path)."""
    start = section.start
    if section.heading and report.text.startswith(section.heading, start):
        start += len(section.heading)
    return start, section.end


def chunk_report(report: Report, *, max_chars: int = 360, min_chars: int = 40) -> list[Chunk]:
    text = report.text
    chunks: list[Chunk] = []
    for section in report.sections:
        body_start, body_end = _section_body(report, section)
        spans = _merge_paragraphs(text, list(_paragraphs(text, body_start, body_end)), min_chars)
        for para_start, para_end in spans:
            for s, e in _split_long(text, para_start, para_end, max_chars):
                piece = text[s:e]
                if not _BLANK.search(piece):
                    continue
                chunks.append(
                    Chunk(
                        chunk_id=chunk_id(report.source, report.index, s, e, piece),
                        text=piece,
                        source=report.source,
                        report_index=report.index,
                        report_title=report.title,
                        year=report.year,
                        role=report.role,
                        level=report.level,
                        section=section.kind,
                        heading_path=_heading_path(section, s),
                        start=s,
                        end=e,
                        redacted=_has_redaction(piece),
                        ocr_confidence=span_confidence(report.ocr_spans, s, e),
                    )
                )
    return chunks


_REDACTION = re.compile(r"\*+|(?<![A-Za-z])[Xx]{1,}(?![A-Za-z])")


def _has_redaction(text: str) -> bool:
    return bool(_REDACTION.search(text))
