"""The brief's evidence table (送审包): one row per statement the brief ships with a source.

A reviewer (组织部, 办公室) checks every figure against its report. Each row carries what the
brief says, where it says it, the report and section it came from, the exact source sentence
(``quote == report.text[start:end]``), the figures checked with their verdict, and an empty
核对 column for the reviewer's mark.

Rows, in the brief's reading order: every cited point of 主要做法和成效, 共性问题, 下步工作建议
and 需要关注的事项 (one row per citation marker), then the per-person table's figures (its
主要成效与数据 cells, and 主要问题 / 下步重点 entries that carry a figure).

The verdict is rag/brief/verify.py's ``check``: each figure of the statement is looked up in
its own source sentence (value, unit and 余/近/以上 alike); when that check also says a figure
is given for another subject (``Verdict.misbound``, the figure-binding step), the row says so
(对象不符) with the reason. A richer verdict only adds values to the same 绑定结论 column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from rag.brief.markdown import (
    ATTENTION,
    SECTIONS,
    TABLE_HEADER,
    measure_lines,
    point_line,
    subhead,
    table_row,
)
from rag.brief.schema import Brief, Item, Ref, ReportSummary
from rag.brief.verify import check
from rag.grounding.figures import extract_figures

COLUMNS = (
    "序号",
    "综述位置",
    "综述表述",
    "报告",
    "部分",
    "来源文件",
    "原句",
    "起止",
    "核对的数据",
    "绑定结论",
    "处理",
    "核对",
)
MATCH, MISSING, MISBOUND = "一致", "原句中未找到", "对象不符"
_SECTION = {"成效": "履职", "问题": "问题", "打算": "打算"}
_MARKER_RE = re.compile(r"\s*\[([^\[\]·]+)·(履职|问题|打算) (\d+)-(\d+)\]")
_QUOTED_RE = re.compile(r"“([^”]*)”")
_SKIPPED = "原文数据被隐去（*、X），未采用"
_STATUS = {"condensed": "模型压缩改写，数据逐项核对一致", "source": "原文摘录"}


@dataclass(frozen=True)
class FigureVerdict:
    raw: str  # as the statement writes it
    source_raw: str  # as the source sentence writes it ("" when not found)
    start: int | None  # offsets into the report text
    end: int | None
    verdict: str  # MATCH, MISSING, or MISBOUND (the source gives it for another subject)
    note: str = ""  # why, when the binding step says so

    def text(self) -> str:
        if self.start is None:
            return f"{self.raw}（{self.verdict}{'：' + self.note if self.note else ''}）"
        same = "" if self.source_raw == self.raw else f"，原文作“{self.source_raw}”"
        return f"{self.raw}（原句 {self.start}-{self.end}{same}）"

    def to_json(self) -> dict:
        return {
            "raw": self.raw,
            "source_raw": self.source_raw,
            "start": self.start,
            "end": self.end,
            "verdict": self.verdict,
            "note": self.note,
        }


@dataclass(frozen=True)
class EvidenceRow:
    place: str  # where the brief says it: 二、主要做法和成效·（一）项目建设与产业发展
    statement: str  # as shipped (without the citation marker)
    report: str  # the report's label in the brief (乡长, 副乡长甲 …)
    title: str
    source: str  # the document's name as the user gave it
    report_index: int  # position of the report in its document, from 0
    section: str  # 履职 / 问题 / 打算, with the subsection heading when there is one
    quote: str  # report.text[start:end]
    start: int
    end: int
    figures: tuple[FigureVerdict, ...]
    handling: str  # how the statement was made from the quote

    @property
    def verdict(self) -> str:
        if not self.figures:
            return "无数据"
        bad = [f.raw for f in self.figures if f.verdict != MATCH]
        if bad:
            return "未核实：" + "、".join(bad)
        return f"{MATCH}（{len(self.figures)}项）"

    def cells(self, n: int) -> dict[str, str]:
        return dict(
            zip(
                COLUMNS,
                (
                    str(n),
                    self.place,
                    self.statement,
                    f"{self.report}：《{self.title}》",
                    self.section,
                    f"{self.source} 第{self.report_index + 1}篇",
                    self.quote,
                    f"{self.start}-{self.end}",
                    "；".join(f.text() for f in self.figures) or "—",
                    self.verdict,
                    self.handling,
                    "",
                ),
                strict=True,
            )
        )

    def to_json(self) -> dict:
        return {
            "place": self.place,
            "statement": self.statement,
            "report": self.report,
            "title": self.title,
            "source": self.source,
            "report_index": self.report_index,
            "section": self.section,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "figures": [f.to_json() for f in self.figures],
            "verdict": self.verdict,
            "handling": self.handling,
        }


def figure_verdicts(text: str, item: Item) -> tuple[FigureVerdict, ...]:
    """Each figure of ``text``, in order, with where it stands in the item's source sentence."""
    found = check(text, item.quote, item.start)
    refs, missing = list(found.refs), list(found.unsupported)
    misbound = list(getattr(found, "misbound", ()))  # a binding step's "given for another subject"
    spans = [(item.start + f.start, item.start + f.end) for f in extract_figures(item.quote)]
    used: set[tuple[int, int]] = set()
    out = []
    for fig in extract_figures(text):  # check() walks the same figures in the same order
        if missing and missing[0] == fig:
            missing.pop(0)
            if misbound and getattr(misbound[0], "figure", None) == fig.raw:
                note = misbound.pop(0).note()
                out.append(FigureVerdict(fig.raw, "", None, None, MISBOUND, note))
            else:
                out.append(FigureVerdict(fig.raw, "", None, None, MISSING))
        elif refs:
            ref = refs.pop(0)
            span = _unused(item, (ref.start, ref.end), spans, used)
            source_raw = item.quote[span[0] - item.start : span[1] - item.start]
            out.append(FigureVerdict(fig.raw, source_raw, span[0], span[1], MATCH))
    return tuple(out)


def _unused(item: Item, hit: tuple[int, int], spans: list[tuple[int, int]], used: set) -> tuple[int, int]:
    """A statement that repeats a figure (3次 … 3次) cites each occurrence once: when the hit
    was cited already (a lookup that finds the first equal figure), the next occurrence of the
    same text is cited instead."""
    span = hit
    if hit in used:
        raw = item.quote[hit[0] - item.start : hit[1] - item.start]
        same = [s for s in spans if item.quote[s[0] - item.start : s[1] - item.start] == raw]
        span = next((s for s in same if s not in used), hit)
    used.add(span)
    return span


def _handling(item: Item) -> str:
    if item.status == "repaired":
        return f"模型改写有误，已改用原文（{item.note or '数据不符'}）"
    text = _STATUS.get(item.status, item.status)
    return text + ("；原文隐去标记以“某”代替" if item.redacted else "")


def _row(
    place: str, statement: str, summary: ReportSummary, item: Item, checked: str | None = None
) -> EvidenceRow:
    section = _SECTION[item.kind] + (f" · {item.heading}" if item.heading else "")
    return EvidenceRow(
        place=place,
        statement=statement,
        report=summary.label,
        title=summary.title,
        source=summary.source,
        report_index=summary.index,
        section=section,
        quote=item.quote,
        start=item.start,
        end=item.end,
        figures=figure_verdicts(item.text if checked is None else checked, item),
        handling=_handling(item),
    )


def _find(summary: ReportSummary, section: str, start: int, end: int) -> Item | None:
    for item in (*summary.items, *summary.problems, *summary.plans, *summary.skipped):
        if _SECTION[item.kind] == section and (item.start, item.end) == (start, end):
            return item
    return None


def _attention_rows(brief: Brief, by_label: dict[str, ReportSummary]) -> Iterator[EvidenceRow]:
    """需要关注的事项: one row per cited item; only a quoted clause (“…”) carries source figures,
    the note's other numbers are the brief's own counts."""
    for note in brief.attention:
        statement = _MARKER_RE.sub("", note).strip()
        quoted = "；".join(_QUOTED_RE.findall(statement))
        for label, section, start, end in _MARKER_RE.findall(note):
            summary = by_label.get(label)
            item = _find(summary, section, int(start), int(end)) if summary else None
            if item is None:
                continue
            row = _row(ATTENTION, statement, summary, item, checked=quoted)
            yield replace(row, handling=_SKIPPED) if item in summary.skipped else row


def _table_rows(summary: ReportSummary) -> Iterator[EvidenceRow]:
    label, data, _, _ = table_row(summary)
    head = f"{SECTIONS[4]}·{label}"
    for text, marker in data:
        item = next(
            i
            for i in summary.key_items
            if i.text == text and Ref(summary.label, i).marker().replace(f"{summary.label}·", "") == marker
        )
        yield _row(f"{head}·{TABLE_HEADER[1]}", text, summary, item)
    for column, items in ((TABLE_HEADER[2], summary.problems), (TABLE_HEADER[3], summary.plans)):
        for item in items:
            if extract_figures(item.text):
                yield _row(f"{head}·{column}", item.text, summary, item)


def brief_evidence(brief: Brief) -> list[EvidenceRow]:
    """Every sourced statement of the brief, in reading order (see the module docstring)."""
    by_label = {s.label: s for s in brief.reports}
    rows: list[EvidenceRow] = []
    for n, group in enumerate(brief.themes):
        place = f"{SECTIONS[1]}·{subhead(n)}{group.name}"
        for ref, (text, _marker) in zip(group.refs, measure_lines(group), strict=True):
            rows.append(_row(place, text, by_label[ref.report], ref.item))
    for heading, groups in ((SECTIONS[2], brief.problems), (SECTIONS[3], brief.suggestions)):
        for group in groups:
            _lead, pairs = point_line(group)
            for ref, (text, _marker) in zip(group.refs, pairs, strict=True):
                rows.append(_row(f"{heading}·{group.name}", text, by_label[ref.report], ref.item))
    rows += _attention_rows(brief, by_label)
    for summary in brief.reports:
        rows += _table_rows(summary)
    return rows


__all__ = [
    "COLUMNS",
    "MATCH",
    "MISBOUND",
    "MISSING",
    "EvidenceRow",
    "FigureVerdict",
    "brief_evidence",
    "figure_verdicts",
]
