"""Brief and draft → .docx (the Markdown rendering is rag/brief/markdown.py).

The .docx follows the usual 公文 manner: title in 方正小标宋简体 二号 centred, level-1 headings
in 黑体 三号, level-2 in 楷体_GB2312 三号, body in 仿宋_GB2312 三号 with a fixed 28 pt line, A4
with 公文 margins, "— n —" page numbers. Fonts are set for East-Asian text (w:eastAsia), and
the font table names a common fallback (w:altName: 宋体/仿宋/楷体) for machines without the
GB2312/方正 fonts, so WPS and Word substitute sensibly instead of falling back to a Latin font.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rag.brief.markdown import (
    ATTENTION,
    SECTIONS,
    TABLE_HEADER,
    check_notes,
    measure_lines,
    point_line,
    subhead,
    table_row,
    to_markdown,
)
from rag.brief.schema import Brief

# role → (font for East-Asian text, fallback named in the font table)
FONTS = {
    "title": ("方正小标宋简体", "宋体"),
    "h1": ("黑体", "SimHei"),
    "h2": ("楷体_GB2312", "楷体"),
    "body": ("仿宋_GB2312", "仿宋"),
}
LATIN_FONT = "Times New Roman"


class ExportError(ValueError):
    pass


# ------------------------------------------------------------------------- docx


def _set_font(target, role: str, size: float, *, bold: bool = False) -> None:
    """Font of a run or style, East-Asian text included (python-docx's font.name sets Latin only)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    target.font.name = LATIN_FONT
    target.font.size = Pt(size)
    target.font.bold = bold
    element = target.element if hasattr(target, "element") else target._r  # a style, or a run
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for theme_attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme_attr), None)  # a theme font would override the names below
    fonts.set(qn("w:eastAsia"), FONTS[role][0])
    fonts.set(qn("w:hint"), "eastAsia")


def _font_fallbacks(document) -> None:
    """Add w:altName fallbacks for the 公文 fonts to the font table."""
    from lxml import etree

    part = next(r.target_part for r in document.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    ns = root.nsmap["w"]
    for name, alt in FONTS.values():
        font = etree.SubElement(root, f"{{{ns}}}font", {f"{{{ns}}}name": name})
        etree.SubElement(font, f"{{{ns}}}altName", {f"{{{ns}}}val": alt})
        etree.SubElement(font, f"{{{ns}}}charset", {f"{{{ns}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{ns}}}family", {f"{{{ns}}}val": "modern"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)  # plain Part


def _styles(document) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt, RGBColor

    normal = document.styles["Normal"]
    _set_font(normal, "body", 16)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28)
    normal.paragraph_format.space_after = Pt(0)
    for name, role in (("Heading 1", "h1"), ("Heading 2", "h2")):
        style = document.styles[name]
        _set_font(style, role, 16)
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(0)


def _page(document) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    footer = section.footer.paragraphs[0]
    footer.alignment = 1  # centred "— n —"
    footer.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)
    footer.add_run(" —")


def _para(
    document_or_cell,
    pairs: Iterable[tuple[str, str]],
    *,
    size: float = 16,
    indent: bool = True,
    lead: str = "",
) -> None:
    """A paragraph of cited points: text in the body font, markers small and grey."""
    from docx.shared import Pt, RGBColor

    p = document_or_cell.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if size != 16:
        p.paragraph_format.line_spacing = Pt(size * 1.5)
    if lead:
        _set_font(p.add_run(lead), "h2", size, bold=True)
    for i, (text, marker) in enumerate(pairs):
        _set_font(p.add_run(("；" if i else "") + text), "body", size)
        if marker:
            run = p.add_run(marker)
            _set_font(run, "body", max(9, size - 6))
            run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)


def _table(document, brief: Brief) -> None:
    from docx.shared import Cm

    table = document.add_table(rows=1, cols=len(TABLE_HEADER))
    table.style = document.styles["Table Grid"]
    widths = (Cm(2.2), Cm(7.2), Cm(3.6), Cm(3.6))
    for cell, head, width in zip(table.rows[0].cells, TABLE_HEADER, widths, strict=True):
        cell.width = width
        cell.paragraphs[0].alignment = 1
        _set_font(cell.paragraphs[0].add_run(head), "h1", 12)
    for s in brief.reports:
        label, data, problems, plans = table_row(s)
        cells = table.add_row().cells
        contents = ([(label, "")], data, [(p, "") for p in problems], [(p, "") for p in plans])
        for cell, pairs, width in zip(cells, contents, widths, strict=True):
            cell.width = width
            cell._tc.remove(cell.paragraphs[0]._p)
            _para(cell, pairs or [("—", "")], size=12, indent=False)


def to_docx(brief: Brief, path: str | Path) -> Path:
    """Write the brief as a .docx; returns the path."""
    import docx
    from docx.shared import Pt

    path = Path(path)
    if path.suffix.lower() != ".docx":
        raise ExportError(f"{path}: 扩展名应为 .docx（Markdown 请用 .md）")
    document = docx.Document()
    _styles(document)
    _font_fallbacks(document)
    _page(document)
    document.core_properties.title = brief.title
    document.core_properties.subject = f"{brief.source}（{len(brief.reports)}篇）"
    title = document.add_paragraph()
    title.alignment = 1
    title.paragraph_format.line_spacing = Pt(36)
    _set_font(title.add_run(brief.title), "title", 22)
    sub = document.add_paragraph()
    sub.alignment = 1
    _set_font(sub.add_run(f"（依据{brief.source}，共{len(brief.reports)}篇）"), "h2", 14)
    document.add_heading(SECTIONS[0], level=1)
    _para(document, [(brief.overview, "")])
    document.add_heading(SECTIONS[1], level=1)
    for n, group in enumerate(brief.themes):
        document.add_heading(f"{subhead(n)}{group.name}", level=2)
        for line in measure_lines(group):
            _para(document, [line])
    for heading, groups in ((SECTIONS[2], brief.problems), (SECTIONS[3], brief.suggestions)):
        document.add_heading(heading, level=1)
        for group in groups:
            lead, pairs = point_line(group)
            _para(document, pairs, lead=f"{lead}：")
    document.add_heading(ATTENTION, level=2)
    for note in brief.attention or ("无",):
        _para(document, [(note, "")])
    document.add_heading(SECTIONS[4], level=1)
    _table(document, brief)
    document.add_heading("附：来源与核对说明", level=1)
    for note in check_notes(brief):
        _para(document, [(note, "")], size=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def write_brief(brief: Brief, path: str | Path) -> Path:
    """.docx or .md by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return to_docx(brief, path)
    if suffix in (".md", ".markdown"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(brief.markdown or to_markdown(brief), encoding="utf-8")
        return path
    raise ExportError(f"{path}: 不支持的输出格式 {suffix or '（无扩展名）'} — 请用 .docx 或 .md")


__all__ = ["ExportError", "to_docx", "to_markdown", "write_brief"]


def draft_to_docx(title: str, text: str, path: str | Path) -> Path:
    """A drafted section as a .docx in the same 公文 styles (placeholders kept visible)."""
    import docx

    path = Path(path)
    document = docx.Document()
    _styles(document)
    _font_fallbacks(document)
    _page(document)
    document.core_properties.title = title
    head = document.add_paragraph()
    head.alignment = 1
    _set_font(head.add_run(title), "title", 22)
    for line in (ln.strip() for ln in text.splitlines()):
        if line:
            _para(document, [(line, "")])
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path
