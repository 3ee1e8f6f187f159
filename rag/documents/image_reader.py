"""Text of a picture of report pages (a phone photo, a scan saved as .png/.jpg/.tif) by OCR;
every frame of a multi-page TIFF is a page."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

from rag.documents.errors import DocumentError
from rag.documents.ocr import OcrOptions, PageProgress, ocr_pages
from rag.documents.ocr_text import MIN_TEXT_CHARS, OcrText

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")


def _open(data: bytes, key: str):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Image.DecompressionBombError as exc:
        raise DocumentError(
            key, "图片像素过多，可能不是正常的页面照片", "请缩小图片（如长边 4000 像素）后再导入"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DocumentError(key, "文件损坏，无法作为图片打开", "请重新拍摄或导出图片后再导入") from exc
    return image


def _frames(image) -> Iterator:
    for n in range(getattr(image, "n_frames", 1)):
        image.seek(n)
        yield image.copy()


def read_image_file(
    data: bytes, key: str, ocr: OcrOptions | None = None, progress: PageProgress | None = None
) -> tuple[str, OcrText]:
    """The text OCR reads in the picture's pages, with its per-character confidences."""
    ocr = ocr or OcrOptions()
    if not ocr.enabled:
        raise DocumentError(
            key, "图片需要文字识别（OCR），但 OCR 已关闭（RAG_OCR=off）", "设 RAG_OCR=auto 后重新导入"
        )
    image = _open(data, key)
    total = getattr(image, "n_frames", 1)
    digest = hashlib.sha256(data).hexdigest()
    pages = ocr_pages(
        _frames(image), total, key, ocr, progress or (lambda d, t: None), what="图片", digest=digest
    )
    kept = [page for page in pages if page.confident_chars() >= MIN_TEXT_CHARS]
    if not kept:
        raise DocumentError(
            key,
            "图片上没有识别出文字",
            "请确认图片是报告页面的照片或扫描件（文字清晰、方向正确、光线均匀）再导入",
        )
    text = OcrText.join(kept)
    return text.text, text
