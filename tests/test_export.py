"""Every .docx the product writes, read back: GB/T 9704 page, margins, line grid, odd/even page
numbers with a PAGE field, fonts per style with fallbacks, the missing-font report; and, when
LibreOffice is installed, the rendered PDF's page numbers where the standard puts them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from rag.brief.summarize import summarize
from rag.deliver.fonts import FONTS, FontReport, font_report
from rag.deliver.gbt9704 import LINE_TWIPS
from rag.export import draft_to_docx, to_docx
from rag.settings import Settings
from tests.test_summarize import SEED, EchoLLM

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DRAFT = (
    "一、存在问题\n（一）安全生产监管有短板\n全年开展安全生产检查26次，但隐患【待补充：隐患数量】。\n"
    "1. 整改\n（1）台账"
)


@pytest.fixture(scope="module")
def brief_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    brief = summarize(SEED, EchoLLM(), Settings(), source_name="乡镇述职汇编2023.txt")
    return to_docx(brief, tmp_path_factory.mktemp("docx") / "brief.docx")


@pytest.fixture(scope="module")
def draft_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return draft_to_docx("副乡长2024年述职报告（存在问题）", DRAFT, tmp_path_factory.mktemp("d") / "d.docx")


@pytest.fixture(params=["brief", "draft"])
def written(request, brief_docx: Path, draft_docx: Path) -> docx.document.Document:
    return docx.Document(str(brief_docx if request.param == "brief" else draft_docx))


def _mm(length) -> float:
    return round(length / Mm(1), 1)


def test_a4_with_the_standard_margins_and_text_block(written) -> None:
    s = written.sections[0]
    assert (_mm(s.page_width), _mm(s.page_height)) == (210.0, 297.0)
    assert _mm(s.top_margin) == 37.0 and _mm(s.left_margin) == 28.0  # 天头, 订口
    block = (
        _mm(s.page_width - s.left_margin - s.right_margin),
        _mm(s.page_height - s.top_margin - s.bottom_margin),
    )
    assert block == (156.0, 225.0)
    settings = written.settings.element
    assert settings.find(qn("w:mirrorMargins")) is not None  # the binding side alternates
    assert settings.find(qn("w:evenAndOddHeaders")) is not None


def test_line_grid_22_lines_of_28_characters(written) -> None:
    grid = written.sections[0]._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines" and int(grid.get(qn("w:linePitch"))) == LINE_TWIPS
    normal = written.styles["Normal"]
    line = normal.paragraph_format.line_spacing
    assert 28 <= line.pt <= 29 and 22 * line <= Mm(225) < 23 * line
    spacing = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20  # pt per character
    assert normal.font.size == Pt(16) and 28 * (16 + spacing) <= Mm(156).pt < 29 * (16 + spacing)


def _footer_runs(footer):
    (p,) = [p for p in footer.paragraphs if p.text.strip()]
    return p, p._p.findall(f"{W}r")


@pytest.mark.parametrize(
    ("which", "align"), [("odd", WD_ALIGN_PARAGRAPH.RIGHT), ("even", WD_ALIGN_PARAGRAPH.LEFT)]
)
def test_page_numbers_odd_right_even_left_one_character_in(written, which: str, align) -> None:
    s = written.sections[0]
    footer = s.footer if which == "odd" else s.even_page_footer
    assert not footer.is_linked_to_previous
    p, runs = _footer_runs(footer)
    assert p.text == "— 1 —" and p.alignment == align
    inner = p.paragraph_format.right_indent if which == "odd" else p.paragraph_format.left_indent
    assert inner == Pt(14)  # 空一字 (one 4号 character)
    chars = [c.get(qn("w:fldCharType")) for r in runs for c in r.findall(f"{W}fldChar")]
    instr = [t.text.strip() for r in runs for t in r.findall(f"{W}instrText")]
    assert chars == ["begin", "separate", "end"] and instr == ["PAGE"]
    for r in runs:  # 4号 half-width 宋体 throughout
        assert r.find(f"{W}rPr/{W}sz").get(qn("w:val")) == "28"
        fonts = r.find(f"{W}rPr/{W}rFonts")
        assert fonts.get(qn("w:eastAsia")) == fonts.get(qn("w:ascii")) == "宋体"
    # The footer line (exact 14 pt) is centred 7 mm below the text block.
    centre = s.footer_distance + Pt(7)
    assert abs(_mm(s.bottom_margin - centre) - 7.0) <= 0.1


@pytest.mark.parametrize(
    ("style", "font", "size"),
    [
        ("Normal", "仿宋_GB2312", 16),
        ("Title", "方正小标宋简体", 22),
        ("Heading 1", "黑体", 16),
        ("Heading 2", "楷体_GB2312", 16),
        ("Heading 3", "仿宋_GB2312", 16),
        ("Heading 4", "仿宋_GB2312", 16),
    ],
)
def test_fonts_per_style(written, style: str, font: str, size: int) -> None:
    s = written.styles[style]
    fonts = s.element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == font
    assert fonts.get(qn("w:eastAsiaTheme")) is None  # a theme font would override the name
    assert s.font.size == Pt(size) and not s.font.bold and not s.font.italic
    assert s.font.color.rgb in (None, RGBColor(0, 0, 0))  # automatic or black, never a theme colour
    if style.startswith("Heading"):
        assert s.paragraph_format.first_line_indent == Pt(32)  # two characters, like the body


def test_font_table_names_a_fallback_for_every_declared_font(written) -> None:
    from lxml import etree

    part = next(r.target_part for r in written.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    alt = {
        f.get(f"{W}name"): f.find(f"{W}altName").get(f"{W}val")
        for f in root
        if f.find(f"{W}altName") is not None
    }
    assert {name: alt.get(name) for name, *_ in FONTS.values()} == {n: a for n, a, _ in FONTS.values()}
    lang = written.styles.element.find(qn("w:docDefaults")).find(f"{W}rPrDefault/{W}rPr/{W}lang")
    assert lang.get(qn("w:eastAsia")) == "zh-CN"  # Simplified glyphs, not the template's ja-JP


def test_title_centred_in_xiaobiaosong(written) -> None:
    title = written.paragraphs[0]
    assert title.style.name == "Title" and title.alignment == 1
    assert title.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"


def test_draft_numbered_lines_become_the_four_heading_levels(draft_docx: Path) -> None:
    d = docx.Document(str(draft_docx))
    styles = {p.text: p.style.name for p in d.paragraphs}
    assert styles["一、存在问题"] == "Heading 1" and styles["（一）安全生产监管有短板"] == "Heading 2"
    assert styles["1. 整改"] == "Heading 3" and styles["（1）台账"] == "Heading 4"
    body = next(p for p in d.paragraphs if "26次" in p.text)
    assert body.style.name == "Normal" and body.paragraph_format.first_line_indent == Pt(32)
    marked = [r.text for r in body.runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]
    assert marked == ["【待补充：隐患数量】"]


def test_missing_fonts_are_reported_with_the_licence_note() -> None:
    report = font_report(frozenset({"黑体", "SimSun", "DejaVu Sans"}))
    assert report.checked and "黑体" not in report.missing and "宋体" not in report.missing  # by any name
    assert set(report.missing) == {"方正小标宋简体", "楷体_GB2312", "仿宋_GB2312"}
    assert "需向字库厂商取得授权" in report.note() and "不附带" in report.note()
    assert font_report(frozenset(n for n, _, _ in FONTS.values())).note() == ""
    assert "未能检查" in FontReport(False, (), {}).note()
    if shutil.which("fc-list"):
        assert font_report().checked  # this machine: fc-list answers


# ------------------------------------------------------------------ rendered (LibreOffice)

SOFFICE = shutil.which("libreoffice") or shutil.which("soffice")


@pytest.mark.skipif(not (SOFFICE and shutil.which("pdftotext")), reason="needs libreoffice and poppler-utils")
def test_rendered_pdf_puts_page_numbers_where_the_standard_does(brief_docx: Path, tmp_path: Path) -> None:
    """Odd pages: number right-aligned one character in from the block's right edge (binding
    left, 28 mm); even pages: left-aligned one character in (binding right, outer 26 mm); the
    一字线 7 mm below the block; 28.95 pt lines."""
    subprocess.run(
        [SOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(brief_docx)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "brief.pdf"
    html = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "2", "-bbox", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    mm = 72 / 25.4
    for n, page in enumerate(html.split("<page ")[1:3], 1):
        words = [
            (float(a), float(b), float(c), float(d), t)
            for a, b, c, d, t in re.findall(
                r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', page
            )
        ]
        number = [w for w in words if w[1] > (37 + 225) * mm]  # below the text block
        assert [w[4] for w in number] == ["—", str(n), "—"]
        left, right = (28 * mm, (28 + 156) * mm) if n % 2 else (26 * mm, (26 + 156) * mm)
        if n % 2:
            assert abs((right - number[-1][2]) - 14) < 2  # one 4号 character in from the right
        else:
            assert abs((number[0][0] - left) - 14) < 2  # one character in from the left
        body = [w for w in words if w not in number]
        assert min(w[0] for w in body) >= left - 1 and max(w[2] for w in body) <= right + 1
        centre = (number[1][1] + number[1][3]) / 2
        below = (centre - (37 + 225) * mm) / mm
        assert 5.5 <= below <= 8.5, below  # about 7 mm below the text block
