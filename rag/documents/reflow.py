"""Line breaks for reports pasted without any: the title split from the body, and the 一、 /
（一） headings and the closing line found inside a line put on lines of their own.

Only line breaks are inserted (a space where the title meets the body becomes the break);
the characters of every sentence stay as they are. The cleaned text after this step is what
every offset refers to. A line is reflowed only when it carries an inline run of top-level
headings (一、…。二、…), so ordinary long paragraphs are never touched.
"""

from __future__ import annotations

import re

from rag.documents.simplify import to_simplified
from rag.documents.split import title_in
from rag.documents.text_lines import CN

_TITLE_SCAN = 50
_MIN_BODY = 10
# 一、 after a sentence end (the first one also after a colon: "报告如下：一、…"). A 一、…；二、…；
# enumeration inside a sentence is no heading run.
_INLINE_TOP_RE = re.compile(rf"(?<=[。：:！？!?])\s*([{CN}]{{1,3}})、")
_MIN_LINE = 150  # a pasted report is long; a shorter line is an ordinary paragraph
_INLINE_SUB_RE = re.compile(rf"[（(〔]([{CN}]{{1,3}})[）)〕]")
_INLINE_ENUM_RE = re.compile(rf"[{CN}]是")
_HEADING_STOP_RE = re.compile(r"[。：:；;！？!?，,]")
_HEADING_MAX = 30
_CLOSING_RE = re.compile(r"(?<=[。！？!?])\s*(?=以上.{0,20}(?:述职|报告|汇报)[^\n]{0,80}$)")


def _cn_number(numeral: str) -> int:
    tens, sep, units = numeral.partition("十")
    if not sep:
        return CN.index(numeral) + 1 if len(numeral) == 1 else 0
    return (CN.index(tens) + 1 if tens else 1) * 10 + (CN.index(units) + 1 if units else 0)


def _split_title(line: str) -> str:
    """Title, break, body: 青山镇镇长2022年度…述职报告2022年，在县委… is split after 报告."""
    if len(line) <= _TITLE_SCAN:
        return line
    simple = to_simplified(line)
    for m in re.finditer("报告", simple[: _TITLE_SCAN + 2]):
        end = m.end()
        rest = line[end:].lstrip()
        if len(rest) >= _MIN_BODY and title_in(line[:end]):
            return line[:end] + "\n" + rest
    return line


def _in_order(matches: list[re.Match[str]], first: int = 1) -> list[re.Match[str]]:
    """The matches that continue the run first, first+1, … (others are body text)."""
    run, expected = [], first
    for m in matches:
        if _cn_number(m.group(1)) == expected:
            run.append(m)
            expected += 1
    return run


def _heading_end(line: str, start: int, stop: int) -> int | None:
    """Where a heading that runs into its first item ends: before （一） or 一是."""
    for pattern in (_INLINE_SUB_RE, _INLINE_ENUM_RE):
        m = pattern.search(line, start, stop)
        if m and m.start() - start <= _HEADING_MAX and not _HEADING_STOP_RE.search(line, start, m.start()):
            if pattern is _INLINE_SUB_RE and _cn_number(m.group(1)) != 1:
                continue
            if pattern is _INLINE_ENUM_RE and not m.group().startswith("一"):
                continue
            return m.start()
    return None


def _breaks_in_line(line: str) -> list[int]:
    """Offsets in ``line`` before which a line break goes."""
    if len(line) < _MIN_LINE:
        return []
    line_start = list(re.finditer(rf"^([{CN}]{{1,3}})、", line))
    inline = [
        m for m in _INLINE_TOP_RE.finditer(line) if m.group(1) == "一" or line[m.start() - 1] not in "：:"
    ]
    tops = _in_order(line_start + inline)
    if len(tops) < 2:
        return []
    breaks: set[int] = set()
    bounds = [m.start(1) for m in tops] + [len(line)]
    for i, m in enumerate(tops):
        start, stop = bounds[i], bounds[i + 1]
        if start > 0:
            breaks.add(start)
        body_start = m.end()
        head_end = _heading_end(line, body_start, stop)
        if head_end is not None:
            breaks.add(head_end)
        after = head_end if head_end is not None else body_start
        subs = [s for s in _INLINE_SUB_RE.finditer(line, after, stop)]
        for sub in _in_order(subs):
            at_sentence_start = sub.start() == head_end or line[sub.start() - 1] in "。；;！？!?"
            if at_sentence_start:
                breaks.add(sub.start())
    closing = _CLOSING_RE.search(line, bounds[-2])
    if closing:
        breaks.add(closing.end())
    return sorted(b for b in breaks if 0 < b < len(line))


def _apply(line: str, breaks: list[int]) -> str:
    pieces, last = [], 0
    for b in breaks:
        pieces.append(line[last:b].rstrip())
        last = b
    pieces.append(line[last:])
    return "\n".join(p.lstrip() for p in pieces)


def reflow(text: str) -> str:
    """Insert line breaks before headings found inside a line (see the module doc)."""
    # Every line, not only the first: in a 汇编 each one-line report starts with its title.
    lines = [_split_title(line) for line in text.split("\n")]
    out = []
    for chunk in lines:
        for line in chunk.split("\n"):
            breaks = _breaks_in_line(to_simplified(line))
            out.append(_apply(line, breaks) if breaks else line)
    return "\n".join(out)
