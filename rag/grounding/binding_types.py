"""The results of figure binding (``rag.grounding.binding``): the texts figures are looked up in,
one figure's binding, and how a binding is built from a claim's occurrence and a source's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.grounding.clauses import Occurrence

__all__ = ["MATCHES", "Binding", "SourceText", "make_binding", "worst_match"]

MATCHES = ("bound", "misbound", "absent")


@dataclass(frozen=True, slots=True)
class SourceText:
    """A text figures are looked up in; offsets reported are ``offset`` + positions in ``text``."""

    name: str
    text: str
    offset: int = 0
    index: int | None = None  # the caller's handle: a report index, a passage number …


@dataclass(frozen=True, slots=True)
class Binding:
    figure: str  # the claim's figure, as written
    claim_clause: str
    match: str  # bound | misbound | absent
    source_clause: str = ""  # 原文: where the source gives the figure, or the figure of the claim's words
    source: str | None = None
    index: int | None = None
    start: int | None = None  # source_clause == source text[start:end] (with SourceText.offset)
    end: int | None = None
    figure_start: int | None = None  # the source's figure shown in source_clause
    figure_end: int | None = None
    reason: str = ""  # why it is misbound or absent (Chinese, for the user)
    support: float = 0.0  # share of the claim's words for the figure found with the occurrence

    @property
    def ok(self) -> bool:
        return self.match == "bound"

    def note(self) -> str:
        """One line for a user: 原文：… and, when not bound, why."""
        if self.match == "absent":
            return f"{self.figure}：{self.reason}"
        text = f"原文：{self.source_clause}"
        return text if self.ok else f"{self.figure}：{self.reason}（{text}）"

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


def worst_match(bindings: Sequence[Binding]) -> str:
    """absent > misbound > bound ("bound" for a claim without figures)."""
    matches = {b.match for b in bindings}
    return next((m for m in ("absent", "misbound") if m in matches), "bound")


def make_binding(
    c: Occurrence,
    claim: str,
    match: str,
    src: SourceText | None = None,
    occ: Occurrence | None = None,
    reason: str = "",
    support: float = 0.0,
) -> Binding:
    """The binding of the claim's occurrence ``c`` to ``occ`` of ``src`` (none: absent)."""
    cs, ce = c.scope
    if src is None or occ is None:
        return Binding(c.fig.raw, claim[cs:ce].strip(), match, reason=reason)
    s, e = occ.scope
    o = src.offset
    return Binding(
        c.fig.raw,
        claim[cs:ce].strip(),
        match,
        src.text[s:e],
        src.name,
        src.index,
        o + s,
        o + e,
        o + occ.fig.start,
        o + occ.fig.end,
        reason,
        round(support, 3),
    )
