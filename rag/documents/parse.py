"""In-memory text → Document: clean, split the 汇编, parse each report."""

from __future__ import annotations

from pathlib import Path

from rag.documents.clean import clean_text
from rag.documents.errors import DocumentError
from rag.documents.noise import strip_site_noise
from rag.documents.reflow import reflow
from rag.documents.skeleton import parse_report
from rag.documents.split import split_reports
from rag.schema import Document

# Bump when parsing changes what a file yields (sections, roles, cleaned text): an index built
# by an older parser re-reads its unchanged files on the next ingest instead of keeping them.
PARSER_VERSION = "3"


def parse_text(
    text: str,
    *,
    source: str,
    path: str = "",
    sha256: str = "",
    fmt: str = "txt",
    encoding: str | None = None,
) -> Document:
    """Clean, split and parse an in-memory text (also what uploads go through).

    Cleaning drops site noise (rag.documents.noise) and puts headings pasted inline on their
    own lines (rag.documents.reflow); the result is the text every offset refers to.
    """
    cleaned = reflow(strip_site_noise(clean_text(text)))
    if not cleaned.strip():
        raise DocumentError(
            source, "清理后没有可用的报告正文", "请确认文件是述职报告正文，而不只是标记或空行"
        )
    stem = Path(path or source).stem
    reports = tuple(
        parse_report(cleaned[start:end], source=source, index=i, title=title)
        for i, (title, start, end) in enumerate(split_reports(cleaned, fallback_title=stem))
    )
    return Document(source, path, sha256, fmt, encoding, reports)
