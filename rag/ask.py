"""Grounded Q&A: retrieve → fenced prompt → generate → check citations and figures.

``ask`` returns one result; ``chat_stream`` yields text pieces for a UI and ends
with the checked result. Both share ``_prepare`` and ``_finish`` so the CLI, the
UI and the eval harness get the same answer for the same input.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from rag.documents.ocr_text import LOW_CONFIDENCE
from rag.grounding.citations import NOT_FOUND, Citation, Grounding, SentenceCheck, ground
from rag.index.index import Index
from rag.llm.base import LLM
from rag.prompts import PromptTemplate, format_passages, load_prompt
from rag.query import QueryIntent, follow_up_intent
from rag.retrieval import hybrid_search
from rag.schema import Passage

NOT_FOUND_ANSWER = "未在资料中找到相关内容。"
# A short follow-up ("那副乡长呢？") is retrieved together with the previous question.
_FOLLOW_UP_CHARS = 15


@dataclass(frozen=True)
class AskResult:
    question: str
    answer: str
    passages: tuple[Passage, ...]
    citations: tuple[Citation, ...]
    sentences: tuple[SentenceCheck, ...]
    unsupported: tuple[str, ...]
    prompt_id: str
    prompt_hash: str
    model: str
    timing: dict[str, float | None] = field(default_factory=dict)
    usage: dict[str, int | None] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return NOT_FOUND not in self.answer

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "found": self.found,
            "citations": [c.to_json() for c in self.citations],
            "unsupported": list(self.unsupported),
            "sentences": [s.to_json() for s in self.sentences],
            "figures_checked": sum(len(s.figures) for s in self.sentences),
            "passages": [p.to_json() for p in self.passages],
            "prompt_id": self.prompt_id,
            "prompt_hash": self.prompt_hash,
            "model": self.model,
            "timing": self.timing,
            "usage": self.usage,
        }


@dataclass(frozen=True)
class _Prepared:
    question: str
    passages: tuple[Passage, ...]
    prompt: PromptTemplate
    messages: list[dict]
    retrieval_seconds: float
    # Report.ocr_spans of the passages read by OCR: a figure is judged by its own confidence.
    ocr_spans: dict[tuple[str, int], tuple[tuple[int, int, float], ...]] = field(default_factory=dict)
    ocr_floor: float = LOW_CONFIDENCE


def retrieval_query(
    index: Index, question: str, history: Sequence[Mapping[str, str]] | None
) -> tuple[str, QueryIntent | None]:
    """(text, intent) to retrieve with. A short follow-up (那副乡长呢？) is retrieved with the
    previous question's topic and inherits its entities (roles, years, places, section words)
    unless it names its own (rag/query.py ``follow_up_intent``)."""
    if history and len(question) < _FOLLOW_UP_CHARS:
        previous = [m["content"] for m in history if m.get("role") == "user" and m.get("content")]
        if previous:
            return follow_up_intent(index, question, previous[-1])
    return question, None


def _history_text(history: Sequence[Mapping[str, str]] | None, turns: int = 2) -> str:
    if not history:
        return ""
    lines = []
    for m in list(history)[-2 * turns :]:
        who = "用户" if m.get("role") == "user" else "助手"
        lines.append(f"{who}：{m.get('content', '').strip()[:300]}")
    return "\n".join(lines)


def passage_label(p: Passage) -> str:
    return " > ".join([p.chunk.report_title, *p.chunk.heading_path[:1]])


def _prepare(
    index: Index,
    question: str,
    *,
    k: int,
    where: Mapping[str, object] | None,
    history: Sequence[Mapping[str, str]] | None,
    variant: str,
) -> _Prepared:
    t0 = time.perf_counter()
    text, intent = retrieval_query(index, question, history)
    passages = tuple(hybrid_search(index, text, k=k, where=where, intent=intent))
    retrieval_seconds = time.perf_counter() - t0
    prompt = load_prompt(index.settings, "ask", variant)
    messages = prompt.render(
        question=question.strip(),
        passages=format_passages([(passage_label(p), p.chunk.text) for p in passages]),
        history=_history_text(history),
    )
    scanned = {p.chunk.source for p in passages if p.chunk.ocr_confidence is not None}
    spans = {(r.source, r.index): r.ocr_spans for s in scanned for r in index.store.reports(s)}
    floor = index.settings.ocr_min_confidence
    return _Prepared(question.strip(), passages, prompt, messages, retrieval_seconds, spans, floor)


def _finish(prep: _Prepared, answer: str, llm: LLM, generation_seconds: float) -> AskResult:
    answer = answer.strip() or NOT_FOUND_ANSWER
    grounding: Grounding = ground(
        answer,
        prep.passages,
        question=prep.question,
        ocr_spans=prep.ocr_spans,
        ocr_floor=prep.ocr_floor,
    )
    done = llm.last_completion
    return AskResult(
        question=prep.question,
        answer=answer,
        passages=prep.passages,
        citations=grounding.citations,
        sentences=grounding.sentences,
        unsupported=grounding.unsupported,
        prompt_id=prep.prompt.id,
        prompt_hash=prep.prompt.hash,
        model=llm.model_id,
        timing={
            "retrieval_s": round(prep.retrieval_seconds, 3),
            "generation_s": round(generation_seconds, 3),
            "first_token_s": None
            if done is None or done.first_token_seconds is None
            else round(done.first_token_seconds, 3),
        },
        usage={
            "prompt_tokens": done.prompt_tokens if done else None,
            "completion_tokens": done.completion_tokens if done else None,
        },
    )


def _no_passages(prep: _Prepared, llm: LLM) -> AskResult:
    return AskResult(
        prep.question,
        NOT_FOUND_ANSWER,
        (),
        (),
        (),
        (),
        prep.prompt.id,
        prep.prompt.hash,
        llm.model_id,
        {"retrieval_s": round(prep.retrieval_seconds, 3)},
    )


def ask(
    index: Index,
    llm: LLM,
    question: str,
    *,
    k: int = 4,
    where: Mapping[str, object] | None = None,
    history: Sequence[Mapping[str, str]] | None = None,
    variant: str = "default",
) -> AskResult:
    result: AskResult | None = None
    for event in chat_stream(index, llm, question, k=k, where=where, history=history, variant=variant):
        if isinstance(event, AskResult):
            result = event
    assert result is not None
    return result


def chat_stream(
    index: Index,
    llm: LLM,
    question: str,
    *,
    k: int = 4,
    where: Mapping[str, object] | None = None,
    history: Sequence[Mapping[str, str]] | None = None,
    variant: str = "default",
) -> Iterator[str | AskResult]:
    """Yield answer text pieces as they are generated, then the checked AskResult."""
    prep = _prepare(index, question, k=k, where=where, history=history, variant=variant)
    if not prep.passages:
        yield NOT_FOUND_ANSWER
        yield _no_passages(prep, llm)
        return
    t0 = time.perf_counter()
    pieces: list[str] = []
    settings = index.settings
    for piece in llm.stream(prep.messages, max_tokens=settings.max_tokens, temperature=settings.temperature):
        pieces.append(piece)
        yield piece
    yield _finish(prep, "".join(pieces), llm, time.perf_counter() - t0)
