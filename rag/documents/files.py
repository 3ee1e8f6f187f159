"""Which files to read: document keys, walking folders, the supported types, size checks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.documents.errors import DocumentError

SUPPORTED_SUFFIXES = (
    ".txt",
    ".md",
    ".docx",
    ".pdf",  # a scan (pages without a text layer) is read by OCR
    ".doc",  # old Word and WPS files: converted by LibreOffice (rag.documents.doc_convert)
    ".wps",
    ".png",  # photos and scans of pages: OCR (rag.documents.image_reader)
    ".jpg",
    ".jpeg",
    ".tif",
    ".tiff",
)


def source_key(path: Path) -> str:
    """The document key: cwd-relative posix path when under cwd, else absolute."""
    absolute = Path(os.path.abspath(path))  # abspath, not resolve: keep the user's view of symlinks
    try:
        return absolute.relative_to(os.getcwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _skipped_name(name: str) -> bool:
    # "~$x.docx" are Word's lock files: tiny, never a document.
    return name.startswith((".", "~$"))


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not _skipped_name(name) and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(root) / name


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly (any suffix, so the caller can report it) and supported files in folders."""
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise DocumentError(source_key(path), "路径不存在", "请检查路径拼写，或确认文件已复制到该位置")
        for file in _walk(path) if path.is_dir() else [path]:
            key = os.path.abspath(file)
            if key not in seen:  # the same file named twice is ingested once
                seen.add(key)
                yield file


_SUFFIX_HINTS = {
    ".rtf": "请用 Word 打开后另存为 .docx 再导入",
    ".heic": "请把照片导出为 .jpg 再导入",
    ".webp": "请把图片另存为 .png 或 .jpg 再导入",
    ".bmp": "请把图片另存为 .png 或 .jpg 再导入",
}


def unsupported_type_hint(suffix: str, default: str = "") -> str:
    """What to do with a file of a type we cannot read (.rtf: save it as .docx, …)."""
    fallback = default or "请另存为 " + " / ".join(SUPPORTED_SUFFIXES) + " 之一再导入"
    return _SUFFIX_HINTS.get(suffix.lower(), fallback)


def _size(n: float) -> str:
    if n >= 1048576:
        return f"{n / 1048576:.1f} MB"
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n:.0f} 字节"


def read_checked(path: Path, key: str, max_bytes: int | None) -> bytes:
    if not path.exists():
        raise DocumentError(key, "文件不存在", "请检查路径拼写，或确认文件已复制到该位置")
    if path.is_dir():
        raise DocumentError(key, "这是文件夹，不是文件", "请指定其中的文件，或导入整个文件夹")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        problem = f"不支持的文件类型 {suffix or '（无扩展名）'}"
        raise DocumentError(key, problem, unsupported_type_hint(suffix))
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise DocumentError(
                key,
                f"文件过大（{_size(size)}，上限 {_size(max_bytes)}）",
                "请拆分文件，或调高 RAG_MAX_FILE_MB",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(
            key, f"无法读取文件（{exc.strerror}）", "请检查文件权限，或确认文件未被占用"
        ) from exc
    if not data:
        raise DocumentError(key, "文件是空的（0 字节）", "请确认保存了正确的文件")
    return data
