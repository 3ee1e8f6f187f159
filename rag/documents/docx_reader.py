"""Text of a .docx in reading order, with Word's automatic list numbers rebuilt."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from rag.documents.errors import DocumentError
from rag.documents.text_lines import CN as _CN

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old .doc, and Office files saved with a password
_NUM_FORMATS = {"chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "japaneseCounting"}


def _cn_numeral(n: int) -> str:
    if n <= 10:
        return "十" if n == 10 else _CN[n - 1] if n > 0 else "〇"
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens - 1]) + "十" + (_CN[units - 1] if units else "")


class _Numbering:
    """Rebuilds Word's automatic list numbers ("一、", "（一）", "1.") that python-docx leaves out.

    Without them the 一、二、三、 skeleton of an auto-numbered report is invisible.
    Covers decimal and Chinese counting formats; lvlOverride restarts are ignored.
    """

    def __init__(self, document) -> None:
        self.levels: dict[tuple[str, str], tuple[str, str, int]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        abstract = {a.get(qn("w:abstractNumId")): a for a in root.findall(qn("w:abstractNum"))}
        for num in root.findall(qn("w:num")):
            ref = num.find(qn("w:abstractNumId"))
            for lvl in abstract.get(ref.get(qn("w:val")) if ref is not None else None, []):
                if lvl.tag == qn("w:lvl"):
                    fmt, text, start = (lvl.find(qn(f"w:{t}")) for t in ("numFmt", "lvlText", "start"))
                    self.levels[(num.get(qn("w:numId")), lvl.get(qn("w:ilvl")))] = (
                        fmt.get(qn("w:val")) if fmt is not None else "decimal",
                        text.get(qn("w:val")) if text is not None else "",
                        int(start.get(qn("w:val"))) if start is not None else 1,
                    )

    @staticmethod
    def _num_pr(paragraph: Paragraph):
        ppr = paragraph._p.pPr
        if ppr is not None and ppr.numPr is not None:
            return ppr.numPr
        style = paragraph.style
        ppr = style.element.pPr if style is not None else None
        return ppr.numPr if ppr is not None else None

    def prefix(self, paragraph: Paragraph) -> str:
        num_pr = self._num_pr(paragraph) if self.levels else None
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        ilvl = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        if (num_id, str(ilvl)) not in self.levels:
            return ""
        counts = self.counters.setdefault(num_id, [0] * 9)
        counts[ilvl] += 1
        counts[ilvl + 1 :] = [0] * (8 - ilvl)
        _, pattern, _ = self.levels[(num_id, str(ilvl))]
        return re.sub(r"%([1-9])", lambda m: self._render(num_id, int(m.group(1)) - 1, counts), pattern)

    def _render(self, num_id: str, level: int, counts: list[int]) -> str:
        fmt, _, start = self.levels.get((num_id, str(level)), ("decimal", "", 1))
        n = start + max(counts[level], 1) - 1
        if fmt in _NUM_FORMATS:
            return _cn_numeral(n)
        return "" if fmt in ("bullet", "none") else str(n)


def _docx_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells, last = [], None
        for cell in row.cells:
            if cell._tc is last:  # a merged cell is repeated once per grid column it spans
                continue
            last = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            yield " | ".join(cells)


def _docx_blocks(parent, document, numbering: _Numbering) -> Iterator[str]:
    # Body children in order, so a table lands between the paragraphs around it.
    for child in parent.iterchildren():
        if child.tag == qn("w:p"):
            paragraph = Paragraph(child, document)
            yield numbering.prefix(paragraph) + paragraph.text
        elif child.tag == qn("w:tbl"):
            yield from _docx_rows(Table(child, document))
        elif child.tag == qn("w:sdt"):  # content controls wrap ordinary paragraphs
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_blocks(content, document, numbering)


def docx_text(data: bytes, key: str) -> tuple[str, str | None]:
    if data.startswith(_OLE_MAGIC):
        raise DocumentError(
            key, "文件是旧版 .doc 格式或设置了打开密码", "请用 Word 打开，去掉密码后另存为 .docx 再导入"
        )
    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n".join(_docx_blocks(document.element.body, document, _Numbering(document)))
    except Exception as exc:  # a damaged package fails in zipfile, lxml or python-docx alike
        raise DocumentError(
            key, "文件损坏，无法作为 .docx 打开", "请用 Word 重新另存为 .docx 后再导入"
        ) from exc
    if not text.strip():
        raise DocumentError(key, "文档里没有文字（可能只有图片）", "如是扫描件，请先做文字识别（OCR）再导入")
    return text, None
