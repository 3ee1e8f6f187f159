"""Ground generated text in its sources: sentences, citations, quoted spans, figures.

Per sentence: the [n] markers the model wrote are resolved to passages; each
citation gets the exact span (offsets into the cleaned report text) of the
passage sentence that best supports it; every figure must occur in a cited
passage. A figure found only in another retrieved passage adds that passage as
an automatic citation (flagged ``auto``); a figure found nowhere makes the
sentence unsupported. A sentence the model left uncited is given the best
matching passage by overlap when the overlap is convincing (also ``auto``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.grounding.figures import extract_figures, find_figure
from rag.schema import Passage

CITATION = re.compile(r"\[(\d{1,2})\]|【(\d{1,2})】|\[资料(\d{1,2})\]")
_SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
_PASSAGE_SENTENCE = re.compile(r"[^。！？；\n]*(?:[。！？；]+[”」』）)]*|$)")
NOT_FOUND = "未在资料中找到"


@dataclass(frozen=True, slots=True)
class Citation:
    n: int  # passage number as shown to the model ([n])
    chunk_id: str
    report_title: str
    source: str
    report_index: int
    quote: str  # report_text[start:end]
    start: int
    end: int
    sentence: int  # index of the answer sentence it supports
    auto: bool = False  # attached by the checker, not written by the model

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class FigureCheck:
    raw: str
    value: float
    unit: str
    found: bool
    n: int | None  # passage it was found in

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class SentenceCheck:
    text: str  # sentence without citation markers
    start: int
    end: int
    cited: tuple[int, ...]
    figures: tuple[FigureCheck, ...]
    supported: bool

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "cited": list(self.cited),
            "figures": [f.to_json() for f in self.figures],
            "supported": self.supported,
        }


@dataclass(frozen=True)
class Grounding:
    sentences: tuple[SentenceCheck, ...]
    citations: tuple[Citation, ...]
    unsupported: tuple[str, ...] = field(default=())

    @property
    def figures_checked(self) -> int:
        return sum(len(s.figures) for s in self.sentences)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences; trailing citation markers stay with their sentence."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        # "…成效明显。[1][2]" — markers after the full stop belong to this sentence.
        while True:
            cm = CITATION.match(text, end)
            if not cm:
                break
            end = cm.end()
        if text[pos:end].strip():
            spans.append((pos, end))
        pos = end
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def cited_numbers(sentence: str) -> list[int]:
    out: list[int] = []
    for m in CITATION.finditer(sentence):
        n = int(next(g for g in m.groups() if g))
        if n not in out:
            out.append(n)
    return out


def strip_citations(text: str) -> str:
    return CITATION.sub("", text).strip()


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if not text[i : i + 2].isspace()}


def overlap(claim: str, evidence: str) -> float:
    """Share of the claim's character bigrams found in the evidence (0..1)."""
    grams = _bigrams(claim)
    return len(grams & _bigrams(evidence)) / len(grams) if grams else 0.0


def best_span(claim: str, passage: Passage, must_contain: tuple[int, int] | None = None) -> tuple[int, int]:
    """Offsets (into the report text) of the passage sentence that best supports ``claim``.

    ``must_contain`` is a chunk-local span (e.g. a figure) the quote has to include."""
    text = passage.chunk.text
    best, best_score = (0, len(text)), -1.0
    for m in _PASSAGE_SENTENCE.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        if s >= e:
            continue
        if must_contain and not (s <= must_contain[0] and must_contain[1] <= e):
            continue
        score = overlap(claim, text[s:e])
        if score > best_score:
            best, best_score = (s, e), score
    base = passage.chunk.start
    return base + best[0], base + best[1]


def ground(answer: str, passages: Sequence[Passage], *, auto_cite_threshold: float = 0.5) -> Grounding:
    sentences: list[SentenceCheck] = []
    citations: list[Citation] = []
    unsupported: list[str] = []
    by_n = {i: p for i, p in enumerate(passages, 1)}

    for idx, (s, e) in enumerate(split_sentences(answer)):
        raw = answer[s:e]
        clean = strip_citations(raw)
        if not clean or NOT_FOUND in clean:
            sentences.append(SentenceCheck(clean, s, e, (), (), True))
            continue
        cited = [n for n in cited_numbers(raw) if n in by_n]
        auto: set[int] = set()
        figure_spans: dict[int, tuple[int, int]] = {}  # n -> a figure span in that passage
        checks: list[FigureCheck] = []
        for fig in extract_figures(clean):
            where = _locate(fig, cited, by_n)
            if where is None:  # not in what it cites: any other retrieved passage?
                where = _locate(fig, [n for n in by_n if n not in cited], by_n)
                if where is not None:
                    auto.add(where[0])
            if where is not None:
                figure_spans.setdefault(where[0], where[1])
            checks.append(
                FigureCheck(fig.raw, fig.value, fig.unit, where is not None, where[0] if where else None)
            )
        if not cited and not auto and passages:
            n, p = max(by_n.items(), key=lambda item: overlap(clean, item[1].chunk.text))
            if overlap(clean, p.chunk.text) >= auto_cite_threshold:
                auto.add(n)
        supported = all(c.found for c in checks)
        sentences.append(SentenceCheck(clean, s, e, tuple(cited), tuple(checks), supported))
        if not supported:
            unsupported.append(clean)
        for n in [*cited, *sorted(auto - set(cited))]:
            p = by_n[n]
            qs, qe = best_span(clean, p, figure_spans.get(n))
            report_offset = p.chunk.start
            quote = p.chunk.text[qs - report_offset : qe - report_offset]
            citations.append(
                Citation(
                    n,
                    p.chunk.chunk_id,
                    p.chunk.report_title,
                    p.chunk.source,
                    p.chunk.report_index,
                    quote,
                    qs,
                    qe,
                    idx,
                    auto=n not in cited,
                )
            )
    return Grounding(tuple(sentences), tuple(citations), tuple(unsupported))


def _locate(fig, numbers: Sequence[int], by_n: dict[int, Passage]) -> tuple[int, tuple[int, int]] | None:
    for n in numbers:
        span = find_figure(fig, by_n[n].chunk.text)
        if span is not None:
            return n, span
    return None
