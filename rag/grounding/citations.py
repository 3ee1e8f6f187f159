"""Ground generated text in its sources: sentences, citations, quoted spans, figures.

Per sentence: the [n] markers the model wrote are resolved to passages; each
citation gets the exact span (offsets into the cleaned report text) of the
passage sentence that best supports it; every figure must stand in a passage for
the same thing (``rag.grounding.binding``: 2个 is right only where the passage gives
2个 for what the sentence, or for a bare answer the question, is about). A figure
bound only in another retrieved passage adds that passage as an automatic citation
(flagged ``auto``); a figure bound nowhere (absent, or given for another subject)
makes the sentence unsupported, and so does one read by OCR with low confidence
(``FigureCheck.ocr_low``: flagged, not trusted): the figure's own confidence when the reports'
``ocr_spans`` are given, else its passage's mean. A sentence the model left
uncited is given the best matching passage by overlap when the overlap is convincing
(also ``auto``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rag.documents.ocr_text import LOW_CONFIDENCE, figure_confidence, is_low
from rag.grounding.binding import Binding, SourceText, bind_figures
from rag.schema import Passage

CITATION = re.compile(r"\[(\d{1,2})\]|【(\d{1,2})】|\[资料(\d{1,2})\]")
_SENTENCE_END = re.compile(r"[。！？；!?;\n]+")
_PASSAGE_SENTENCE = re.compile(r"[^。！？；\n]*(?:[。！？；]+[”」』）)]*|$)")
NOT_FOUND = "未在资料中找到"
# "根据资料4，…": the model naming a passage in words; its number is no figure of the answer.
_PASSAGE_NAME = re.compile(r"(?:根据|依据|据|见|参见|如)?资料\s*\d{1,2}(?![\d.])")


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
    ocr_confidence: float | None = None  # the passage was read by OCR (a scan, a photo)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def ocr_note(self) -> str:
        """What a reader is told beside a quote read by OCR: "OCR识别，置信度 0.91"."""
        return "" if self.ocr_confidence is None else f"OCR识别，置信度 {self.ocr_confidence:.2f}"


@dataclass(frozen=True, slots=True)
class FigureCheck:
    raw: str
    value: float
    unit: str
    found: bool  # bound: a passage gives it for the same thing
    n: int | None  # passage it was found in
    binding: Binding | None = None
    # OCR confidence of the source figure (or of its passage): below the floor
    # (Settings.ocr_min_confidence) the figure is not trusted (its sentence is unsupported)
    # though it stands in the passage (a 6 read as 8).
    ocr_confidence: float | None = None
    ocr_floor: float = LOW_CONFIDENCE

    @property
    def ocr_low(self) -> bool:
        return is_low(self.ocr_confidence, self.ocr_floor)

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in self.__slots__ if k not in ("binding", "ocr_floor")}
        out["binding"] = self.binding.to_json() if self.binding else None
        out["ocr_low"] = self.ocr_low
        return out


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


def ground(
    answer: str,
    passages: Sequence[Passage],
    *,
    question: str = "",
    auto_cite_threshold: float = 0.5,
    ocr_spans: Mapping[tuple[str, int], Sequence[tuple[int, int, float]]] | None = None,
    ocr_floor: float = LOW_CONFIDENCE,
) -> Grounding:
    """Check ``answer`` against the retrieved ``passages``; ``question`` names what a bare
    figure of a short answer measures. ``ocr_spans``: the ``Report.ocr_spans`` of reports read
    by OCR, by (source, report index), so a figure is judged by its own OCR confidence."""
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
        for fig, b in _bind(clean, cited, by_n, question):
            if b.ok and b.index not in cited:
                auto.add(b.index)
            if b.ok:
                p = by_n[b.index]
                span = (b.figure_start - p.chunk.start, b.figure_end - p.chunk.start)
                figure_spans.setdefault(b.index, span)
            ocr = _figure_ocr(by_n[b.index], b, ocr_spans) if b.ok else None
            n = b.index if b.ok else None
            checks.append(FigureCheck(fig.raw, fig.value, fig.unit, b.ok, n, b, ocr, ocr_floor))
        if not cited and not auto and passages:
            n, p = max(by_n.items(), key=lambda item: overlap(clean, item[1].chunk.text))
            if overlap(clean, p.chunk.text) >= auto_cite_threshold:
                auto.add(n)
        supported = all(c.found and not c.ocr_low for c in checks)
        sentences.append(SentenceCheck(clean, s, e, tuple(cited), tuple(checks), supported))
        if not supported:
            unsupported.append(clean)
        for n in [*cited, *sorted(auto - set(cited))]:
            qs, qe = best_span(clean, by_n[n], figure_spans.get(n))
            citations.append(cite_span(n, by_n[n], qs, qe, idx, auto=n not in cited))
    return Grounding(tuple(sentences), tuple(citations), tuple(unsupported))


def cite_span(n: int, p: Passage, start: int, end: int, sentence: int, *, auto: bool) -> Citation:
    """The citation [n] of report_text[start:end] inside passage ``p`` (offsets into the report),
    with the passage's OCR confidence when it was read from a scan."""
    quote = p.chunk.text[start - p.chunk.start : end - p.chunk.start]
    c = p.chunk
    return Citation(
        n, c.chunk_id, c.report_title, c.source, c.report_index, quote, start, end, sentence,
        auto=auto, ocr_confidence=c.ocr_confidence,
    )  # fmt: skip


def _figure_ocr(
    passage: Passage, b: Binding, spans: Mapping[tuple[str, int], Sequence[tuple[int, int, float]]] | None
) -> float | None:
    """The OCR confidence of the passage's figure ``b`` is bound to: its own when the report's
    spans are known, else the passage's mean (None: not read by OCR)."""
    c = passage.chunk
    report = spans.get((c.source, c.report_index)) if spans and c.ocr_confidence is not None else None
    if report and b.figure_start is not None and b.figure_end is not None:
        return figure_confidence(report, b.figure_start, b.figure_end)
    return c.ocr_confidence


def _texts(numbers: Sequence[int], by_n: dict[int, Passage]) -> list[SourceText]:
    return [SourceText(by_n[n].chunk.source, by_n[n].chunk.text, by_n[n].chunk.start, n) for n in numbers]


def _bind(sentence: str, cited: Sequence[int], by_n: dict[int, Passage], question: str) -> list[tuple]:
    """Each figure's binding over every retrieved passage (the cited ones first); a figure bound
    in an uncited passage keeps a binding in a cited one when there is one."""
    order = [*cited, *(n for n in by_n if n not in cited)]
    sentence = _PASSAGE_NAME.sub(lambda m: " " * len(m.group()), sentence)  # same length: offsets stay
    everywhere = bind_figures(sentence, _texts(order, by_n), context=question)
    if not cited or all(b.index in cited or not b.ok for _, b in everywhere):
        return everywhere
    in_cited = bind_figures(sentence, _texts(cited, by_n), context=question)
    return [
        (f, c if (b.ok and b.index not in cited and c.ok) else b)
        for (f, b), (_, c) in zip(everywhere, in_cited, strict=True)
    ]
