"""GB/T 9704—2012 page layout for every .docx the product writes (briefs and drafts).

- A4; margins top 37 mm, binding side (订口) 28 mm, so the text block (版心) is 156 × 225 mm:
  bottom 35 mm, outer side 26 mm. Margins are mirrored (odd pages bind left, even pages right),
  as a document printed on both sides is.
- Body 3号 (16 pt) 仿宋_GB2312 on fixed 28.95 pt lines: 22 lines fill the 225 mm block; the
  section declares the same line grid (w:docGrid, 579 twips). Characters are set 0.25 pt
  closer than their size, so 28 full-width characters fit the 156 mm line (28 × 16 pt would not).
- Title 2号 (22 pt) 方正小标宋简体 centred; headings 一、 黑体, （一） 楷体_GB2312, 1. and （1）
  仿宋_GB2312, all 3号, indented two characters like the body (styles Heading 1–4).
- Page numbers 4号 (14 pt) half-width 宋体 "— 1 —" 7 mm below the text block: odd pages
  right-aligned one character in, even pages left-aligned one character in (separate odd and
  even footers, each with a PAGE field).
- Fonts are named for East-Asian text (w:eastAsia, which python-docx's ``font.name`` does not
  set) and the font table names a fallback for each (w:altName), see rag/deliver/fonts.py.
"""

from __future__ import annotations

from rag.deliver.fonts import FONTS

# All lengths in millimetres, points or twips (1/20 pt) as named.
PAGE_MM = (210.0, 297.0)
TOP_MM, BINDING_MM = 37.0, 28.0
BLOCK_MM = (156.0, 225.0)  # 版心 width × height
BOTTOM_MM = PAGE_MM[1] - TOP_MM - BLOCK_MM[1]  # 35
OUTER_MM = PAGE_MM[0] - BINDING_MM - BLOCK_MM[0]  # 26
PAGE_NUMBER_GAP_MM = 7.0  # 一字线 below the text block
BODY_PT = 16.0  # 3号
TITLE_PT = 22.0  # 2号
PAGE_NUMBER_PT = 14.0  # 4号
LINE_TWIPS = 579  # 28.95 pt: 22 lines in 225 mm (637.8 pt)
LINES, CHARS = 22, 28
CHAR_SPACING_TWIPS = -5  # −0.25 pt per character: 28 × 15.75 pt = 441 pt ≤ 156 mm (442.2 pt)
LATIN_FONT = "Times New Roman"
HEADING_ROLES = {"Heading 1": "h1", "Heading 2": "h2", "Heading 3": "body", "Heading 4": "body"}
PAGE_NUMBER_TEXT = ("— ", " —")  # 一字线 either side of the number
# Schema order (python-docx drops its own tables after use): what may follow w:snapToGrid in a
# w:pPr, and w:spacing in a w:rPr.
_PPR_AFTER_SNAP = (
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
    "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
_SETTINGS_AFTER_MIRROR = (
    "w:alignBordersAndEdges", "w:bordersDoNotSurroundHeader", "w:bordersDoNotSurroundFooter",
    "w:gutterAtTop", "w:hideSpellingErrors", "w:hideGrammaticalErrors", "w:activeWritingStyle",
    "w:proofState", "w:formsDesign", "w:attachedTemplate", "w:linkStyles", "w:stylePaneFormatFilter",
    "w:stylePaneSortMethod", "w:documentType", "w:mailMerge", "w:revisionView", "w:trackRevisions",
    "w:doNotTrackMoves", "w:doNotTrackFormatting", "w:documentProtection", "w:autoFormatOverride",
    "w:styleLockTheme", "w:styleLockQFSet", "w:defaultTabStop",
    "w:autoHyphenation", "w:consecutiveHyphenLimit", "w:hyphenationZone", "w:doNotHyphenateCaps",
    "w:showEnvelope", "w:summaryLength", "w:clickAndTypeStyle", "w:defaultTableStyle", "w:evenAndOddHeaders",
)  # fmt: skip
_RPR_AFTER_SPACING = (
    "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd",
    "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish",
    "w:oMath",
)  # fmt: skip


def line_pt() -> float:
    return LINE_TWIPS / 20


def _w(tag: str):
    from docx.oxml import OxmlElement

    return OxmlElement(tag)


def set_font(target, role: str, size: float, *, bold: bool = False, latin: str | None = None) -> None:
    """Font of a run or a style, East-Asian text included; theme fonts removed (they would win)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    name = FONTS[role][0]
    target.font.name = latin or LATIN_FONT
    target.font.size = Pt(size)
    target.font.bold = bold
    element = target.element if hasattr(target, "element") else target._r  # a style, or a run
    fonts = element.get_or_add_rPr().get_or_add_rFonts()
    for theme_attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme_attr), None)
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hint"), "eastAsia")


def no_grid(paragraph) -> None:
    """Keep a paragraph off the document grid (title, tables, footers: other sizes than 3号)."""
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    if ppr.find(qn("w:snapToGrid")) is None:
        snap = _w("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        ppr.insert_element_before(snap, *_PPR_AFTER_SNAP)


def _char_spacing(style, twips: int) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    spacing = rpr.find(qn("w:spacing"))
    if spacing is None:
        spacing = _w("w:spacing")
        rpr.insert_element_before(spacing, *_RPR_AFTER_SPACING)
    spacing.set(qn("w:val"), str(twips))


def _plain(style) -> None:
    """Black, upright, no border: the template's coloured headings are not 公文."""
    from docx.oxml.ns import qn
    from docx.shared import RGBColor

    style.font.color.rgb = RGBColor(0, 0, 0)
    style.font.italic = False
    ppr = style.element.pPr
    if ppr is not None:
        for tag in ("w:pBdr", "w:contextualSpacing"):
            for el in ppr.findall(qn(tag)):
                ppr.remove(el)


def _doc_defaults(document) -> None:
    """Chinese as the East-Asian language (so CJK fonts pick Simplified glyphs), no theme fonts."""
    from docx.oxml.ns import qn

    rpr = document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), FONTS["body"][0])
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:eastAsia"), "zh-CN")
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _styles(document) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    normal = document.styles["Normal"]
    set_font(normal, "body", BODY_PT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(line_pt())
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.widow_control = False  # 公文 lines run to the foot of the block
    _char_spacing(normal, CHAR_SPACING_TWIPS)
    title = document.styles["Title"]
    set_font(title, "title", TITLE_PT)
    _plain(title)
    _char_spacing(title, 0)
    title.paragraph_format.alignment = 1
    title.paragraph_format.line_spacing = Pt(line_pt() * 1.25)
    title.paragraph_format.space_after = Pt(0)
    for name, role in HEADING_ROLES.items():
        style = document.styles[name]
        set_font(style, role, BODY_PT)
        _plain(style)
        f = style.paragraph_format
        f.space_before = f.space_after = Pt(0)
        f.first_line_indent = Pt(BODY_PT * 2)
        f.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        f.line_spacing = Pt(line_pt())


def _font_table(document) -> None:
    """Name each 公文 font with a fallback (w:altName) in the font table, once."""
    from lxml import etree

    part = next(r.target_part for r in document.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    ns = root.nsmap["w"]
    present = {f.get(f"{{{ns}}}name") for f in root}
    for name, alt, _ in FONTS.values():
        if name in present:
            continue
        font = etree.SubElement(root, f"{{{ns}}}font", {f"{{{ns}}}name": name})
        etree.SubElement(font, f"{{{ns}}}altName", {f"{{{ns}}}val": alt})
        etree.SubElement(font, f"{{{ns}}}charset", {f"{{{ns}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{ns}}}family", {f"{{{ns}}}val": "modern" if name != "黑体" else "swiss"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)  # plain Part


def _settings(document) -> None:
    from docx.oxml.ns import qn

    document.settings.odd_and_even_pages_header_footer = True
    settings = document.settings.element
    if settings.find(qn("w:mirrorMargins")) is None:
        settings.insert_element_before(_w("w:mirrorMargins"), *_SETTINGS_AFTER_MIRROR)


def _page_field(paragraph) -> None:
    """A PAGE field (begin / instrText / separate / "1" / end): Word and LibreOffice fill it in."""
    from docx.oxml.ns import qn

    for kind, text in (
        ("begin", None),
        ("instr", " PAGE "),
        ("separate", None),
        ("shown", "1"),
        ("end", None),
    ):
        run = paragraph.add_run()
        set_font(run, "page", PAGE_NUMBER_PT, latin=FONTS["page"][0])
        if kind == "instr":
            instr = _w("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind == "shown":
            run.text = text
        else:
            char = _w("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)


def _page_number(footer, *, odd: bool) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt

    footer.is_linked_to_previous = False
    p = footer.paragraphs[0]
    for run in list(p.runs):
        p._p.remove(run._r)
    no_grid(p)
    f = p.paragraph_format
    f.alignment = WD_ALIGN_PARAGRAPH.RIGHT if odd else WD_ALIGN_PARAGRAPH.LEFT
    f.first_line_indent = Pt(0)
    f.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    f.line_spacing = Pt(PAGE_NUMBER_PT)
    # 空一字: one 4号 character in from the text block's edge.
    f.left_indent, f.right_indent = (Pt(0), Pt(PAGE_NUMBER_PT)) if odd else (Pt(PAGE_NUMBER_PT), Pt(0))
    for i, dash in enumerate(PAGE_NUMBER_TEXT):
        if i:
            _page_field(p)
        set_font(p.add_run(dash), "page", PAGE_NUMBER_PT, latin=FONTS["page"][0])


def _section(section) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Emu, Mm, Pt

    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(TOP_MM), Mm(BOTTOM_MM)
    section.left_margin, section.right_margin = Mm(BINDING_MM), Mm(OUTER_MM)  # inside / outside
    section.gutter = Mm(0)
    section.header_distance = Mm(15)
    # The footer line (4号, exact 14 pt) is centred 7 mm below the block: its bottom edge sits
    # 7 mm + half a line above the block's lower edge, measured from the bottom of the page.
    section.footer_distance = Emu(Mm(BOTTOM_MM - PAGE_NUMBER_GAP_MM) - Pt(PAGE_NUMBER_PT / 2))
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = _w("w:docGrid")
        section._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_TWIPS))
    _page_number(section.footer, odd=True)  # the default footer is the odd pages'
    _page_number(section.even_page_footer, odd=False)


def apply_layout(document) -> None:
    """Page, margins, grid, styles, fonts and page numbers of GB/T 9704 on a new python-docx Document."""
    _doc_defaults(document)
    _styles(document)
    _font_table(document)
    _settings(document)
    for section in document.sections:
        _section(section)


def title_paragraph(document, text: str):
    """The document title: 2号小标宋, centred, off the grid."""
    p = document.add_paragraph(style="Title")
    p.alignment = 1  # also on the paragraph: readers that ignore styles still centre it
    no_grid(p)
    set_font(p.add_run(text), "title", TITLE_PT)
    return p


__all__ = [
    "BINDING_MM",
    "BLOCK_MM",
    "BODY_PT",
    "LINE_TWIPS",
    "PAGE_MM",
    "TOP_MM",
    "apply_layout",
    "line_pt",
    "no_grid",
    "set_font",
    "title_paragraph",
]
