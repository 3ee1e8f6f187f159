"""What the OCR and .doc tests need: Tesseract with Chinese data, LibreOffice, a CJK font.

scripts/setup.sh installs them (Debian packages) when it runs as root, so in CI they are
there: a test that needs one fails when it is missing on a root machine (set-up was skipped
or broke) and is skipped, with the reason printed, only where it cannot be installed.
"""

from __future__ import annotations

import os

import pytest

from rag.bench.scans import cjk_font_path
from rag.documents import ocr
from rag.documents.doc_convert import PACKAGE as LIBREOFFICE_PACKAGE
from rag.documents.doc_convert import converter

REPORT = (
    "乡长2023年述职报告\n"
    "一、履职情况\n"
    "（一）抓基础设施。全年新修通村公路7.8公里，帮扶困难群众46户，完成投资179.25万元，"
    "群众满意率明显提升。\n"
    "（二）抓安全生产。全年开展安全生产检查26次，排查整改隐患45处，没有发生一起安全事故。\n"
    "二、存在问题\n"
    "一是项目推进还不够快，二是群众参与度不高，需要进一步加强宣传发动工作。\n"
    "三、下步打算\n"
    "下一步，我将继续抓好道路建设和安全生产，不断提高群众满意度。\n"
)


def _missing(what: str, packages: str) -> None:
    reason = f"{what} 不可用（需要 Debian 包 {packages}，bash scripts/setup.sh 以 root 运行时安装）"
    if os.geteuid() == 0:
        pytest.fail(f"{reason}：本机是 root，set-up 本应装好它 — 请运行 bash scripts/setup.sh")
    print(f"SKIP: {reason}")
    pytest.skip(reason)


def require_tesseract() -> None:
    problem = ocr.missing()
    if problem:
        _missing(f"OCR（{problem}）", ocr.PACKAGES)
    if cjk_font_path() is None:
        _missing("中文字体", "fonts-noto-cjk")


def require_libreoffice() -> None:
    if converter() is None:
        _missing("LibreOffice（soffice）", LIBREOFFICE_PACKAGE)
