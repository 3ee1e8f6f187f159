"""The report skeleton: top sections, （一）/1./一是/bare subsections, the closing line.

Top sections come from numbered headings (一、…), failing those from bare headings (short
lines without sentence punctuation that name a section: 存在的不足, 下一步打算 …). A report
without a 问题 or 打算 heading gets those sections from its wording: the paragraph (in a
one-line report, the sentence) that opens the problems (还存在一些不足…) or the plans (下一步…).
All matching reads a simplified copy of the text, so 繁體 reports parse alike; every offset
indexes the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.documents.clean import count_redactions
from rag.documents.headings import (
    ADDRESS_RE,
    CLOSING_RE,
    SPEECH_WRAP_RE,
    has_section_words,
    is_bare_heading,
    kind_of,
    opens_plans,
    opens_problems,
)
from rag.documents.metadata import find_level, find_role, find_year
from rag.documents.simplify import to_simplified
from rag.documents.text_lines import CN as _CN
from rag.documents.text_lines import SUB_LINE_RE as _SUB_LINE_RE
from rag.documents.text_lines import TOP_RE as _TOP_RE
from rag.documents.text_lines import line_end as _line_end
from rag.documents.text_lines import lines as _lines
from rag.documents.text_lines import phrase as _phrase
from rag.documents.text_lines import trim_end as _trim
from rag.schema import Report, Section, Subsection

_INLINE_RE = re.compile(rf"(?:^|(?<=[。：；，！？:;,）)\s]))([{_CN}])是", re.M)
_ENUM_START_RE = re.compile(rf"[{_CN}]是")  # used with .match(text, pos): anchored there
_BRACKET_TOP_RE = re.compile(rf"^[（(〔]([{_CN}]{{1,3}})[）)〕]")
_SENTENCE_START_RE = re.compile(r"(?<=[。！？!?])(?=[^\s”’」』）)])")
_LONG_LINE = 300  # a line this long is a pasted page: look for section starts sentence by sentence
_ONE_LINE_MAX_LINES = 3
_OPENER_READ = 120  # the opening words of a paragraph are all the wording test reads
_IMPLICIT_KINDS = ("问题", "打算")
# Kinds whose heading-less sections are new (leads of fragments, implicit sections): their
# subsections are parsed. A plain 前言 / 结语 / 其他 keeps the behaviour the seeds were built on.
_STRUCTURED = frozenset({"履职", "问题", "原因", "打算"})


@dataclass
class _Start:
    pos: int
    kind: str
    heading: str = ""  # "" for a section that starts without a heading line
    numbered: bool = False  # a 一、 heading (its subsections are parsed as they always were)


def _cn_int(numeral: str) -> int:
    tens, sep, units = numeral.partition("十")
    if not sep:
        return _CN.index(numeral) + 1 if len(numeral) == 1 else 0
    return (_CN.index(tens) + 1 if tens else 1) * 10 + (_CN.index(units) + 1 if units else 0)


def _bare_lines(text: str, simple: str, start: int, end: int) -> list[int]:
    """Starts of bare heading lines in [start, end) that have something after them."""
    content = [(s, len(line)) for s, line in _lines(text) if start <= s < end and line.strip()]
    return [s for s, n in content[:-1] if is_bare_heading(simple[s : s + n])]


def _subsections(
    text: str, simple: str, start: int, end: int, heading: bool, bare: bool
) -> tuple[Subsection, ...]:
    """（一）/1. blocks at line start; failing those, bare lines (when ``bare``); failing
    those, 一是/二是."""
    body = _line_end(text, start) + 1 if heading else start  # below the heading line
    marks = [(m.start(), m.group(), True) for m in _SUB_LINE_RE.finditer(text, body, end)]
    if not marks and bare:
        lines = [s for s in _bare_lines(text, simple, body, end) if not has_section_words(_line(simple, s))]
        marks = [(s, "", True) for s in lines]
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


def _line(text: str, start: int) -> str:
    return text[start : _line_end(text, start)]


def _closing_start(text: str, simple: str, after: int) -> int | None:
    """Start of the closing line (以上述职…敬请批评指正, or a speech's 同志们，…谢谢大家！),
    followed at most by a signature or date; a speech's wrap-up line just before it joins it."""
    lines = [(s, simple[s : s + len(line)]) for s, line in _lines(text) if s >= after and line.strip()]
    for i in range(len(lines) - 1, max(len(lines) - 4, -1), -1):
        start, line = lines[i]
        closing = CLOSING_RE.search(line) or (i == len(lines) - 1 and SPEECH_WRAP_RE.search(line))
        if len(line) <= 100 and closing and not _TOP_RE.match(line):
            if i > 0 and lines[i - 1][0] > after and _is_wrap_up(lines[i - 1][1]):
                return lines[i - 1][0]
            return start
        if len(line) > 30:  # a paragraph, not a signature: the report has no closing line
            return None
    return None


def _is_wrap_up(line: str) -> bool:
    return len(line) <= 120 and bool(SPEECH_WRAP_RE.search(line)) and not CLOSING_RE.search(line)


def _numbered(text: str, body: int, fragment: bool) -> list[tuple[int, int]]:
    """(start, number) of the 一、二、三、 headings in sequence; a fragment may start past 一."""
    lines = [(s, _cn_int(m.group(1))) for s, line in _lines(text) if s >= body and (m := _TOP_RE.match(line))]

    def run(first: int) -> list[tuple[int, int]]:
        heads, expected = [], first
        for s, n in lines:
            if n == expected:  # out-of-order numerals are body text
                heads.append((s, n))
                expected += 1
        return heads

    heads = run(1)
    if not heads and fragment and lines:  # （接上页）… 二、存在问题 三、下步打算
        later = run(lines[0][1])
        heads = later if len(later) >= 2 else []
    return heads


def _bracketed(text: str, simple: str, body: int) -> list[_Start]:
    """（一）/(一)/〔一〕 headings used as the top level (no 一、 at all): taken only when one of
    them names the problems or the plans, else they are subsections of the duty part."""
    heads, expected = [], 1
    for s, line in _lines(text):
        m = _BRACKET_TOP_RE.match(line) if s >= body else None
        if m and _cn_int(m.group(1)) == expected:
            heading = _phrase(text, s)
            words = simple[s + m.end() : s + len(heading)]
            heads.append(_Start(s, kind_of(words), heading, numbered=True))
            expected += 1
    return heads if any(h.kind in _IMPLICIT_KINDS for h in heads) else []


def _units(text: str, start: int, end: int) -> list[int]:
    """Paragraph starts in [start, end); in a report pasted as one line (a title line and a
    body line, maybe a closing), sentence starts inside its long line too."""
    one_line = sum(1 for _, line in _lines(text) if line.strip()) <= _ONE_LINE_MAX_LINES
    units = []
    for s, line in _lines(text):
        if s >= end or s + len(line) <= start or not line.strip():
            continue
        if s >= start:
            units.append(s)
        if one_line and len(line) >= _LONG_LINE:
            stop = min(s + len(line), end)
            units.extend(m.start() for m in _SENTENCE_START_RE.finditer(text, max(s, start), stop))
    return units


def _unnamed(start: _Start, simple: str) -> bool:
    """A numbered heading that names no section (一、抓班子带队伍，凝聚干事合力)."""
    words = simple[start.pos : start.pos + len(start.heading)]
    return start.numbered and start.kind == "其他" and not has_section_words(words)


def _split_implicit(starts: list[_Start], text: str, simple: str, stop: int) -> list[_Start]:
    """Insert 问题 / 打算 starts where the wording opens them, when no heading does.

    Unnamed numbered sections before the problems are searched too; once the problems are
    found in or after them, they were the duty part and become 履职.
    """
    for kind, opens in zip(_IMPLICIT_KINDS, (opens_problems, opens_plans), strict=True):
        if any(s.kind == kind for s in starts):
            continue
        begin = next((i for i, s in enumerate(starts) if s.kind == "问题"), None)
        searchable = ("问题", "履职") if kind == "打算" else ("履职",)
        for i, s in enumerate(starts):
            if not (s.kind in searchable or (kind == "问题" and _unnamed(s, simple))):
                continue
            if begin is not None and i < begin:
                continue
            end = starts[i + 1].pos if i + 1 < len(starts) else stop
            body = _line_end(text, s.pos) + 1 if s.heading else s.pos
            units = _units(text, body, end)
            hit = next(
                (u for u in units if u > s.pos and opens(simple[u : min(end, u + _OPENER_READ)])), None
            )
            if hit is not None:
                for earlier in starts[: i + 1]:
                    if _unnamed(earlier, simple):
                        earlier.kind = "履职"
                starts.insert(i + 1, _Start(hit, kind))
                break
    return starts


def _lead_starts(text: str, simple: str, lead: int, first: int, kind: str) -> list[_Start]:
    """The text before the first heading: 前言, and a 履职 part when bare subheadings begin in it."""
    bare = [s for s in _bare_lines(text, simple, lead, first) if not has_section_words(_line(simple, s))]
    starts = [_Start(lead, kind)]
    if kind == "前言" and len(bare) >= 2:
        if bare[0] == lead:
            starts[0].kind = "履职"
        else:
            starts.append(_Start(bare[0], "履职"))
    return starts


def _headless_starts(text: str, simple: str, lead: int, stop: int) -> list[_Start]:
    """No heading at all: 前言 (the opening paragraph, with an address line), then 履职, then
    the 问题 / 打算 that the wording opens. Without such wording the text stays one 其他."""
    starts = _split_implicit([_Start(lead, "履职")], text, simple, stop)
    if len(starts) == 1:
        return [_Start(lead, "其他")]
    paras = [u for u in _units(text, lead, starts[1].pos) if text[u - 1 : u] in ("", "\n")]
    marked = next((p for p in paras if _ENUM_START_RE.match(simple, p) or _SUB_LINE_RE.match(text, p)), None)
    # Failing an enumeration, the duty part starts with the paragraph after the opening one.
    opening = next((p for p in paras if not ADDRESS_RE.match(_line(simple, p))), None)
    after_opening = next((p for p in paras if opening is not None and p > opening), None)
    body = marked if marked is not None else after_opening
    if body is not None and body > lead:
        starts[0] = _Start(lead, "前言")
        starts.insert(1, _Start(body, "履职"))
    return starts


def _sections(text: str, simple: str, body: int, fragment: bool) -> tuple[Section, ...]:
    numbered = _numbered(text, body, fragment)
    starts = []
    for s, _n in numbered:
        heading = _phrase(text, s)
        words = simple[s + len(_TOP_RE.match(heading).group()) : s + len(heading)]
        starts.append(_Start(s, kind_of(words), heading, numbered=True))
    if not starts:
        starts = _bracketed(text, simple, body)
    if not starts:
        content = _bare_lines(text, simple, body, len(text))
        for s in content:
            line = _line(simple, s)
            if has_section_words(line):
                starts.append(_Start(s, kind_of(line), _line(text, s).strip()))
    closing = _closing_start(text, simple, starts[-1].pos + 1 if starts else body)
    stop = closing if closing is not None else len(text)
    lead = body + len(text[body:stop]) - len(text[body:stop].lstrip())
    if starts:
        first = starts[0].pos
        lead_kind = "履职" if numbered and numbered[0][1] > 1 else "前言"
        if lead < first:  # text between the title and the first heading
            starts = _lead_starts(text, simple, lead, first, lead_kind) + starts
        starts = _split_implicit(starts, text, simple, stop)
    elif lead < stop:
        starts = _headless_starts(text, simple, lead, stop)
    sections = []
    for i, s in enumerate(starts):
        end = _trim(text, s.pos, starts[i + 1].pos if i + 1 < len(starts) else stop)
        structured = bool(s.heading) or s.kind in _STRUCTURED
        subs = _subsections(text, simple, s.pos, end, bool(s.heading), not s.numbered) if structured else ()
        sections.append(Section(s.kind, s.heading, s.pos, end, subs))
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
        sections=_sections(text, to_simplified(text), min(body, len(text)), fragment=body == 0),
        redaction_count=count_redactions(text),
    )
