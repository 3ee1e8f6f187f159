"""Typed records that flow documents → chunks → index → retrieval → chains.

All are frozen dataclasses: cheap to build in bulk (ingest makes thousands) and
trivially turned into JSON with :func:`dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.documents.simplify import to_simplified

# Section kinds of the fixed 述职报告 skeleton.
SECTION_KINDS = ("前言", "履职", "问题", "原因", "打算", "结语", "其他")


@dataclass(frozen=True, slots=True)
class Subsection:
    """A （一）/ 1. / 一是 block inside a top section; offsets into Report.text."""

    marker: str  # "（一）", "1.", "一是"
    heading: str  # the heading phrase, up to the first 。 (may be empty)
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Section:
    """A top-level 一、二、三、 section (or the preamble before the first one)."""

    kind: str  # one of SECTION_KINDS
    heading: str  # full heading line, e.g. "二、存在问题及原因分析"
    start: int
    end: int
    subsections: tuple[Subsection, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    """One 述职报告. ``text`` is the cleaned report text every offset refers to."""

    title: str
    text: str
    source: str  # document key (see rag.documents.source_key)
    index: int  # position of the report inside its file, from 0
    year: int | None
    role: str | None
    level: str | None
    sections: tuple[Section, ...]
    # Redaction marks (**, *, X) stand for removed names/figures: never facts.
    redaction_count: int = 0
    # Text read by OCR (a scan, a photo): (start, end, confidence 0..1) runs of ``text``;
    # empty for text from a text layer or a file.
    ocr_spans: tuple[tuple[int, int, float], ...] = ()

    @property
    def redacted(self) -> bool:
        return self.redaction_count > 0


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded file: its identity, format and the reports found in it."""

    source: str
    path: str
    sha256: str
    format: str  # "txt", "md", "docx", "pdf", "doc", "wps", "png", "jpg", "jpeg", "tif", "tiff"
    encoding: str | None
    reports: tuple[Report, ...]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable span of one report. ``text == report.text[start:end]``."""

    chunk_id: str
    text: str
    source: str
    report_index: int
    report_title: str
    year: int | None
    role: str | None
    level: str | None
    section: str  # section kind
    heading_path: tuple[str, ...]
    start: int
    end: int
    redacted: bool = False
    # Mean OCR confidence (0..1) of the chunk's characters read by OCR; None: no OCR.
    ocr_confidence: float | None = None

    def header(self) -> str:
        """Contextual header prepended for embedding and keyword indexing."""
        parts = [self.report_title, *self.heading_path]
        return " > ".join(p for p in parts if p)

    def embedding_text(self) -> str:
        """What is embedded: header and text, simplified (繁體 reports meet 简体 queries)."""
        return to_simplified(f"{self.header()}\n{self.text}")


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    keyword_rank: int | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        c = self.chunk
        return {
            "chunk_id": c.chunk_id,
            "text": c.text,
            "score": round(self.score, 6),
            "source": c.source,
            "report_title": c.report_title,
            "report_index": c.report_index,
            "year": c.year,
            "role": c.role,
            "level": c.level,
            "section": c.section,
            "heading_path": list(c.heading_path),
            "start": c.start,
            "end": c.end,
            "redacted": c.redacted,
            "ocr_confidence": c.ocr_confidence,
            "dense_rank": self.dense_rank,
            "keyword_rank": self.keyword_rank,
        }
