"""Line and heading primitives shared by 汇编 splitting and skeleton parsing."""

from __future__ import annotations

import re
from collections.abc import Iterator

CN = "一二三四五六七八九十"
TOP_RE = re.compile(rf"^([{CN}]{{1,3}})[、．.]")
# （一） (一) 〔一〕, （1）, 1. / 1、 at a line start.
SUB_LINE_RE = re.compile(
    rf"^(?:[（(〔][{CN}]{{1,3}}[）)〕]|[（(]\d{{1,2}}[）)]|\d{{1,2}}[.、．](?!\d))", re.M
)
_PHRASE_END_RE = re.compile(r"[。；！？\n]")
_HEADING_MAX = 60


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(start offset, line) for every line of text."""
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def trim_end(text: str, start: int, end: int) -> int:
    """End offset with trailing whitespace dropped, never before start."""
    return max(start, start + len(text[start:end].rstrip()))


def line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def phrase(text: str, start: int) -> str:
    """From start up to the first 。；！？ or line end, trimmed to the heading limit."""
    match = _PHRASE_END_RE.search(text, start)
    return text[start : match.start() if match else len(text)].strip()[:_HEADING_MAX]
