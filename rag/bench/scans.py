"""Report text rendered as scans: page images (PIL and a CJK font from fonts-noto-cjk) and an
image-only PDF of them, for the OCR benchmark and the OCR tests."""

from __future__ import annotations

import io
import shutil
import subprocess
import textwrap
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

A4_INCHES = (8.27, 11.69)


@cache
def cjk_font_path() -> Path | None:
    """A Simplified-Chinese font file (Noto Sans/Serif CJK SC from fonts-noto-cjk)."""
    if shutil.which("fc-match"):
        out = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}", "Noto Serif CJK SC:lang=zh-cn"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        path = Path(out.split("|")[0]) if out else None
        if path and path.is_file() and "CJK" in path.name:
            return path
    for candidate in Path("/usr/share/fonts").rglob("Noto*CJK*Regular*.tt[cf]"):
        return candidate
    return None


def _font(px: int) -> ImageFont.FreeTypeFont:
    path = cjk_font_path()
    if path is None:
        raise RuntimeError("没有中文字体：请安装 Debian 包 fonts-noto-cjk（bash scripts/setup.sh 会安装）")
    if path.suffix == ".ttc":  # a collection: pick its Simplified-Chinese face
        for index in range(10):
            font = ImageFont.truetype(str(path), px, index=index)
            if font.getname()[0].endswith(" SC"):
                return font
    return ImageFont.truetype(str(path), px)


def render_pages(
    text: str, *, dpi: int = 200, size_pt: float = 14, chars_per_line: int = 32, scanned: bool = False
) -> list[Image.Image]:
    """A4 pages of ``text`` (paragraphs wrapped at ``chars_per_line``), black on white;
    ``scanned`` adds what a scanner adds: a slight tilt, blur, noise and a red 公章 ring."""
    width, height = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
    px = int(size_pt / 72 * dpi)
    font = _font(px)
    margin, step = dpi, int(px * 1.6)
    lines = [line for para in text.split("\n") for line in (textwrap.wrap(para, chars_per_line) or [""])]
    per_page = max(1, (height - 2 * margin) // step)
    pages = []
    for start in range(0, max(len(lines), 1), per_page):
        page = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(page)
        for i, line in enumerate(lines[start : start + per_page]):
            draw.text((margin, margin + i * step), line, font=font, fill="black")
        if scanned:
            page = _scan_look(page, dpi)
        pages.append(page)
    return pages


def _scan_look(page: Image.Image, dpi: int) -> Image.Image:
    import numpy as np

    draw = ImageDraw.Draw(page)
    r = int(0.8 * dpi)
    cx, cy = page.width - 2 * dpi, page.height - 2 * dpi
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(210, 30, 30), width=max(2, dpi // 30))
    page = page.rotate(0.6, expand=False, fillcolor="white").filter(ImageFilter.GaussianBlur(0.8))
    noise = np.random.default_rng(0).normal(0, 18, (page.height, page.width, 1))
    return Image.fromarray((np.asarray(page, dtype=np.float32) + noise).clip(0, 255).astype("uint8"))


def image_pdf(pages: Sequence[Image.Image], dpi: int = 200) -> bytes:
    """An image-only PDF (no text layer), as a scanner writes one."""
    buffer = io.BytesIO()
    first, *rest = [p.convert("RGB") for p in pages]
    first.save(buffer, format="PDF", resolution=dpi, save_all=True, append_images=rest)
    return buffer.getvalue()


def png(page: Image.Image) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, format="PNG")
    return buffer.getvalue()
