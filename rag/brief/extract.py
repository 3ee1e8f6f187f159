"""Map step, code side: read one report in full and pick what a brief needs.

The 1.5B model, asked for highlights with figures, returns headings and no figures
(DESIGN.md), so code does the selecting: figure-bearing sentences of the 履职 part
(exact spans, ranked by how much hard data they carry), and the subsection headings
of the 问题 and 打算 parts. The model only condenses the selected sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.brief.select import clause_items
from rag.grounding.figures import Figure, extract_figures, has_redacted_figure
from rag.schema import Report, Section, Subsection

_SENTENCE_RE = re.compile(r"[^。！？\n]+[。！？]*")
_CLAUSE_RE = re.compile(r"[^，；：,;:。！？]+[，；：,;:。！？]*")
_LONG_SENTENCE = 130  # longer sentences are split again on ；
_LEAD_RE = re.compile(
    r"^(?:[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.、．](?!\d)|[一二三四五六七八九十]是|同时|其次|另外|此外)[，,、]?"
)
_INLINE_HEAD_RE = re.compile(r"[一二三四五六七八九十]是([^。；，！？\n]{2,24})[。；，]")
_CAUSE_CUE_RE = re.compile(r"(?:产生|存在)?(?:问题的?|以上问题的?)?原因(?:分析)?(?:主要)?(?:有|是)?[：:]")
_BACKGROUND_HEADING_RE = re.compile(
    r"(?:社区|村|镇|乡|县|区|单位|辖区|社區|鎮|鄉|縣)(?:基本情况|概况|基本情況|概況)"
)
_REDACTION_MARK_RE = re.compile(
    r"[*＊]+|(?<![A-Za-z])[XxＸｘ]+(?![A-Za-z])|(?<!\d)×+(?!\d)"
)  # as rag.documents
_LABEL_SUFFIXES = "甲乙丙丁戊己庚辛壬癸"

# Hard results weigh more than counts of meetings: money, shares, areas, households.
_UNIT_WEIGHT = {
    "元": 4, "%": 3, "百分点": 3, "亩": 3, "平方米": 3, "公顷": 3, "吨": 3, "担": 3, "公里": 3, "米": 2,
    "户": 2, "人": 2, "名": 2, "个": 2, "项": 2, "所": 2, "家": 2, "座": 2, "条": 2, "棵": 2, "股": 2,
    "篇": 2, "份": 2, "人次": 2,
}  # fmt: skip
_MEASURE_KINDS = ("履职", "前言", "其他")


@dataclass(frozen=True)
class Candidate:
    """A figure-bearing sentence of the 履职 part, before any model sees it."""

    quote: str
    start: int
    end: int
    heading: str
    figures: tuple[Figure, ...]  # offsets relative to the quote
    score: float
    redacted_figure: bool  # a figure itself is redacted (**万元): never shown
    redacted: bool  # other redaction marks (X村): shown with 某
    tentative: bool


def report_labels(reports: Sequence[Report]) -> list[str]:
    """Short unique names for citations: the role (from the title or the body), else the
    report's title shortened, with 甲/乙 when one repeats; 第N篇 only when nothing better exists."""
    bases = [r.role or _short_title(r.title) or f"第{i + 1}篇" for i, r in enumerate(reports)]
    seen: dict[str, int] = {}
    labels = []
    for base in bases:
        n = seen.get(base, 0)
        seen[base] = n + 1
        repeats = bases.count(base) > 1
        labels.append(base + (_LABEL_SUFFIXES[n % len(_LABEL_SUFFIXES)] if repeats else ""))
    return labels


_TITLE_NOISE_RE = re.compile(
    r"(?:20\d{2}|20xx|20XX)\s*年?度?|述[职職]述廉报告|述[职職]报告|述[职職]報告|工作|[（(].*?[）)]"
)


def _short_title(title: str) -> str:
    short = _TITLE_NOISE_RE.sub("", title or "").strip(" ：:，,—-_")
    return short[:12]


def unredact(text: str) -> str:
    """Redaction marks stand for removed names: say 某, never show the mark as a fact."""
    return _REDACTION_MARK_RE.sub("某", text)


def substantive(fig: Figure) -> bool:
    """Quantities worth a bullet: counts, amounts, shares (years and dates are context)."""
    return fig.kind in ("number", "percent") and fig.unit != "年"  # 三年行动 names a campaign


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Exact sentence spans in text[start:end], whitespace trimmed; long ones split on ；."""
    spans = []
    for m in _SENTENCE_RE.finditer(text, start, end):
        s, e = m.span()
        parts = [(s, e)]
        if e - s > _LONG_SENTENCE and "；" in text[s:e]:
            parts, pos = [], s
            for piece in text[s:e].split("；"):
                stop = min(e, pos + len(piece) + 1)
                parts.append((pos, stop))
                pos = stop
        for ps, pe in parts:
            while ps < pe and text[ps].isspace():
                ps += 1
            while pe > ps and text[pe - 1].isspace():
                pe -= 1
            if pe > ps:
                spans.append((ps, pe))
    return spans


def trim_span(quote: str) -> tuple[int, int]:
    """The part of a sentence a bullet needs: from the first to the last clause holding a
    figure, without the leading enumerator (一是, （一）) and the closing punctuation."""
    lead = _LEAD_RE.match(quote)
    base = lead.end() if lead else 0
    clauses = [m.span() for m in _CLAUSE_RE.finditer(quote, base)]
    with_figures = [(s, e) for s, e in clauses if any(substantive(f) for f in extract_figures(quote[s:e]))]
    s, e = (with_figures[0][0], with_figures[-1][1]) if with_figures else (base, len(quote))
    while e > s and quote[e - 1] in "，；：,;:。！？ ":
        e -= 1
    return s, e


def _heading_for(report: Report, section: Section, pos: int) -> str:
    """The nearest 一是…/（一）… phrase before ``pos``: the item's topic."""
    sub = next((x for x in section.subsections if x.start <= pos < x.end), None)
    start = sub.start if sub else section.start
    inline = [m.group(1) for m in _INLINE_HEAD_RE.finditer(report.text, start, pos)]
    if inline:
        return inline[-1]
    return sub.heading if sub else section.heading


def _weight(fig: Figure) -> float:
    unit = fig.unit.split("/")[0]
    return _UNIT_WEIGHT.get(unit, 1) + (1 if fig.value >= 100 and unit not in ("元", "%") else 0)


def _score(figures: Sequence[Figure]) -> float:
    weights = sorted((_weight(f) for f in figures if substantive(f)), reverse=True)
    return sum(weights[:4]) + 0.1 * len(weights)


def candidates(report: Report) -> list[Candidate]:
    """Every achievement of the report's 履职 part: clause items with result figures
    (rag/brief/select.py says which figures are not results); the whole report is scanned."""
    out = []
    for section in report.sections:
        if section.kind not in _MEASURE_KINDS:
            continue
        if _BACKGROUND_HEADING_RE.search(section.heading):
            continue  # 社区基本情况 / 全镇概况: a description of the place, not what was done
        for s, e in sentence_spans(report.text, section.start, section.end):
            for item in clause_items(report.text[s:e]):
                start, end = s + item.start, s + item.end
                quote = report.text[start:end]
                figures = tuple(extract_figures(quote))
                if not any(substantive(f) for f in figures) and not has_redacted_figure(quote):
                    continue
                out.append(
                    Candidate(
                        quote=quote,
                        start=start,
                        end=end,
                        heading=_heading_for(report, section, s),
                        figures=figures,
                        score=_score(figures),
                        redacted_figure=has_redacted_figure(quote),
                        redacted=_REDACTION_MARK_RE.search(quote) is not None,
                        tentative=item.tentative,
                    )
                )
    return out


def pick_key(cands: Sequence[Candidate], limit: int) -> set[int]:
    """Indexes of the ``limit`` most data-bearing, presentable candidates. Greedy, and each
    pick discounts the rest of its topic, so one busy topic cannot fill a person's row."""
    left = {i for i, c in enumerate(cands) if not c.redacted_figure}
    taken: list[int] = []
    while left and len(taken) < limit:

        def value(i: int) -> tuple[float, int]:
            same = sum(cands[j].heading == cands[i].heading for j in taken)
            return (cands[i].score * 0.6**same, -i)

        best = max(left, key=value)
        taken.append(best)
        left.discard(best)
    return set(taken)


def _cause_start(report: Report, section: Section) -> int:
    """Where the 原因 part of a 问题 section begins (its enumeration is not a problem list)."""
    body = report.text.find("\n", section.start, section.end)
    m = _CAUSE_CUE_RE.search(report.text, body if body >= 0 else section.end, section.end)
    return m.start() if m else section.end


def _heading_span(report: Report, sub: Subsection) -> tuple[int, int] | None:
    pos = sub.start + len(sub.marker)
    head = sub.heading.strip()
    at = report.text.find(head, pos, sub.end) if head else -1
    return (at, at + len(head)) if at >= 0 else None


def heading_spans(report: Report, kind: str, limit: int = 6) -> list[tuple[int, int]]:
    """Spans of the 问题 / 打算 points: subsection headings, else the first sentences."""
    spans: list[tuple[int, int]] = []
    for section in (s for s in report.sections if s.kind == kind):
        stop = _cause_start(report, section) if kind == "问题" else section.end
        subs = [x for x in section.subsections if x.start < stop]
        found = [sp for x in subs if (sp := _heading_span(report, x))]
        if not found:  # no enumeration: the first sentences below the heading line
            body = report.text.find("\n", section.start, stop)
            sentences = sentence_spans(report.text, body + 1 if body >= 0 else stop, stop)[:3]
            found = [(s + a, s + b) for s, e in sentences for a, b in [trim_span(report.text[s:e])] if b > a]
        spans.extend(found)
    return spans[:limit]
