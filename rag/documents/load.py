"""Load one file into a Document, dispatching on its suffix."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.documents.decode import decode_text
from rag.documents.docx_reader import docx_text
from rag.documents.errors import DocumentError
from rag.documents.files import read_checked, source_key
from rag.documents.parse import parse_text
from rag.documents.pdf_reader import pdf_text
from rag.schema import Document


def _text_file(data: bytes, key: str) -> tuple[str, str | None]:
    text, encoding = decode_text(data, key)
    if not text.strip():
        raise DocumentError(key, "文件只有空白字符，没有正文", "请确认保存了正确的文件")
    return text, encoding


_EXTRACTORS = {"txt": _text_file, "md": _text_file, "docx": docx_text, "pdf": pdf_text}


def load_document(path: Path, *, max_bytes: int | None = None) -> Document:
    """Load one file into a Document, dispatching on its suffix."""
    path = Path(path)
    key = source_key(path)
    data = read_checked(path, key, max_bytes)
    fmt = path.suffix.lower().lstrip(".")
    text, encoding = _EXTRACTORS[fmt](data, key)
    return parse_text(
        text,
        source=key,
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        fmt=fmt,
        encoding=encoding,
    )
