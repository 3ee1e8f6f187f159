"""Load one file into a Document, dispatching on its suffix."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

from rag.documents.decode import decode_text
from rag.documents.doc_convert import doc_text
from rag.documents.docx_reader import docx_text
from rag.documents.errors import DocumentError
from rag.documents.files import read_checked, source_key
from rag.documents.image_reader import IMAGE_SUFFIXES, read_image_file
from rag.documents.ocr import OcrOptions, PageProgress
from rag.documents.ocr_text import OcrText, report_spans
from rag.documents.parse import parse_text
from rag.documents.pdf_reader import read_pdf
from rag.schema import Document

# (data, key, ocr options, page progress) → (text, encoding, OCR confidences or None)
Extractor = Callable[[bytes, str, OcrOptions, PageProgress], tuple[str, str | None, OcrText | None]]


def _text_file(data: bytes, key: str, *_: object) -> tuple[str, str | None, None]:
    text, encoding = decode_text(data, key)
    if not text.strip():
        raise DocumentError(key, "文件只有空白字符，没有正文", "请确认保存了正确的文件")
    return text, encoding, None


def _word(data: bytes, key: str, *_: object) -> tuple[str, str | None, None]:
    return (*docx_text(data, key), None)


def _old_word(data: bytes, key: str, *_: object) -> tuple[str, str | None, None]:
    return (*doc_text(data, key), None)


def _pdf(data: bytes, key: str, ocr: OcrOptions, progress: PageProgress) -> tuple[str, None, OcrText | None]:
    text, confidences = read_pdf(data, key, ocr, progress)
    return text, None, confidences


def _image(data: bytes, key: str, ocr: OcrOptions, progress: PageProgress) -> tuple[str, None, OcrText]:
    text, confidences = read_image_file(data, key, ocr, progress)
    return text, None, confidences


_EXTRACTORS: dict[str, Extractor] = {
    "txt": _text_file,
    "md": _text_file,
    "docx": _word,
    "doc": _old_word,
    "wps": _old_word,
    "pdf": _pdf,
    **{suffix.lstrip("."): _image for suffix in IMAGE_SUFFIXES},
}


def _no_progress(done: int, total: int) -> None:
    return None


def load_document(
    path: Path,
    *,
    max_bytes: int | None = None,
    ocr: OcrOptions | None = None,
    progress: PageProgress | None = None,
) -> Document:
    """Load one file into a Document, dispatching on its suffix.

    ``ocr``: how scanned PDF pages and images are read (default: OCR on, see
    rag.documents.ocr); ``progress(done, total)`` is called per OCR page."""
    path = Path(path)
    key = source_key(path)
    data = read_checked(path, key, max_bytes)
    fmt = path.suffix.lower().lstrip(".")
    text, encoding, confidences = _EXTRACTORS[fmt](data, key, ocr or OcrOptions(), progress or _no_progress)
    doc = parse_text(
        text,
        source=key,
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        fmt=fmt,
        encoding=encoding,
    )
    return with_ocr_confidence(doc, confidences) if confidences is not None else doc


def with_ocr_confidence(doc: Document, raw: OcrText) -> Document:
    """The document with each report's ``ocr_spans``: the confidence of every character OCR
    read, found again in the cleaned report text (cleaning drops noise, never rewrites)."""
    spans = report_spans(raw, [r.text for r in doc.reports])
    reports = tuple(dataclasses.replace(r, ocr_spans=s) for r, s in zip(doc.reports, spans, strict=True))
    return dataclasses.replace(doc, reports=reports)
