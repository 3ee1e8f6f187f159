"""Verification of the model's rewrites: every figure must stand in the item's own quote, for
the same thing (the shared figure binding, ``rag.grounding.binding``; code only, no model call).

A rewrite whose figures changed (179.25万元 → 180万元), appeared from nowhere, lost their
approximation marker (10余次 → 10次, or gained one), were moved to another subject of the quote
(党员责任区112个、示范岗220个 → 责任区220个) or vanished altogether is never shipped: the item
falls back to its source sentence, trimmed to the clauses that carry the figures (a
verbatim substring, so its figures are the source's). The final pass re-checks every
shipped item and drops whatever still fails, so ``figures_unsupported`` ends at 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.brief.extract import Candidate, substantive, trim_span, unredact
from rag.brief.schema import FigureRef, Item, ReportSummary
from rag.grounding.binding import Binding, SourceText, bind_figures
from rag.grounding.figures import Figure, extract_figures

_NUMBERED_RE = re.compile(r"^\s*[（(]?(\d{1,2})[.、．:：)）]\s*(.+?)\s*$")
_ANSWER_PREFIX_RE = re.compile(r"^(?:要点|输出|改写|摘要)[：:]\s*")
_ECHOED_HINT_RE = re.compile(r"【[^】]*】?\s*$")  # the prompt's figure list, copied back
_MAX_GROWTH = 1.1  # a "condensed" item may not be longer than its source clauses


@dataclass(frozen=True)
class Verdict:
    refs: tuple[FigureRef, ...]
    unsupported: tuple[Figure, ...]  # figures of the text not found in the quote for the same thing
    misbound: tuple[Binding, ...] = ()  # those of them the quote gives for another subject

    @property
    def ok(self) -> bool:
        return not self.unsupported


def parse_numbered(text: str) -> dict[int, str]:
    """``1. 要点`` lines → {1: "要点"}; the first answer per number wins."""
    out: dict[int, str] = {}
    for line in text.splitlines():
        m = _NUMBERED_RE.match(line)
        if m:
            body = _ECHOED_HINT_RE.sub("", _ANSWER_PREFIX_RE.sub("", m.group(2))).strip().rstrip("。；;")
            if body:
                out.setdefault(int(m.group(1)), body)
    return out


def _same_approx(fig: Figure, binding: Binding, quote: str, quote_start: int) -> bool:
    # Binding lets 约 stand for an exact figure; a brief must not turn 10余次 into 10次, nor
    # 120亩 into 120余亩 or 约120亩 (which claims more or less than the report does).
    start = (binding.figure_start or 0) - quote_start
    other = next((f for f in extract_figures(quote) if f.start == start), None)
    return other is None or fig.approx == other.approx


def check(text: str, quote: str, quote_start: int) -> Verdict:
    """Each figure of ``text`` against the figures of its own ``quote``."""
    refs, missing, misbound = [], [], []
    for fig, b in bind_figures(text, [SourceText("quote", quote, quote_start)]):
        if b.ok and _same_approx(fig, b, quote, quote_start):
            refs.append(
                FigureRef(raw=fig.raw, value=fig.value, unit=fig.unit, start=b.figure_start, end=b.figure_end)
            )
        else:
            missing.append(fig)
            if b.match == "misbound":
                misbound.append(b)
    return Verdict(tuple(refs), tuple(missing), tuple(misbound))


def source_text(cand: Candidate) -> str:
    """The fallback bullet: the figure-bearing clauses of the sentence, verbatim (某 for marks)."""
    a, b = trim_span(cand.quote)
    return unredact(cand.quote[a:b])


def _reject_reason(text: str, cand: Candidate, verdict: Verdict) -> str:
    if verdict.misbound:
        return "改写把数字安到了别的对象上：" + "；".join(b.note() for b in verdict.misbound)
    if not verdict.ok:
        return "改写改动或编造了数字：" + "、".join(f.raw for f in verdict.unsupported)
    if not any(substantive(f) for f in extract_figures(text)):
        return "改写丢掉了全部数据"
    if len(text) > len(source_text(cand)) * _MAX_GROWTH + 4:
        return "改写比原句还长"
    return ""


@dataclass(frozen=True)
class Outcome:
    item: Item
    rewrite_unsupported: int  # figures the model changed or invented in this rewrite


def build_item(cand: Candidate, rewrite: str | None, *, key: bool, theme: str = "") -> Outcome:
    """The shipped item: the verified rewrite, or the trimmed source sentence."""
    common = {
        "kind": "成效",
        "quote": cand.quote,
        "start": cand.start,
        "end": cand.end,
        "heading": cand.heading,
        "theme": theme,
        "key": key,
        "redacted": cand.redacted,
        "tentative": cand.tentative,
    }
    note, bad = "", 0
    if rewrite:
        text = unredact(rewrite.strip())
        verdict = check(text, cand.quote, cand.start)
        note = _reject_reason(text, cand, verdict)
        bad = len(verdict.unsupported)
        if not note:
            return Outcome(Item(text=text, figures=verdict.refs, status="condensed", **common), 0)
    text = source_text(cand)
    verdict = check(text, cand.quote, cand.start)
    if not verdict.ok:  # trimming cut a figure's context (7、8号): ship the whole sentence
        text = unredact(cand.quote.rstrip("。；"))
        verdict = check(text, cand.quote, cand.start)
    status = "repaired" if rewrite else "source"
    note = f"{note}，已改用原文" if note else ""
    return Outcome(Item(text=text, figures=verdict.refs, status=status, note=note, **common), bad)


@dataclass(frozen=True)
class FinalCheck:
    summaries: tuple[ReportSummary, ...]
    figures_checked: int
    figures_unsupported: int
    dropped: int


def final_check(summaries: Iterable[ReportSummary]) -> FinalCheck:
    """Re-verify every shipped item against its quote; drop any that still fails."""
    checked = unsupported = dropped = 0
    out = []
    for summary in summaries:
        kept = []
        for item in summary.items:
            verdict = check(item.text, item.quote, item.start)
            checked += len(verdict.refs) + len(verdict.unsupported)
            if verdict.ok:
                kept.append(item)
            else:
                dropped += 1
        for item in (*summary.problems, *summary.plans):  # headings: figures must be verbatim too
            verdict = check(item.text, item.quote, item.start)
            checked += len(verdict.refs) + len(verdict.unsupported)
            unsupported += len(verdict.unsupported)
        out.append(summary.model_copy(update={"items": tuple(kept)}))
    return FinalCheck(tuple(out), checked, unsupported, dropped)
