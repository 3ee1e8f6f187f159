"""Brief and draft → the files people receive: .docx (GB/T 9704 layout, rag/deliver/gbt9704.py)
with an evidence table appended, the evidence table alone as .xlsx/.csv (送审包), and .md.

The Markdown rendering of a brief is rag/brief/markdown.py; its evidence rows are
rag/brief/evidence.py; a draft's are rag/deliver/draft_evidence.py. Every file names its
sources by the name the user gave them (the uploaded file's name, the document's key).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from rag.brief.evidence import COLUMNS as BRIEF_COLUMNS
from rag.brief.evidence import EvidenceRow, brief_evidence
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
from rag.deliver.draft_evidence import PLACEHOLDER_COLUMNS, DraftEvidence, from_result, report_evidence
from rag.deliver.errors import ExportError
from rag.deliver.fonts import FontReport, font_report
from rag.deliver.gbt9704 import BODY_PT, apply_layout, set_font, title_paragraph
from rag.deliver.tables import TABLE_SUFFIXES, docx_table, write_table
from rag.grounding.draft_guard import PLACEHOLDER

BRIEF_EVIDENCE_TITLE = "附：数据核对表（送审包）"
DRAFT_EVIDENCE_TITLE = "附：起草依据核对表"
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_H3 = re.compile(r"^\d{1,2}[.．](?!\d)")
_H4 = re.compile(r"^[（(]\d{1,2}[）)]")
_HEADING_LINE = 40  # a numbered line this short, without a full stop inside, is a heading


# ------------------------------------------------------------------------- docx parts


def _new_document(title: str, subject: str = ""):
    import docx

    document = docx.Document()
    apply_layout(document)
    document.core_properties.title = title
    document.core_properties.subject = subject
    title_paragraph(document, title)
    return document


def _para(
    document_or_cell,
    pairs: Iterable[tuple[str, str]],
    *,
    size: float = BODY_PT,
    indent: bool = True,
    lead: str = "",
) -> None:
    """A paragraph of cited points: text in the body font, markers small and grey."""
    from docx.shared import Pt, RGBColor

    p = document_or_cell.add_paragraph()
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if size != BODY_PT:
        p.paragraph_format.line_spacing = Pt(size * 1.5)
    if lead:
        _set_lead(p, lead, size)
    for i, (text, marker) in enumerate(pairs):
        set_font(p.add_run(("；" if i else "") + text), "body", size)
        if marker:
            run = p.add_run(marker)
            set_font(run, "body", max(9, size - 6))
            run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)


def _set_lead(p, lead: str, size: float) -> None:
    set_font(p.add_run(lead), "h2", size, bold=True)


def _person_table(document, brief: Brief) -> None:
    from docx.shared import Mm

    table = document.add_table(rows=1, cols=len(TABLE_HEADER))
    table.style = document.styles["Table Grid"]
    widths = (Mm(22), Mm(70), Mm(32), Mm(32))  # 156 mm: the text block
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # w:gridCol: LibreOffice and WPS lay the table out from it
    for cell, head, width in zip(table.rows[0].cells, TABLE_HEADER, widths, strict=True):
        cell.width = width
        cell.paragraphs[0].alignment = 1
        set_font(cell.paragraphs[0].add_run(head), "h1", 12)
    for s in brief.reports:
        label, data, problems, plans = table_row(s)
        cells = table.add_row().cells
        contents = ([(label, "")], data, [(p, "") for p in problems], [(p, "") for p in plans])
        for cell, pairs, width in zip(cells, contents, widths, strict=True):
            cell.width = width
            cell._tc.remove(cell.paragraphs[0]._p)
            _para(cell, pairs or [("—", "")], size=12, indent=False)


def _appendix_heading(document, text: str) -> None:
    """A level-1 heading that starts a new page (no empty paragraph that could add a blank page)."""
    document.add_heading(text, level=1).paragraph_format.page_break_before = True


def _brief_evidence_cells(n: int, row: EvidenceRow) -> dict[str, str]:
    """The .docx table's shorter cells: the .xlsx/.csv keep every column (positions per figure,
    the file of each report); here the file is named once, in 附：来源与核对说明."""
    figures = "\n".join(f.raw for f in row.figures) or "—"  # one a line: the column is narrow
    return {
        "序号": str(n),
        "综述表述": f"{row.statement}\n（{row.place}）",
        "出处": f"{row.report}·{row.section}\n第{row.report_index + 1}篇 {row.start}-{row.end}",
        "原句": row.quote,
        "数据与结论": f"{figures}\n{row.verdict}",
        "核对": "",
    }


_BRIEF_DOCX_COLUMNS = ("序号", "综述表述", "出处", "原句", "数据与结论", "核对")
_BRIEF_DOCX_WIDTHS = (9, 44, 22, 47, 22, 12)  # mm, 156 in all
_DRAFT_DOCX_WIDTHS = (9, 40, 16, 42, 19, 18, 12)
_REPORT_DOCX_WIDTHS = (9, 14, 36, 14, 38, 17, 16, 12)  # with the 部分 column of a whole report
_SIGNATURE = re.compile(r"^(述职人|汇报人|报告人)[：:]")
_PLACEHOLDER_DOCX_WIDTHS = (9, 45, 18, 30, 34, 20)


def _evidence_intro(document, text: str) -> None:
    _para(document, [(text, "")], size=12)


def to_docx(brief: Brief, path: str | Path, *, evidence: bool = True) -> Path:
    """Write the brief as a .docx (the evidence table appended unless ``evidence=False``)."""
    path = Path(path)
    if path.suffix.lower() != ".docx":
        raise ExportError(f"{path}: 扩展名应为 .docx（Markdown 请用 .md）")
    document = _new_document(brief.title, f"{brief.source}（{len(brief.reports)}篇）")
    sub = document.add_paragraph()
    sub.alignment = 1
    set_font(sub.add_run(f"（依据{brief.source}，共{len(brief.reports)}篇）"), "h2", BODY_PT)
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
    _person_table(document, brief)
    document.add_heading("附：来源与核对说明", level=1)
    for note in check_notes(brief):
        _para(document, [(note, "")], size=12)
    if evidence:
        rows = brief_evidence(brief)
        _appendix_heading(document, BRIEF_EVIDENCE_TITLE)
        _evidence_intro(
            document,
            f"综述中每条有出处的表述一行（共{len(rows)}行）：“原句”是该篇报告（清洗后正文）第“起-止”字"
            "（从0起算）的原文；“数据与结论”列出表述中的数据及其与原句逐项比对的结论；“核对”栏留给审核人。"
            "各数据在原句中的位置见同名核对表（.xlsx/.csv）。",
        )
        cells = [_brief_evidence_cells(n, r) for n, r in enumerate(rows, 1)]
        docx_table(document, _BRIEF_DOCX_COLUMNS, cells, _BRIEF_DOCX_WIDTHS)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# ------------------------------------------------------------------------ evidence files


def brief_evidence_table(brief: Brief) -> tuple[str, Sequence[str], list[dict[str, str]]]:
    return ("数据核对表", BRIEF_COLUMNS, [r.cells(n) for n, r in enumerate(brief_evidence(brief), 1)])


def write_brief_evidence(brief: Brief, path: str | Path) -> Path:
    """The brief's evidence table as .xlsx (with a 说明 sheet) or .csv."""
    notes = [brief.title, f"来源：{brief.source}（{len(brief.reports)}篇）", *check_notes(brief)]
    return write_table(path, [brief_evidence_table(brief)], notes)


def write_brief(brief: Brief, path: str | Path) -> Path:
    """.docx, .md, or the evidence table (.xlsx/.csv) by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return to_docx(brief, path)
    if suffix in (".md", ".markdown"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(brief.markdown or to_markdown(brief), encoding="utf-8")
        return path
    if suffix in TABLE_SUFFIXES:
        return write_brief_evidence(brief, path)
    raise ExportError(
        f"{path}: 不支持的输出格式 {suffix or '（无扩展名）'} — 请用 .docx 或 .md（核对表用 .xlsx/.csv）"
    )


def draft_tables(evidence: DraftEvidence) -> list[tuple[str, Sequence[str], list[dict[str, str]]]]:
    return [
        ("起草依据", evidence.columns, [r.cells(n) for n, r in enumerate(evidence.rows, 1)]),
        ("待补充", PLACEHOLDER_COLUMNS, [p.cells(n) for n, p in enumerate(evidence.open_placeholders, 1)]),
    ]


def write_draft_evidence(evidence: DraftEvidence, path: str | Path) -> Path:
    """A draft's evidence as .xlsx (sentences, and open placeholders on their own sheet) or .csv
    (the sentences; their 待补充 column names every open placeholder)."""
    notes = [evidence.title, f"待补充 {len(evidence.open_placeholders)} 处", _DRAFT_NOTE]
    return write_table(path, draft_tables(evidence), notes)


_DRAFT_NOTE = (
    "来源类型：用户事实 = 用户在事实栏给出的内容；范文句式 = 借用了同类报告的表述方式（已注明出处，"
    "不含其数据）；待补充 = 没有依据的数字、人名、地名已换成【待补充：…】，须由本人填写；"
    "行文 = 不含具体数据的一般表述。"
)


# ---------------------------------------------------------------------------- drafts


def _heading_style(line: str) -> tuple[str | None, str]:
    """(style, the heading part) of a numbered line; a long line keeps its text as body."""
    for style, pattern in (("Heading 1", _H1), ("Heading 2", _H2), ("Heading 4", _H4), ("Heading 3", _H3)):
        if pattern.match(line):
            inner = line.rstrip("。；;")
            if len(line) <= _HEADING_LINE and not re.search(r"[。！？]", inner):
                return style, line
            return None, ""
    return None, ""


def _text_runs(p, text: str) -> None:
    """Body text with placeholders highlighted, so nobody signs a 【待补充】 unnoticed."""
    from docx.enum.text import WD_COLOR_INDEX

    pos = 0
    for m in PLACEHOLDER.finditer(text):
        if m.start() > pos:
            set_font(p.add_run(text[pos : m.start()]), "body", BODY_PT)
        run = p.add_run(m.group())
        set_font(run, "body", BODY_PT)
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        pos = m.end()
    if pos < len(text):
        set_font(p.add_run(text[pos:]), "body", BODY_PT)


def draft_to_docx(title: str, text: str, path: str | Path, *, evidence: DraftEvidence | None = None) -> Path:
    """A drafted section as a .docx in the GB/T 9704 layout: numbered lines 一、/（一）/1./（1）
    as headings, placeholders kept visible; ``evidence`` appends its tables."""
    from docx.shared import Pt

    path = Path(path)
    if path.suffix.lower() != ".docx":
        raise ExportError(f"{path}: 扩展名应为 .docx")
    document = _new_document(title)
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        style, _ = _heading_style(line)
        if style:
            document.add_heading(line, level=int(style[-1]))
            continue
        p = document.add_paragraph()
        if _SIGNATURE.match(line):  # the signer's line of a whole report stands right
            p.alignment = 2
        else:
            p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
        _text_runs(p, line)
    if evidence is not None:
        _appendix_heading(document, DRAFT_EVIDENCE_TITLE)
        _evidence_intro(document, _DRAFT_NOTE + "“核对”栏留给审核人填写。")
        (_, columns, rows), (_, ph_columns, ph_rows) = draft_tables(evidence)
        widths = _REPORT_DOCX_WIDTHS if len(columns) == len(_REPORT_DOCX_WIDTHS) else _DRAFT_DOCX_WIDTHS
        docx_table(document, columns, rows, widths)
        document.add_heading(f"待补充事项（{len(ph_rows)}处）", level=2)
        if ph_rows:
            docx_table(document, ph_columns, ph_rows, _PLACEHOLDER_DOCX_WIDTHS)
        else:
            _para(document, [("无", "")])
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


# ---------------------------------------------------------------------------- packages


def file_stem(title: str, default: str = "导出") -> str:
    """A file name from a title: no path separators or characters Windows refuses."""
    stem = _UNSAFE_FILE_CHARS.sub("_", title).strip(" ._")[:80]
    return stem or default


def write_brief_package(brief: Brief, out_dir: str | Path) -> dict[str, Path]:
    """The brief as .docx (evidence appended) and .md, and its evidence as .xlsx and .csv."""
    out_dir = Path(out_dir)
    stem = file_stem(brief.title, "综述")
    return {
        "docx": to_docx(brief, out_dir / f"{stem}.docx"),
        "md": write_brief(brief, out_dir / f"{stem}.md"),
        "xlsx": write_brief_evidence(brief, out_dir / f"{stem}（核对表）.xlsx"),
        "csv": write_brief_evidence(brief, out_dir / f"{stem}（核对表）.csv"),
    }


def draft_title(role: str, section: str, year: int | None) -> str:
    return f"{role}{f'{year}年' if year else ''}述职报告（{section}）"


def write_draft_package(result, out_dir: str | Path, title: str = "") -> dict[str, Path]:
    """A DraftResult (or its JSON) as .docx with its evidence appended, and the evidence as
    .xlsx and .csv."""
    request = result.get("request", {}) if isinstance(result, dict) else result.request
    if not title:
        get = request.get if isinstance(request, dict) else lambda k: getattr(request, k)
        title = draft_title(get("role") or "", get("section") or "", get("year"))
    evidence = from_result(result, title)
    text = result["text"] if isinstance(result, dict) else result.text
    out_dir = Path(out_dir)
    stem = file_stem(title, "草稿")
    return {
        "docx": draft_to_docx(title, text, out_dir / f"{stem}.docx", evidence=evidence),
        "xlsx": write_draft_evidence(evidence, out_dir / f"{stem}（核对表）.xlsx"),
        "csv": write_draft_evidence(evidence, out_dir / f"{stem}（核对表）.csv"),
    }


def write_report_package(report, out_dir: str | Path, title: str = "") -> dict[str, Path]:
    """A whole report (rag/drafting/report.py ReportResult or its JSON) as .docx, headings
    一、… per section and the closing lines, with the evidence of every section appended; the
    evidence as .xlsx and .csv."""
    get = report.get if isinstance(report, dict) else lambda k, d=None: getattr(report, k, d)
    title = title or get("title") or "述职报告"
    text = get("text") or ""
    if not text.strip():
        raise ExportError("整篇报告没有正文：请先起草")
    evidence = report_evidence(report, title)
    out_dir = Path(out_dir)
    stem = file_stem(title, "述职报告")
    return {
        "docx": draft_to_docx(title, text, out_dir / f"{stem}.docx", evidence=evidence),
        "xlsx": write_draft_evidence(evidence, out_dir / f"{stem}（核对表）.xlsx"),
        "csv": write_draft_evidence(evidence, out_dir / f"{stem}（核对表）.csv"),
    }


def fonts_note(report: FontReport | None = None) -> str:
    """Which declared fonts this machine lacks, and why they are not bundled ("" when none)."""
    return (report or font_report()).note()


__all__ = [
    "ExportError",
    "draft_title",
    "draft_to_docx",
    "file_stem",
    "fonts_note",
    "to_docx",
    "to_markdown",
    "write_brief",
    "write_brief_evidence",
    "write_brief_package",
    "write_draft_evidence",
    "write_draft_package",
    "write_report_package",
]
