"""Evidence tables as files (.xlsx with openpyxl, .csv from the standard library) and inside a
.docx (GB/T 9704 fonts, header row repeated on every page, the 核对 column left empty).

A table is ``(sheet name, columns, rows)`` with each row a mapping column → text; a workbook
may hold several (a draft's sentences and its open placeholders). A .csv holds the first.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from rag.deliver.errors import ExportError
from rag.deliver.gbt9704 import no_grid, set_font

Table = tuple[str, Sequence[str], Sequence[Mapping[str, str]]]
REVIEW_COLUMN = "核对"
TABLE_SUFFIXES = (".xlsx", ".csv")
_WIDE = {"综述表述", "原句", "草稿句子", "依据", "核对的数据", "数据核对", "所在句"}


def _csv(path: Path, table: Table) -> None:
    _, columns, rows = table
    # utf-8-sig: Excel and WPS open the file as UTF-8 instead of guessing GBK.
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)


def _xlsx(path: Path, tables: Sequence[Table], notes: Sequence[str]) -> None:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise ExportError(
            f"{path}: 写 .xlsx 需要 openpyxl — 请运行 .venv/bin/python -m pip install openpyxl，或改用 .csv"
        ) from None
    book = Workbook()
    book.remove(book.active)
    for name, columns, rows in tables:
        sheet = book.create_sheet(name[:31])
        sheet.append(list(columns))
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
        for i, column in enumerate(columns, 1):
            letter = get_column_letter(i)
            sheet.column_dimensions[letter].width = 48 if column in _WIDE else max(8, 2 * len(column) + 4)
            sheet[f"{letter}1"].font = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                cell.alignment = wrap
        if REVIEW_COLUMN in columns:  # the reviewer's column stands out, and stays empty
            col = list(columns).index(REVIEW_COLUMN) + 1
            fill = PatternFill("solid", fgColor="FFF2CC")
            for (cell,) in sheet.iter_rows(min_col=col, max_col=col):
                cell.fill = fill
            sheet.column_dimensions[get_column_letter(col)].width = 12
        sheet.freeze_panes = "B2"
        sheet.auto_filter.ref = sheet.dimensions
    if notes:
        info = book.create_sheet("说明")
        for note in notes:
            info.append([note])
        info.column_dimensions["A"].width = 120
    book.save(str(path))


def write_table(path: str | Path, tables: Sequence[Table], notes: Sequence[str] = ()) -> Path:
    """.xlsx (every table a sheet, plus a 说明 sheet of ``notes``) or .csv (the first table)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise ExportError(f"{path}: 核对表只支持 .xlsx 或 .csv（不是 {suffix or '无扩展名'}）")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _csv(path, tables[0])
    else:
        _xlsx(path, tables, notes)
    return path


def docx_table(
    document,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    widths_mm: Sequence[float],
    *,
    size: float = 10.5,
):
    """A bordered table in the body font at ``size`` pt, its header row repeated on each page."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.shared import Mm, Pt

    table = document.add_table(rows=1, cols=len(columns))
    table.style = document.styles["Table Grid"]
    table.autofit = False
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)  # w:gridCol: LibreOffice and WPS lay the table out from it
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))

    def fill(cell, text: str, width: float, *, bold: bool = False) -> None:
        cell.width = Mm(width)
        p = cell.paragraphs[0]
        no_grid(p)
        f = p.paragraph_format
        f.first_line_indent = Pt(0)
        f.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        f.line_spacing = Pt(round(size * 1.35, 1))
        for i, line in enumerate(text.split("\n")):
            run = p.add_run()
            set_font(run, "h1" if bold else "body", size)
            if i:
                run.add_break()
            run.add_text(line)

    for cell, column, width in zip(header.cells, columns, widths_mm, strict=True):
        fill(cell, column, width, bold=True)
        cell.paragraphs[0].alignment = 1
    for row in rows:
        cells = table.add_row().cells
        for cell, column, width in zip(cells, columns, widths_mm, strict=True):
            fill(cell, row.get(column, ""), width)
    return table


__all__ = ["REVIEW_COLUMN", "TABLE_SUFFIXES", "Table", "docx_table", "write_table"]
