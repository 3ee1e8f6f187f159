"""The longest run of a draft copied from a single past report.

Exemplars are colleagues' reports: they teach style, not words. A run of the draft that occurs
in exactly one report of the corpus is a copy from that report; a run that occurs in two or more
different reports is shared boilerplate (深入学习贯彻习近平新时代中国特色社会主义思想…) and
exempt. The corpus is the index's own reports, not a hand list. The user's facts are the user's
words, so a run inside them is never a copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.grounding.draft_guard import PLACEHOLDER
from rag.index.index import Index

LIMIT = 20  # characters: a longer run from one report is a copy
_CLAUSE = re.compile(r"[^，、；。！？：\n]+[，、；。！？：]?")
_MARKER = re.compile(r"^\s*(?:[一二三四五六七八九十]+是|[（(〔][一二三四五六七八九十]+[）)〕]|\d+[.、．])")


@dataclass(frozen=True)
class Report:
    source: str
    report_index: int
    title: str
    text: str


@dataclass(frozen=True)
class CopyRun:
    chars: int
    text: str
    source: str = ""
    report_index: int | None = None
    title: str = ""
    start: int = 0  # position in the draft

    def to_json(self) -> dict:
        return {
            "chars": self.chars,
            "text": self.text,
            "source": self.source,
            "report_index": self.report_index,
            "report_title": self.title,
        }


def corpus_reports(index: Index) -> list[Report]:
    """Every report of the index with its full text (one row per source and report index)."""
    seen: dict[tuple[str, int], str] = {}
    for c in index.store.iter_chunks():
        seen.setdefault((c.source, c.report_index), c.report_title)
    out = []
    for (source, i), title in sorted(seen.items()):
        text = index.store.report_text(source, i)
        if text:
            out.append(Report(source, i, title, text))
    return out


def _runs(text: str, reports: Sequence[Report]) -> list[CopyRun]:
    """For each start in ``text``: the longest run found in some report, when exactly one report
    holds it (containment shrinks as a run grows, so the longest run decides the exemption)."""
    out: list[CopyRun] = []
    i, n = 0, len(text)
    while i < n:
        best, holder = 0, None
        for r in reports:
            length = best + 1  # only a longer run than the best so far matters
            while i + length <= n and text[i : i + length] in r.text:
                length += 1
            if length - 1 > best:
                best, holder = length - 1, r
        if best >= 2 and holder is not None:
            run = text[i : i + best]
            if sum(run in r.text for r in reports) == 1:
                out.append(CopyRun(best, run, holder.source, holder.report_index, holder.title, i))
        i += 1
    return out


SHARED_MIN = 8  # characters: a run this long that ≥2 reports hold is shared wording, not a copy


def _mask_shared(body: str, reports: Sequence[Report]) -> str:
    """Blank out (\x00) the draft's stretches that two or more reports hold: boilerplate is
    exempt, and a copy run may not borrow its length (boilerplate + 。 is no copy)."""
    shared = [False] * len(body)
    for i in range(len(body)):
        length = 0
        while i + length < len(body):
            run = body[i : i + length + 1]
            if sum(run in r.text for r in reports) < 2:
                break
            length += 1
        if length >= SHARED_MIN:
            shared[i : i + length] = [True] * length
    return "".join("\x00" if s else ch for ch, s in zip(body, shared, strict=True))


def _body(text: str, reports: Sequence[Report], facts: Sequence[str]) -> str:
    # a placeholder is never a copy, nor are the user's own words; a run never crosses a line
    body = PLACEHOLDER.sub("\x00", text).replace("\n", "\x00")
    for fact in facts:
        core = fact.strip().strip("。；，")
        if core:
            body = body.replace(core, "\x00" * len(core))
    return _mask_shared(body, reports)


def copied_runs(
    text: str, reports: Sequence[Report], facts: Sequence[str] = (), limit: int = LIMIT
) -> list[CopyRun]:
    """Runs longer than ``limit`` that only one report holds, longest first, not nested."""
    body = _body(text, reports, facts)
    runs = [r for r in _runs(body, reports) if r.chars > limit]
    runs.sort(key=lambda r: -r.chars)
    kept: list[CopyRun] = []
    for r in runs:
        if all(r.start >= k.start + k.chars or r.start + r.chars <= k.start for k in kept):
            kept.append(r)
    return kept


def longest_copy(text: str, reports: Sequence[Report], facts: Sequence[str] = ()) -> CopyRun:
    body = _body(text, reports, facts)
    runs = _runs(body, reports)
    return max(runs, key=lambda r: r.chars, default=CopyRun(0, ""))


def drop_copied_clauses(text: str, runs: Sequence[CopyRun]) -> tuple[str, list[str]]:
    """Remove each clause a copied run touches, unless that empties its line (a point then keeps
    its copy and ``longest_copy`` reports it). Returns the text and the clauses removed."""
    if not runs:
        return text, []
    removed: list[str] = []
    lines = []
    pos = 0
    for full in text.split("\n"):
        lead = _MARKER.match(full)  # a point's marker (一是, （一）) survives its first clause
        marker = lead.group() if lead else ""
        line = full[len(marker) :]
        at = pos + len(marker)
        clauses = [(m.start() + at, m.end() + at, m.group()) for m in _CLAUSE.finditer(line)]
        hit = [c for c in clauses if any(r.start < c[1] and c[0] < r.start + r.chars for r in runs)]
        keep = [c for c in clauses if c not in hit]
        if hit and keep and any(len(c[2]) > 6 for c in keep):
            removed += [c[2] for c in hit]
            new = "".join(c[2] for c in keep)
            lines.append(marker + re.sub(r"[，、：]$", "。", new))
        else:
            lines.append(full)
        pos += len(full) + 1
    return "\n".join(lines), removed
