"""The report skeleton: 一、 sections, （一）/1./一是 subsections, the closing line."""

from __future__ import annotations

import re

from rag.documents.clean import count_redactions
from rag.documents.metadata import find_level, find_role, find_year
from rag.documents.text_lines import CN as _CN
from rag.documents.text_lines import SUB_LINE_RE as _SUB_LINE_RE
from rag.documents.text_lines import TOP_RE as _TOP_RE
from rag.documents.text_lines import line_end as _line_end
from rag.documents.text_lines import lines as _lines
from rag.documents.text_lines import phrase as _phrase
from rag.documents.text_lines import trim_end as _trim
from rag.schema import Report, Section, Subsection

_INLINE_RE = re.compile(rf"(?:^|(?<=[。：；，！？:;,）)\s]))([{_CN}])是", re.M)
_KIND_RULES = (
    ("问题", ("问题", "不足", "差距", "短板")),
    ("原因", ("原因",)),
    ("打算", ("下步", "下一步", "打算", "今后", "明年")),
    ("履职", ("履职", "工作情况", "基本情况", "特色", "亮点", "成效", "做法", "主要工作", "成绩", "述职")),
    ("打算", ("思路", "措施", "计划", "方向", "努力")),
)
_CLOSING_RE = re.compile(r"^以上.{0,20}(?:述职|报告|汇报)|批评指正|请予评议")


def _cn_int(numeral: str) -> int:
    tens, sep, units = numeral.partition("十")
    if not sep:
        return _CN.index(numeral) + 1 if len(numeral) == 1 else 0
    return (_CN.index(tens) + 1 if tens else 1) * 10 + (_CN.index(units) + 1 if units else 0)


def _kind_of(heading: str) -> str:
    for kind, words in _KIND_RULES:
        if any(word in heading for word in words):
            return kind
    return "其他"


def _subsections(text: str, start: int, end: int) -> tuple[Subsection, ...]:
    """（一）/1. blocks at line start; failing those, 一是/二是 enumerations."""
    body = _line_end(text, start) + 1  # below the heading line
    marks = [(m.start(), m.group(), True) for m in _SUB_LINE_RE.finditer(text, body, end)]
    if not marks:
        expected = 1
        for m in _INLINE_RE.finditer(text, start, end):  # "二、存在问题：一是…" counts too
            number = _CN.index(m.group(1)) + 1
            if number in (1, expected):  # "统一是"/"之一是" break the run and are skipped
                at_line_start = m.start() == 0 or text[m.start() - 1] == "\n"
                marks.append((m.start(), m.group(), at_line_start))
                expected = number + 1
    subs = []
    for i, (pos, marker, block) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else end
        if not block:  # an inline item ends with its paragraph
            stop = min(stop, _line_end(text, pos))
        subs.append(Subsection(marker, _phrase(text, pos + len(marker)), pos, _trim(text, pos, stop)))
    return tuple(subs)


def _closing_start(text: str, after: int) -> int | None:
    """Start of the closing line (以上述职…敬请批评指正), followed at most by a signature or date."""
    lines = [(s, line) for s, line in _lines(text) if s >= after and line.strip()]
    for i in range(len(lines) - 1, max(len(lines) - 4, -1), -1):
        start, line = lines[i]
        if len(line) <= 100 and _CLOSING_RE.search(line) and not _TOP_RE.match(line):
            return start
        if len(line) > 30:  # a paragraph, not a signature: the report has no closing line
            return None
    return None


def _sections(text: str, body: int) -> tuple[Section, ...]:
    heads, expected = [], 1
    for start, line in _lines(text):
        match = _TOP_RE.match(line) if start >= body else None
        if match and _cn_int(match.group(1)) == expected:  # out-of-order numerals are body text
            heads.append(start)
            expected += 1
    closing = _closing_start(text, heads[-1] + 1 if heads else body)
    stop = closing if closing is not None else len(text)
    sections = []
    first = heads[0] if heads else stop
    lead = body + len(text[body:first]) - len(text[body:first].lstrip())
    if lead < first:  # text between the title and the first heading
        sections.append(Section("前言" if heads else "其他", "", lead, _trim(text, lead, first)))
    for i, start in enumerate(heads):
        end = _trim(text, start, heads[i + 1] if i + 1 < len(heads) else stop)
        heading = _phrase(text, start)
        kind = _kind_of(heading[len(_TOP_RE.match(heading).group()) :])
        sections.append(Section(kind, heading, start, end, _subsections(text, start, end)))
    if closing is not None:  # no heading: the closing line is content, like the 前言
        sections.append(Section("结语", "", closing, _trim(text, closing, len(text))))
    return tuple(sections)


def parse_report(text: str, *, source: str, index: int, title: str) -> Report:
    """One report from its cleaned text (title line first); all offsets index ``text``."""
    first_line = text[: _line_end(text, 0)]
    body = len(first_line) + 1 if first_line.strip() == title.strip() else 0
    body_text = text[body:]
    role, before_role = find_role(title, body_text)
    return Report(
        title=title,
        text=text,
        source=source,
        index=index,
        year=find_year(title, body_text),
        role=role,
        level=find_level(title, body_text, role, before_role),
        sections=_sections(text, min(body, len(text))),
        redaction_count=count_redactions(text),
    )
