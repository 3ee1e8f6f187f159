"""Typed records of a 汇编 brief: per-report extraction (pydantic, validated against the
report text) and the finished Brief (a frozen dataclass with ``to_json()``).

Every item carries the exact source span it came from: ``quote == report.text[start:end]``,
and every figure of its ``text`` points at the same figure inside that quote. The
validators enforce both, so an extraction that breaks traceability cannot be built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from rag.documents.clean import count_redactions

ItemKind = Literal["成效", "问题", "打算"]
# condensed: the model's rewrite passed verification; repaired: the rewrite changed, invented
# or lost figures and was replaced by the trimmed source; source: never rewritten (problems,
# plans, non-key items, or the model skipped the line).
ItemStatus = Literal["condensed", "repaired", "source"]


class FigureRef(BaseModel):
    """A figure of an item's text and where the same figure stands in the report text."""

    model_config = ConfigDict(frozen=True)

    raw: str  # as written in the item text
    value: float
    unit: str
    start: int  # offsets into the report text (inside the item's quote)
    end: int
    # Read by OCR: the figure's own mean confidence, and whether it is below the floor (flagged).
    ocr_confidence: float | None = None
    ocr_low: bool = False


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ItemKind
    text: str  # what the brief shows
    figures: tuple[FigureRef, ...] = ()
    quote: str  # the source sentence, verbatim
    start: int
    end: int
    heading: str = ""  # heading of the subsection it sits in (context, theme cue)
    theme: str = ""
    status: ItemStatus = "source"
    key: bool = False  # shown in the brief (the most data-bearing items of a report)
    redacted: bool = False  # the quote holds redaction marks (names): the text says 某 instead
    tentative: bool = False  # 预计/计划/力争…: a target, not a result
    note: str = ""  # why a rewrite was replaced by its source, when it was

    @model_validator(mode="after")
    def _traceable(self, info: ValidationInfo) -> Item:
        if not self.text.strip():
            raise ValueError("item text is empty")
        if count_redactions(self.text):
            raise ValueError(f"item text presents a redaction mark as fact: {self.text!r}")
        if not self.start <= self.end or self.quote != self.quote.strip() or not self.quote:
            raise ValueError(f"bad quote span {self.start}-{self.end}")
        text = (info.context or {}).get("report_text")
        if text is not None and text[self.start : self.end] != self.quote:
            raise ValueError(f"quote does not match report text at {self.start}-{self.end}")
        for f in self.figures:
            if not (self.start <= f.start < f.end <= self.end):
                raise ValueError(f"figure {f.raw} points outside its quote")
        return self

    def to_json(self) -> dict:
        return self.model_dump(mode="json")


class ReportSummary(BaseModel):
    """Map result for one report: who, and the items of each section kind."""

    model_config = ConfigDict(frozen=True)

    label: str  # short unique name for citations: 乡长, 副乡长甲 …
    title: str
    role: str | None
    level: str | None
    year: int | None
    source: str
    index: int
    chars: int  # length of the report text (read in full)
    items: tuple[Item, ...] = ()  # 做法和成效 with figures
    problems: tuple[Item, ...] = ()
    plans: tuple[Item, ...] = ()
    skipped: tuple[Item, ...] = ()  # figure redacted (**万元, X次): never presented
    calls: int = 0  # model calls spent on this report

    @model_validator(mode="after")
    def _kinds(self) -> ReportSummary:
        for group, kind in ((self.items, "成效"), (self.problems, "问题"), (self.plans, "打算")):
            if any(i.kind != kind for i in group):
                raise ValueError(f"{self.label}: mixed item kinds in the {kind} list")
        return self

    @property
    def key_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.key)

    def to_json(self) -> dict:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class Ref:
    """One cited item inside a brief section: which report, which item."""

    report: str  # ReportSummary.label
    item: Item

    def marker(self) -> str:
        """The footnote-like citation shown after a bullet: [乡长·履职 123-180]."""
        section = {"成效": "履职", "问题": "问题", "打算": "打算"}[self.item.kind]
        return f"[{self.report}·{section} {self.item.start}-{self.item.end}]"

    def to_json(self) -> dict:
        return {"report": self.report, "text": self.item.text, "start": self.item.start, "end": self.item.end}


@dataclass(frozen=True)
class Group:
    """A themed bullet group: 主要做法和成效 by theme, 共性问题, 下步建议."""

    name: str
    refs: tuple[Ref, ...]

    @property
    def reports(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.report for r in self.refs))

    def to_json(self) -> dict:
        return {"name": self.name, "reports": list(self.reports), "items": [r.to_json() for r in self.refs]}


@dataclass(frozen=True)
class Brief:
    title: str
    source: str
    overview: str  # 总体情况
    reports: tuple[ReportSummary, ...]
    themes: tuple[Group, ...]  # 主要做法和成效
    problems: tuple[Group, ...]  # 共性问题 (shared first)
    suggestions: tuple[Group, ...]  # 下步工作建议
    attention: tuple[str, ...]  # 需要关注的事项
    figures_checked: int
    figures_unsupported: int
    rewrite_figures_unsupported: int  # in the model's rewrites, before repair
    items_repaired: int
    items_dropped: int
    prompt_id: str
    prompt_hash: str
    model: str
    markdown: str = ""
    timing: dict[str, float] = field(default_factory=dict)
    figures_ocr_low: int = 0  # shown figures read by OCR below the confidence floor (flagged)

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "source": self.source,
            "brief_markdown": self.markdown,
            "overview": self.overview,
            "reports": [r.to_json() for r in self.reports],
            "themes": [g.to_json() for g in self.themes],
            "problems": [g.to_json() for g in self.problems],
            "suggestions": [g.to_json() for g in self.suggestions],
            "attention": list(self.attention),
            "figures_checked": self.figures_checked,
            "figures_unsupported": self.figures_unsupported,
            "rewrite_figures_unsupported": self.rewrite_figures_unsupported,
            "items_repaired": self.items_repaired,
            "items_dropped": self.items_dropped,
            "figures_ocr_low": self.figures_ocr_low,
            "prompt_id": self.prompt_id,
            "prompt_hash": self.prompt_hash,
            "model": self.model,
            "timing": self.timing,
        }
