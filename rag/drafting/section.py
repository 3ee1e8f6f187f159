"""Drafting report sections by chat, grounded in exemplars and the user's own facts.

retrieve exemplars of the same section type (role/level/year aware) → prompt with the
house style of that section type → generate → ``guard_draft`` replaces every figure,
date, name or place that is neither in the user's facts nor in an exemplar with a
visible placeholder → per-sentence citations to exemplar spans that were reused.
A revision request edits the previous draft (taken from the chat history).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from rag.grounding.citations import Citation, best_span, overlap, split_sentences, strip_citations
from rag.grounding.draft_guard import guard_draft
from rag.index.index import Index
from rag.llm.base import LLM
from rag.prompts import format_passages, load_prompt
from rag.retrieval import hybrid_search
from rag.schema import Passage

# What users type → the section kind the parser assigns.
SECTION_KINDS = {
    "存在问题": "问题", "问题": "问题", "存在的问题": "问题", "问题及原因": "问题", "不足": "问题",
    "原因": "原因", "原因分析": "原因",
    "履职情况": "履职", "工作情况": "履职", "主要成效": "履职", "成效": "履职", "特色亮点": "履职",
    "主要做法": "履职", "履职": "履职",
    "下步打算": "打算", "下一步打算": "打算", "工作思路": "打算", "下步措施": "打算", "打算": "打算",
}  # fmt: skip
_STYLE_NUMBERED = "用（一）（二）（三）分条，每条先写一句小标题，再展开"
_STYLE_ENUM = "用“一是……二是……三是……”分条，每条先概括再展开"
_LINE_NUMBERED = re.compile(r"^（[一二三四五六七八九十]+）", re.M)
_INLINE_ENUM = re.compile(r"[一二三四五六七八九十]是")
# Revision requests: short instructions about the previous draft rather than new topics.
_REVISION_HINTS = (
    "精简",
    "简短",
    "扩写",
    "详细",
    "再",
    "换个说法",
    "改",
    "加一条",
    "增加",
    "删",
    "润色",
    "调整",
)


class DraftError(ValueError):
    pass


@dataclass(frozen=True)
class DraftRequest:
    role: str
    section: str
    year: int | None = None
    topic: str = ""
    facts: tuple[str, ...] = ()
    length: int = 400
    level: str | None = None

    @property
    def kind(self) -> str:
        kind = SECTION_KINDS.get(self.section.strip())
        if kind is None:
            raise DraftError(f"不认识的部分 {self.section!r}：可用 {'、'.join(sorted(set(SECTION_KINDS)))}")
        return kind


@dataclass(frozen=True)
class DraftResult:
    text: str
    raw_text: str  # what the model wrote, before placeholders
    request: DraftRequest
    exemplars: tuple[Passage, ...]
    citations: tuple[Citation, ...]
    placeholders: tuple[dict, ...]
    unsupported: tuple[str, ...]
    style: str
    prompt_id: str
    prompt_hash: str
    model: str
    timing: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "raw_text": self.raw_text,
            "citations": [c.to_json() for c in self.citations],
            "placeholders": list(self.placeholders),
            "unsupported": list(self.unsupported),
            "style": self.style,
            "exemplars": [p.to_json() for p in self.exemplars],
            "request": {
                "role": self.request.role,
                "section": self.request.section,
                "year": self.request.year,
                "topic": self.request.topic,
                "facts": list(self.request.facts),
            },
            "prompt_id": self.prompt_id,
            "prompt_hash": self.prompt_hash,
            "model": self.model,
            "timing": self.timing,
        }


def find_exemplars(index: Index, req: DraftRequest, k: int = 2) -> list[Passage]:
    """Same section type; same role if the corpus has it, else any role; nearest year first."""
    query = " ".join(x for x in (req.role, req.section, req.topic) if x)
    found: list[Passage] = []
    for where in ({"section": req.kind, "role": req.role}, {"section": req.kind}):
        for p in hybrid_search(index, query, k=k * 2, where=where):
            if all(p.chunk.chunk_id != q.chunk.chunk_id for q in found):
                found.append(p)
        if len(found) >= k:
            break
    if req.year is not None:  # stable sort keeps relevance order among equal distances
        found.sort(key=lambda p: abs((p.chunk.year or req.year) - req.year))
    return found[:k]


def house_style(exemplars: Sequence[Passage]) -> str:
    """（一） subsections or 一是/二是 enumerations, whichever this section type uses more."""
    texts = [p.chunk.text for p in exemplars]
    numbered = sum(len(_LINE_NUMBERED.findall(t)) for t in texts)
    inline = sum(len(_INLINE_ENUM.findall(t)) for t in texts)
    return _STYLE_NUMBERED if numbered > inline else _STYLE_ENUM


def _facts_text(facts: Sequence[str]) -> str:
    return "\n".join(f"- {f.strip()}" for f in facts if f.strip()) or "（用户未提供具体事实）"


def _label(p: Passage) -> str:
    return f"{p.chunk.role or '未注明职务'}·{p.chunk.section}"


def _excerpt(text: str, limit: int) -> str:
    """The first sentences of an exemplar, up to ~limit chars: prompt reading is the cost."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(mark, 0, limit) for mark in "。；")
    return text[: cut + 1] if cut > limit // 3 else text[:limit]


_FENCE_ECHO = re.compile(r"^\s*(?:<<<资料.*?>>>|来源：.*)\s*$", re.M)


def clean_output(text: str) -> str:
    """Drop fence markers and source lines a small model may echo from the prompt."""
    return re.sub(r"\n{3,}", "\n\n", _FENCE_ECHO.sub("", text)).strip()


def is_revision(message: str, history: Sequence[Mapping[str, str]] | None) -> bool:
    has_previous = any(m.get("role") == "assistant" and m.get("content", "").strip() for m in history or [])
    return has_previous and len(message) <= 40 and any(h in message for h in _REVISION_HINTS)


def _previous_draft(history: Sequence[Mapping[str, str]]) -> str:
    return next(m["content"] for m in reversed(list(history)) if m.get("role") == "assistant")


def _exemplar_citations(text: str, exemplars: Sequence[Passage], threshold: float = 0.45) -> list[Citation]:
    """Cite an exemplar span wherever a draft sentence reuses its phrasing."""
    out: list[Citation] = []
    for idx, (s, e) in enumerate(split_sentences(text)):
        sentence = strip_citations(text[s:e])
        if len(sentence) < 8 or not exemplars:
            continue
        n, p = max(enumerate(exemplars, 1), key=lambda item: overlap(sentence, item[1].chunk.text))
        if overlap(sentence, p.chunk.text) < threshold:
            continue
        qs, qe = best_span(sentence, p)
        quote = p.chunk.text[qs - p.chunk.start : qe - p.chunk.start]
        out.append(
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
                auto=True,
            )
        )
    return out


def draft_stream(
    index: Index,
    llm: LLM,
    req: DraftRequest,
    *,
    message: str = "",
    history: Sequence[Mapping[str, str]] | None = None,
    variant: str = "default",
) -> Iterator[str | DraftResult]:
    """Yield the model's text as it streams, then the guarded DraftResult.

    The streamed pieces are the raw draft; the final result's ``text`` is the one
    to show and keep (placeholders in place of unsupported specifics)."""
    req.kind  # noqa: B018 - validate the section name before any work
    t0 = time.perf_counter()
    exemplars = find_exemplars(index, req)
    style = house_style(exemplars)
    year = f"{req.year}年" if req.year else "本年度"
    if message and is_revision(message, history):
        prompt = load_prompt(index.settings, "draft_revise", "default")
        messages = prompt.render(
            role=req.role,
            section=req.section,
            style=style,
            facts=_facts_text(req.facts),
            previous=_previous_draft(history or []),
            instruction=message,
        )
    else:
        prompt = load_prompt(index.settings, "draft", variant)
        topic = " ".join(x for x in (req.topic, message) if x)
        messages = prompt.render(
            role=req.role,
            year=year,
            section=req.section,
            topic=topic,
            style=style,
            length=req.length,
            facts=_facts_text(req.facts),
            exemplars=format_passages([(_label(p), _excerpt(p.chunk.text, 220)) for p in exemplars]),
        )
    retrieval_s = time.perf_counter() - t0
    pieces: list[str] = []
    settings = index.settings
    max_tokens = max(settings.max_tokens, int(req.length * 1.6))
    for piece in llm.stream(messages, max_tokens=max_tokens, temperature=settings.temperature):
        pieces.append(piece)
        yield piece
    raw = clean_output("".join(pieces))
    # The request's year is a fact the user gave; in a revision, so is the previous
    # draft (already guarded, possibly edited by the user).
    allowed = [*req.facts, f"{req.year}年" if req.year else ""]
    if history and is_revision(message, history):
        allowed.append(_previous_draft(history))
    guarded = guard_draft(raw, allowed, exemplars)
    citations = _exemplar_citations(guarded.text, exemplars)
    done = llm.last_completion
    yield DraftResult(
        text=guarded.text,
        raw_text=raw,
        request=req,
        exemplars=tuple(exemplars),
        citations=tuple(citations),
        placeholders=tuple(p.to_json() for p in guarded.placeholders),
        unsupported=(),  # every unsupported specific became a placeholder
        style=style,
        prompt_id=prompt.id,
        prompt_hash=prompt.hash,
        model=llm.model_id,
        timing={
            "retrieval_s": round(retrieval_s, 3),
            "total_s": round(time.perf_counter() - t0, 3),
            "first_token_s": done.first_token_seconds if done else None,
        },
    )


def draft(index: Index, llm: LLM, req: DraftRequest, **kwargs) -> DraftResult:
    result = None
    for event in draft_stream(index, llm, req, **kwargs):
        if isinstance(event, DraftResult):
            result = event
    assert result is not None
    return result


def outline(index: Index, llm: LLM, req: DraftRequest) -> DraftResult:
    """The standard skeleton for a whole report, headings only."""
    exemplars = [p for p in hybrid_search(index, f"{req.role} 述职报告", k=6) if p.chunk.heading_path]
    headings = sorted({" > ".join(p.chunk.heading_path) for p in exemplars})
    prompt = load_prompt(index.settings, "draft_outline", "default")
    year = f"{req.year}年" if req.year else "本年度"
    messages = prompt.render(role=req.role, year=year, topic=req.topic, exemplars="\n".join(headings))
    t0 = time.perf_counter()
    done = llm.complete(messages, max_tokens=400, temperature=index.settings.temperature)
    guarded = guard_draft(done.text.strip(), [*req.facts, f"{req.year}年" if req.year else ""], exemplars)
    return DraftResult(
        guarded.text,
        done.text,
        req,
        tuple(exemplars),
        (),
        tuple(p.to_json() for p in guarded.placeholders),
        (),
        "提纲",
        prompt.id,
        prompt.hash,
        llm.model_id,
        {"total_s": round(time.perf_counter() - t0, 3)},
    )
