"""Text of a PDF page by page: its text layer where it has one, OCR of the rendered page
where it has none (a scan), with page-edge line wraps rejoined and page numbers dropped."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Sequence

import pypdf
from pypdf.errors import DependencyError

from rag.documents.errors import DocumentError
from rag.documents.ocr import OcrOptions, PageProgress, ocr_pages
from rag.documents.ocr_text import MIN_TEXT_CHARS, OcrText
from rag.documents.page_text import reflow as _reflow

# A page whose text layer has fewer visible characters is read by OCR (a scan, or a scan
# with a scanner app's watermark); OCR's text replaces the layer only when it found more.
_MIN_LAYER_CHARS = 20


def _visible_chars(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _open(data: bytes, key: str) -> pypdf.PdfReader:
    reader = pypdf.PdfReader(io.BytesIO(data))
    # Many PDFs are encrypted with an empty user password (only editing is locked).
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentError(
            key,
            "PDF 已加密，需要密码才能打开",
            "请用 PDF 阅读器输入密码后另存为不加密的 PDF，或导出为 .docx",
        )
    return reader


def _text_layer(data: bytes, key: str) -> list[str]:
    try:
        reader = _open(data, key)
        return [_reflow(page.extract_text() or "") for page in reader.pages]
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


def _rendered(data: bytes, numbers: Sequence[int], dpi: int, key: str) -> Iterator:
    """The pages (PIL images) to OCR, rendered one at a time (pdfium is not thread-safe)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise DocumentError(key, "无法渲染 PDF 页面以做文字识别", "请重新导出 PDF 后再导入") from exc
    try:
        for n in numbers:
            page = document[n]
            try:
                yield page.render(scale=dpi / 72).to_pil()
            finally:
                page.close()
    finally:
        document.close()


def read_pdf(
    data: bytes, key: str, ocr: OcrOptions | None = None, progress: PageProgress | None = None
) -> tuple[str, OcrText | None]:
    """The text of every page, and (when a page was read by OCR) the text with per-character
    confidences (None on characters of a text layer)."""
    ocr = ocr or OcrOptions()
    layers = _text_layer(data, key)
    scanned = [i for i, text in enumerate(layers) if _visible_chars(text) < _MIN_LAYER_CHARS]
    pages = [OcrText.plain(text) for text in layers]
    if scanned and ocr.enabled:
        images = _rendered(data, scanned, ocr.dpi, key)
        digest = f"{hashlib.sha256(data).hexdigest()}:{scanned}"
        results = ocr_pages(images, len(scanned), key, ocr, progress or (lambda d, t: None), digest=digest)
        for n, page in zip(scanned, results, strict=True):
            found = page.confident_chars() >= MIN_TEXT_CHARS  # not a blank page or a photo
            if found and _visible_chars(page.text) > _visible_chars(layers[n]):
                pages[n] = page
    kept = [page for page in pages if page.text]
    text = OcrText.join(kept)
    if not text.text.strip():
        if scanned and ocr.enabled:
            raise DocumentError(
                key,
                f"扫描件上没有识别出文字（共 {len(layers)} 页）",
                "请确认扫描件清晰（至少 200 dpi）、页面方向正确，或找到原始的 .docx 文件再导入",
            )
        raise DocumentError(
            key,
            "PDF 没有文字层，可能是扫描件",
            "文字识别（OCR）已关闭（RAG_OCR=off）：设 RAG_OCR=auto 后重新导入，或找到原始的 .docx 文件",
        )
    has_ocr = any(c is not None for c in text.conf)
    return text.text, text if has_ocr else None


def pdf_text(data: bytes, key: str) -> tuple[str, str | None]:
    """The text of a PDF (OCR with the default options where a page has no text layer)."""
    return read_pdf(data, key)[0], None
