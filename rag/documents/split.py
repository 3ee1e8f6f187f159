"""Splitting a 汇编 (compilation) into its reports by their title lines."""

from __future__ import annotations

import re

from rag.documents.simplify import to_simplified
from rag.documents.text_lines import CN as _CN
from rag.documents.text_lines import SUB_LINE_RE as _SUB_LINE_RE
from rag.documents.text_lines import TOP_RE as _TOP_RE
from rag.documents.text_lines import lines as _lines
from rag.documents.text_lines import trim_end as _trim

_TITLE_PREFIX_RE = re.compile(rf"^(?:篇\s*[0-9{_CN}]+|第\s*[0-9{_CN}]+\s*篇|范文\s*[0-9{_CN}]+)\s*[：:]\s*")
_TITLE_END_RE = re.compile(r"报告(?:[（(][^（）()]{1,20}[）)])?$")
_SENTENCE_PUNCT_RE = re.compile(r"[，。；：！？,;]")
_SENTENCE_OPENERS = ("现将", "现就", "现把", "根据", "按照", "以上", "特此", "下面")
_TITLE_MAX = 50


def title_in(line: str) -> tuple[str, int] | None:
    """(title, prefix length) when the line is a report title line (繁體 titles too)."""
    simple = to_simplified(line)
    prefix = _TITLE_PREFIX_RE.match(simple)
    skip = prefix.end() if prefix else 0
    found = _simplified_title(simple[skip:].strip())
    if found is None:
        return None
    return line[skip:].strip(), skip


def _simplified_title(title: str) -> str | None:
    if not 4 <= len(title) <= _TITLE_MAX or "汇编" in title or not _TITLE_END_RE.search(title):
        return None
    # Sentences ("现将…情况报告如下：") and numbered headings are body text, not titles.
    if _SENTENCE_PUNCT_RE.search(title) or _TOP_RE.match(title) or _SUB_LINE_RE.match(title):
        return None
    if title.startswith(_SENTENCE_OPENERS):  # "现将本人2022年工作情况报告"
        return None
    return title


def _fallback_title(text: str, fallback: str) -> str:
    first = next((line for _, line in _lines(text) if line.strip()), "").strip()
    if not first or _TOP_RE.match(first):
        return fallback or first[:30]
    if len(first) <= _TITLE_MAX and not first.endswith("。"):
        return first
    return first[:30].rstrip("，。；：,") + "…"


def split_reports(text: str, *, fallback_title: str = "") -> list[tuple[str, int, int]]:
    """(title, start, end) of each report in cleaned text; start is at the title itself."""
    heads = []  # (title, title start, line start)
    for start, line in _lines(text):
        found = title_in(line)
        if found:
            heads.append((found[0], start + found[1], start))
    if not heads:
        body = len(text) - len(text.lstrip())
        return [(_fallback_title(text, fallback_title), body, len(text.rstrip()))]
    reports: list[tuple[str, int, int]] = []
    for i, (title, start, _) in enumerate(heads):
        end = heads[i + 1][2] if i + 1 < len(heads) else len(text)
        if reports and "\n" not in text[reports[-1][1] : reports[-1][2]]:
            # Two title lines in a row ("述职述廉报告" over "乡长…述职报告"): one report under
            # the first; the second stays in its body, where role and year are still found.
            title, start = reports.pop()[:2]
        reports.append((title, start, _trim(text, start, end)))
    return reports
