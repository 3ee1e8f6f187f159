"""Text of a PDF's text layer, with page-edge line wraps rejoined and page numbers dropped."""

from __future__ import annotations

import io
import re

import pypdf
from pypdf.errors import DependencyError

from rag.documents.errors import DocumentError
from rag.documents.text_lines import SUB_LINE_RE as _SUB_LINE_RE
from rag.documents.text_lines import TOP_RE as _TOP_RE

_PAGE_NUMBER_RE = re.compile(r"^(?:[-—–\s]*\d+[-—–\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?)$")
_PDF_STOPS = "。！？：；:;"


def _reflow(page: str) -> str:
    """Rejoin lines the PDF wrapped at the page edge; keep short lines (titles, headings)."""
    lines = [line.strip() for line in page.splitlines()]
    lines = [line for line in lines if line and not _PAGE_NUMBER_RE.match(line)]
    width = max((len(line) for line in lines), default=0)
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        wrapped = width >= 20 and len(prev) >= width * 0.85 and prev[-1] not in _PDF_STOPS
        if wrapped and not (_TOP_RE.match(line) or _SUB_LINE_RE.match(line)):
            out[-1] = prev + (" " if prev[-1].isascii() and line[0].isascii() else "") + line
        else:
            out.append(line)
    return "\n".join(out)


def pdf_text(data: bytes, key: str) -> tuple[str, str | None]:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        # Many PDFs are encrypted with an empty user password (only editing is locked).
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(
                key,
                "PDF 已加密，需要密码才能打开",
                "请用 PDF 阅读器输入密码后另存为不加密的 PDF，或导出为 .docx",
            )
        pages = [_reflow(page.extract_text() or "") for page in reader.pages]
    except DocumentError:
        raise
    except DependencyError as exc:
        raise DocumentError(
            key, "PDF 已加密，解密需要 cryptography 库", "请安装 cryptography 后重试"
        ) from exc
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise DocumentError(
            key, "文件损坏，无法作为 .pdf 打开", "请重新导出 PDF，或另存为 .docx 后再导入"
        ) from exc
    text = "\n".join(page for page in pages if page)
    if not text.strip():
        raise DocumentError(
            key, "PDF 没有文字层，可能是扫描件", "请先做文字识别（OCR），或找到原始的 .docx 文件再导入"
        )
    return text, None
