"""Brief → Markdown and .docx.

The .docx follows the usual 公文 manner: title in 方正小标宋简体 二号 centred, level-1 headings
in 黑体 三号, level-2 in 楷体_GB2312 三号, body in 仿宋_GB2312 三号 with a fixed 28 pt line, A4
with 公文 margins, "— n —" page numbers. Fonts are set for East-Asian text (w:eastAsia), and
the font table names a common fallback (w:altName: 宋体/仿宋/楷体) for machines without the
GB2312/方正 fonts, so WPS and Word substitute sensibly instead of falling back to a Latin font.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.brief_schema import Brief, Group, Ref, ReportSummary

# role → (font for East-Asian text, fallback named in the font table)
FONTS = {
    "title": ("方正小标宋简体", "宋体"),
    "h1": ("黑体", "SimHei"),
    "h2": ("楷体_GB2312", "楷体"),
    "body": ("仿宋_GB2312", "仿宋"),
}
LATIN_FONT = "Times New Roman"
SECTIONS = ("一、总体情况", "二、主要做法和成效", "三、共性问题", "四、下步工作建议", "五、分人情况一览")
ATTENTION = "需要关注的事项"
TABLE_HEADER = ("职务", "主要成效与数据", "主要问题", "下步重点")
_CN = "一二三四五六七八九十"
_TABLE_ITEMS = 3


class ExportError(ValueError):
    pass


# ------------------------------------------------------------------- shared content


def _subhead(n: int) -> str:
    return f"（{_CN[n]}）" if n < len(_CN) else f"（{n + 1}）"


def _joined(refs: Sequence[Ref], short: bool = False) -> list[tuple[str, str]]:
    """(text, marker) pairs; ``short`` drops the person from the marker (table rows)."""
    out = []
    for ref in refs:
        marker = ref.marker()
        out.append((ref.item.text, marker.replace(f"{ref.report}·", "") if short else marker))
    return out


def measure_lines(group: Group) -> list[tuple[str, str]]:
    """Bullets of a theme: the item, whose it is, and its citation."""
    return [
        (f"{r.item.text}{'（计划/预计数）' if r.item.tentative else ''}（{r.report}）", r.marker())
        for r in group.refs
    ]


def point_line(group: Group) -> tuple[str, list[tuple[str, str]]]:
    """共性问题 / 建议 bullet: its lead (theme and who) and the cited points."""
    lead = f"{group.name}（{'、'.join(group.reports)}）"
    return lead, _joined(group.refs)


def table_row(s: ReportSummary) -> tuple[str, list[tuple[str, str]], list[str], list[str]]:
    data = sorted(s.key_items, key=lambda i: -len(i.figures))[:_TABLE_ITEMS]
    data = sorted(data, key=lambda i: i.start)  # back in reading order
    return (
        s.label,
        _joined([Ref(s.label, i) for i in data], short=True),
        [i.text for i in s.problems],
        [i.text for i in s.plans],
    )


def check_notes(brief: Brief) -> list[str]:
    calls = brief.timing.get("calls", 0)
    return [
        *(
            f"{s.label}：《{s.title}》（{s.source} 第{s.index + 1}篇，全文{s.chars}字已通读）"
            for s in brief.reports
        ),
        f"数据核对：摘出的各条（含未列入正文的）共有数据{brief.figures_checked}项，逐项与所引原句比对，"
        f"未能核实{brief.figures_unsupported}项。模型改写中改动或编造的数据{brief.rewrite_figures_unsupported}项，"
        f"涉及条目已改用原文（共{brief.items_repaired}条），删除{brief.items_dropped}条。",
        f"生成方式：{brief.model}，提示 {brief.prompt_id}@{brief.prompt_hash}，模型调用{calls}次。",
        "标注说明：[职务·部分 起-止] 指该篇报告（清洗后正文）中的字符位置，从0起算，可据此回查原句；"
        "原文中的 *、X 等隐去标记一律以“某”代替，含隐去数据的句子不予采用。",
    ]


# ------------------------------------------------------------------------ Markdown


# Brackets stay: without the parentheses escaped after them no link can form, and the
# citation markers [乡长·履职 12-40] stay readable in the .md file.
_MD_SPECIAL = re.compile(r"([\\`*_()#<>!~:])")


def _md(text: str) -> str:
    """Report text shown literally in Markdown: a table-safe pipe, one line, and no links,
    autolinks, HTML or emphasis from whatever the source document contained."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("|", "｜").replace("\n", " "))


def _cited(pairs: Iterable[tuple[str, str]]) -> str:
    return "；".join(f"{_md(t)}{m}" for t, m in pairs)


def to_markdown(brief: Brief) -> str:
    out = [f"# {brief.title}", "", f"来源：{brief.source}（{len(brief.reports)}篇）", ""]
    out += [f"## {SECTIONS[0]}", "", brief.overview, "", f"## {SECTIONS[1]}", ""]
    for n, group in enumerate(brief.themes):
        out += [f"### {_subhead(n)}{group.name}", ""]
        out += [f"- {_md(t)}{m}" for t, m in measure_lines(group)] + [""]
    out += [f"## {SECTIONS[2]}", ""]
    for group in brief.problems:
        lead, pairs = point_line(group)
        out.append(f"- **{lead}**：{_cited(pairs)}")
    out += ["", f"## {SECTIONS[3]}", ""]
    for group in brief.suggestions:
        lead, pairs = point_line(group)
        out.append(f"- **{lead}**：{_cited(pairs)}")
    out += ["", f"### {ATTENTION}", ""]
    out += [f"- {_md(a)}" for a in brief.attention] or ["- 无"]
    out += ["", f"## {SECTIONS[4]}", "", "| " + " | ".join(TABLE_HEADER) + " |", "| --- | --- | --- | --- |"]
    for s in brief.reports:
        label, data, problems, plans = table_row(s)
        cells = [label, _cited(data) or "—", _md("；".join(problems)) or "—", _md("；".join(plans)) or "—"]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "## 附：来源与核对说明", ""] + [f"- {_md(n)}" for n in check_notes(brief)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- .docx


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
        document.add_heading(f"{_subhead(n)}{group.name}", level=2)
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
