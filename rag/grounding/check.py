"""Factual-consistency checker: every sentence of a text against a set of source reports.

Small steps (as ragas does faithfulness): sentences → figures and what each is bound to
(``rag.grounding.binding``: the source occurrence of the same figure for the same thing, with the
same qualifiers) → best evidence span → a yes/no judge score (``rag.grounding.judge``) → verdict.
Code decides first: a figure found in no source makes the sentence ``figure_mismatch``, a figure
the sources give for another subject (or with another qualifier: 预计, 不足, 同比 …) makes it
``figure_misbound``, whatever a judge would say — neither embeddings nor a 1.5B judge reliably tell
179.25万元 from 279万元, or 党员责任区112个 from 党员示范岗112个. The judge is asked only about
sentences whose figures are all bound (``judge_all`` asks it about every sentence, for calibration).

A figure bound only to text read by OCR (a scan, a photo) with a mean word confidence below
``Settings.ocr_min_confidence`` is flagged, not trusted: its sentence is ``unsupported`` with a note
saying so (the scan may say 6 where Tesseract read 8), unless another source gives the figure for
the same thing with a text layer or a confident reading — then that one is the binding.

The judge reads the evidence sentence (with the report title): the source sentence holding the
bound figures when there are figures, else the best sentence of the retrieved passages. Without a
judge (``llm=None``) the score is the lexical overlap of the sentence with its evidence (share of the
sentence's character bigrams found there).
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.documents.load import load_document
from rag.documents.ocr import OcrOptions
from rag.documents.ocr_text import LOW_CONFIDENCE, figure_confidence, is_low, span_confidence
from rag.documents.parse import parse_text
from rag.grounding.binding import Binding, SourceText, bind_figures
from rag.grounding.citations import NOT_FOUND, best_span, overlap, split_sentences, strip_citations
from rag.grounding.figures import Figure, find_figure
from rag.grounding.judge import judge_prompt, judge_score
from rag.index.embeddings import Embedder
from rag.index.index import Index
from rag.llm.base import LLM
from rag.prompts import PromptTemplate
from rag.retrieval import MAX_K, hybrid_search
from rag.schema import Document, Passage, Report
from rag.settings import Settings

__all__ = ["CheckResult", "Evidence", "FigureHit", "SentenceVerdict", "Sources", "check", "check_text"]

VERDICTS = ("supported", "unsupported", "figure_misbound", "figure_mismatch")  # worst last
THRESHOLD = 0.5
EVIDENCE_K = 3  # passages retrieved per sentence
_MIN_CHARS = 4  # shorter fragments ("一、", "（二）") are no claims
_WORD = re.compile(r"\w")
# A brief's span references, [乡长·履职 937-982]: offsets, not figures of the claim.
_SPAN_REF = re.compile(r"\[[^\[\]\n]{1,40}?\s\d+-\d+\]")
_MAX_REBINDS = 3  # other occurrences tried for a figure read by OCR with low confidence
Spans = dict[tuple[str, int], tuple[tuple[int, int, float], ...]]  # (source, report) → ocr_spans


@dataclass(frozen=True, slots=True)
class FigureHit:
    raw: str
    value: float
    unit: str
    found: bool  # found in a source for the same thing (binding.match == "bound")
    source: str | None = None  # where it was found (offsets into that report's text)
    report_index: int | None = None
    start: int | None = None
    end: int | None = None
    binding: Binding | None = None
    # Mean OCR word confidence of the source figure it is bound to (None: not read by OCR);
    # ocr_low: below Settings.ocr_min_confidence, so the figure is flagged, not trusted.
    ocr_confidence: float | None = None
    ocr_low: bool = False

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in self.__slots__ if k != "binding"}
        out["binding"] = self.binding.to_json() if self.binding else None
        return out


@dataclass(frozen=True, slots=True)
class Evidence:
    source: str
    report_index: int
    report_title: str
    quote: str  # report_text[start:end]; also what the judge reads
    start: int
    end: int
    ocr_confidence: float | None = None  # the quote was read by OCR (a scan, a photo)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class SentenceVerdict:
    text: str
    start: int  # offsets into the checked text
    end: int
    verdict: str  # one of VERDICTS
    score: float
    figures: tuple[FigureHit, ...]
    evidence: Evidence | None
    note: str = ""  # why a verdict the score does not explain (a figure read by OCR with low confidence)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "figures": [f.to_json() for f in self.figures],
            "evidence": self.evidence.to_json() if self.evidence else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class CheckResult:
    sentences: tuple[SentenceVerdict, ...]
    skipped: int  # fragments too short to be claims
    judge: str  # "llm" or "overlap"
    model: str | None
    prompt_id: str | None
    prompt_hash: str | None
    seconds: float

    @property
    def support_rate(self) -> float | None:
        n = len(self.sentences)
        return sum(s.verdict == "supported" for s in self.sentences) / n if n else None

    @property
    def figures_checked(self) -> int:
        return sum(len(s.figures) for s in self.sentences)

    @property
    def figures_found(self) -> int:
        return sum(f.found for s in self.sentences for f in s.figures)

    @property
    def figures_misbound(self) -> int:
        return sum(
            f.binding is not None and f.binding.match == "misbound" for s in self.sentences for f in s.figures
        )

    @property
    def figures_ocr_low(self) -> int:
        return sum(f.ocr_low for s in self.sentences for f in s.figures)

    @property
    def figure_precision(self) -> float | None:
        n = self.figures_checked
        return self.figures_found / n if n else None

    def count(self, verdict: str) -> int:
        return sum(s.verdict == verdict for s in self.sentences)

    def to_json(self) -> dict:
        rate, precision = self.support_rate, self.figure_precision
        return {
            "sentences": [s.to_json() for s in self.sentences],
            "support_rate": None if rate is None else round(rate, 4),
            "figure_precision": None if precision is None else round(precision, 4),
            "figures_checked": self.figures_checked,
            "figures_found": self.figures_found,
            "figures_misbound": self.figures_misbound,
            "figures_ocr_low": self.figures_ocr_low,
            "counts": {v: self.count(v) for v in VERDICTS},
            "skipped": self.skipped,
            "judge": self.judge,
            "model": self.model,
            "prompt_id": self.prompt_id,
            "prompt_hash": self.prompt_hash,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class Sources:
    """The reports a text is checked against, and a retrieval index holding them."""

    index: Index
    reports: tuple[Report, ...]
    restricted: bool = False  # the index also holds other reports: filter retrieval

    @classmethod
    def from_index(cls, index: Index, keys: Sequence[tuple[str, int | None]] | None = None) -> Sources:
        """All reports of ``index``, or only those named by (source, report index|None)."""
        everything = tuple(index.store.reports())
        if keys is None:
            return cls(index, everything)
        wanted = {(s, i) for s, i in keys}
        chosen = tuple(r for r in everything if (r.source, r.index) in wanted or (r.source, None) in wanted)
        return cls(index, chosen, restricted=len(chosen) < len(everything))

    def retrieve(self, query: str, k: int = EVIDENCE_K) -> list[Passage]:
        if not self.reports:
            return []
        if not self.restricted:
            return hybrid_search(self.index, query, k=k)
        keys = {(r.source, r.index) for r in self.reports}
        sources = {r.source for r in self.reports}
        # One source: let the index filter; several: over-fetch and filter here.
        where = {"source": next(iter(sources))} if len(sources) == 1 else None
        found = hybrid_search(self.index, query, k=min(MAX_K, k * 5), where=where)
        return [p for p in found if (p.chunk.source, p.chunk.report_index) in keys][:k]


def _as_document(source: Path | str, n: int, settings: Settings) -> Document:
    """A path (any supported format; scans by OCR as ingest reads them) or, for a str that names
    no file, the text itself."""
    if isinstance(source, Path) or (len(source) < 1024 and "\n" not in source and Path(source).is_file()):
        return load_document(
            Path(source),
            max_bytes=int(settings.max_file_mb * 1048576),
            ocr=OcrOptions.from_settings(settings),
        )
    return parse_text(source, source=f"text-{n}")


@contextmanager
def source_index(
    sources: Sequence[Path | str], settings: Settings, embedder: Embedder | None = None
) -> Iterator[Sources]:
    """A throwaway index (temp dir, local Chroma) over ``sources``, with the settings' embedder."""
    docs = [_as_document(s, n, settings) for n, s in enumerate(sources, 1)]
    with tempfile.TemporaryDirectory(prefix="rag-check-") as tmp:
        cfg = settings.model_copy(update={"index_dir": Path(tmp), "chroma_url": None})
        index = Index(cfg, embedder)
        try:
            for doc in docs:
                chunks = index.chunk_document(doc)
                if chunks:
                    index.vectors.upsert(chunks, index.embed_chunks(chunks))
                    index.store.replace_document(doc, chunks)
            index.store.set_meta("embedder_id", index.embedder.id)
            yield Sources(index, tuple(r for d in docs for r in d.reports))
        finally:
            index.close()


def check_text(
    text: str,
    sources: Sequence[Path | str],
    llm: LLM | None,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    threshold: float = THRESHOLD,
    judge_all: bool = False,
) -> CheckResult:
    """Check ``text`` against source files (or source texts); ``llm=None`` skips the judge."""
    with source_index(sources, settings, embedder) as src:
        return check(text, src, llm, threshold=threshold, settings=settings, judge_all=judge_all)


def check(
    text: str,
    sources: Sources,
    llm: LLM | None,
    *,
    threshold: float = THRESHOLD,
    settings: Settings | None = None,
    judge_all: bool = False,
) -> CheckResult:
    """One verdict per sentence of ``text`` (its worst clause's); ``judge_all`` scores every
    sentence with the judge, also those the figure binding already rejected."""
    t0 = time.perf_counter()
    prompt = judge_prompt(settings) if llm is not None else None
    texts = [SourceText(r.source, r.text, 0, r.index) for r in sources.reports]
    spans: Spans = {(r.source, r.index): r.ocr_spans for r in sources.reports if r.ocr_spans}
    floor = settings.ocr_min_confidence if settings is not None else LOW_CONFIDENCE
    verdicts: list[SentenceVerdict] = []
    skipped = 0
    for s, e in split_sentences(text):
        claim = _SPAN_REF.sub("", strip_citations(text[s:e])).strip()
        if len(_WORD.findall(claim)) < _MIN_CHARS or NOT_FOUND in claim:
            skipped += 1
            continue
        verdicts.append(
            _check_sentence(claim, s, e, sources, texts, llm, prompt, threshold, judge_all, (spans, floor))
        )
    return CheckResult(
        tuple(verdicts),
        skipped,
        "llm" if llm is not None else "overlap",
        llm.model_id if llm is not None else None,
        prompt.id if prompt else None,
        prompt.hash if prompt else None,
        time.perf_counter() - t0,
    )


def _check_sentence(
    claim: str,
    start: int,
    end: int,
    sources: Sources,
    texts: Sequence[SourceText],
    llm: LLM | None,
    prompt: PromptTemplate | None,
    threshold: float,
    judge_all: bool,
    ocr: tuple[Spans, float],
) -> SentenceVerdict:
    spans, floor = ocr
    bound = bind_figures(claim, texts)
    hits = tuple(_hit(f, b, c, floor) for f, b, c in _ocr_checked(claim, bound, texts, spans, floor))
    bound = [(f, h.binding) for f, h in zip((f for f, _ in bound), hits, strict=True)]
    matches = {b.match for _, b in bound}
    verdict = "figure_mismatch" if "absent" in matches else "figure_misbound" if "misbound" in matches else ""
    low = [h for h in hits if h.ocr_low]
    evidence = _bound_evidence(bound, sources.reports)
    if evidence is None:
        evidence = _evidence(claim, [f for f, _ in bound], sources.retrieve(claim))
    if evidence is not None:
        read = spans.get((evidence.source, evidence.report_index), ())
        evidence = dataclasses.replace(
            evidence, ocr_confidence=span_confidence(read, evidence.start, evidence.end)
        )
    if evidence is None:
        score = 0.0
    elif llm is not None and (judge_all or not (verdict or low)):
        score = judge_score(llm, prompt, evidence.quote, claim, title=evidence.report_title)
    elif llm is not None:
        score = 0.0  # the figures decided: no model call
    else:
        score = overlap(claim, evidence.quote)
    note = ""
    if low:
        figures = "、".join(f"{h.raw}（{h.ocr_confidence:.2f}）" for h in low)
        note = f"数字 {figures} 只见于文字识别（OCR）置信度低于 {floor:.2f} 的原文：未予采信，请对照原件核实"
    if not verdict:
        verdict = "unsupported" if low else "supported" if score >= threshold else "unsupported"
    return SentenceVerdict(claim, start, end, verdict, score, hits, evidence, note)


def _ocr_checked(
    claim: str,
    bound: Sequence[tuple[Figure, Binding]],
    texts: Sequence[SourceText],
    spans: Spans,
    floor: float,
) -> list[tuple[Figure, Binding, float | None]]:
    """Each figure's binding and the OCR confidence of the source figure it is bound to. A figure
    bound to text read with low confidence is bound again with that occurrence masked: another
    occurrence (a text layer, a clearer page) that gives it for the same thing is trusted instead."""
    out = []
    for n, (fig, b) in enumerate(bound):
        conf = _confidence(b, spans)
        masked = list(texts)
        for _ in range(_MAX_REBINDS if is_low(conf, floor) else 0):
            masked = _masked(masked, b)
            again = bind_figures(claim, masked)[n][1]  # the claim's figures, in the same order
            if not again.ok:
                break
            b, conf = again, _confidence(again, spans)
            if not is_low(conf, floor):
                break
        out.append((fig, b, conf))
    return out


def _confidence(b: Binding, spans: Spans) -> float | None:
    report = spans.get((b.source, b.index)) if b.ok and b.source is not None and b.index is not None else None
    if not report or b.figure_start is None or b.figure_end is None:
        return None
    return figure_confidence(report, b.figure_start, b.figure_end)


def _masked(texts: Sequence[SourceText], b: Binding) -> list[SourceText]:
    """``texts`` with the source figure of ``b`` blanked (same length: offsets stay)."""
    out = []
    for t in texts:
        if (t.name, t.index) == (b.source, b.index) and None not in (b.figure_start, b.figure_end):
            s, e = int(b.figure_start or 0) - t.offset, int(b.figure_end or 0) - t.offset
            t = dataclasses.replace(t, text=t.text[:s] + " " * (e - s) + t.text[e:])
        out.append(t)
    return out


def _hit(fig: Figure, b: Binding, conf: float | None = None, floor: float = LOW_CONFIDENCE) -> FigureHit:
    if b.ok:
        return FigureHit(
            fig.raw,
            fig.value,
            fig.unit,
            True,
            b.source,
            b.index,
            b.figure_start,
            b.figure_end,
            b,
            conf,
            is_low(conf, floor),
        )
    return FigureHit(fig.raw, fig.value, fig.unit, False, binding=b)


def _bound_evidence(bound: Sequence[tuple[Figure, Binding]], reports: Sequence[Report]) -> Evidence | None:
    """The source sentence holding most of the claim's bound figures (the judge reads it)."""
    by_key = {(r.source, r.index): r for r in reports}
    spans: dict[tuple[str, int, int, int], int] = {}
    for _, b in bound:
        report = by_key.get((b.source, b.index)) if b.ok else None
        if report is None or b.figure_start is None:
            continue
        s, e = _sentence(report.text, b.figure_start)
        spans[(report.source, report.index, s, e)] = spans.get((report.source, report.index, s, e), 0) + 1
    if not spans:
        return None
    source, index, s, e = max(spans, key=lambda k: (spans[k], -k[2]))
    report = by_key[(source, index)]
    return Evidence(source, index, report.title, report.text[s:e], s, e)


_SENTENCE_END = re.compile(r"[。！？；;!?\n]")


def _sentence(text: str, pos: int) -> tuple[int, int]:
    """The sentence of ``text`` around ``pos``: from after the previous stop to its own stop, inclusive."""
    start = next((m.end() for m in reversed(list(_SENTENCE_END.finditer(text, 0, pos)))), 0)
    m = _SENTENCE_END.search(text, pos)
    end = m.end() if m and text[m.start()] != "\n" else (m.start() if m else len(text))
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _evidence(claim: str, figures: Sequence[Figure], passages: Sequence[Passage]) -> Evidence | None:
    """The passage sentence that best supports ``claim``: most of its figures, then most overlap."""
    best: tuple[tuple[int, float], Evidence] | None = None
    for p in passages:
        spans = [sp for f in figures if (sp := find_figure(f, p.chunk.text))]
        qs, qe = best_span(claim, p, spans[0] if spans else None)
        c = p.chunk
        quote = c.text[qs - c.start : qe - c.start]
        key = (len(spans), overlap(claim, quote))
        if best is None or key > best[0]:
            best = (key, Evidence(c.source, c.report_index, c.report_title, quote, qs, qe))
    return best[1] if best else None
