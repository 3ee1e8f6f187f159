"""Drafting report sections by chat, grounded in exemplars and the user's own facts.

retrieve exemplars of the same section type (role/level/year aware) → the corpus' house style
and length range for that type and role (``style``) → plan the points in code (``plan``: one per
user fact, on-topic exemplar points, topic aspects) → write each point in one short call
(``write``; the fact is written by code, framed for the section) → check each point (invented
incidents and praise out, ``incidents``; clauses copied from one colleague's report out,
``copying``) → ``guard_draft`` replaces every unsupported figure, date, name or place with a
visible placeholder → ``facts_unused``, ``longest_copy``, length, citations (each exemplar once).
A revision request edits the previous draft (taken from the chat history) in one call, then a
fact it dropped gets a point of its own.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from rag.drafting.copying import Report, copied_runs, corpus_reports, drop_copied_clauses, longest_copy
from rag.drafting.facts import facts_unused
from rag.drafting.incidents import INCIDENT_LABELS, remove_inventions
from rag.drafting.plan import Point, anchor, extra_point, fact_point, plan_points, spare_points
from rag.drafting.repeats import MIN_CHARS, drop_repeats, repeated_clauses
from rag.drafting.style import STYLE_ENUM, STYLE_NUMBERED, SectionProfile, section_profile
from rag.drafting.write import clean_output, extend_point, marker, shape, trim_to, write_point
from rag.grounding.citations import Citation, best_span, cite_span, overlap, split_sentences, strip_citations
from rag.grounding.draft_guard import guard_draft
from rag.index.index import Index
from rag.llm.base import LLM
from rag.prompts import load_prompt
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
_MAX_POINTS = 10  # planned and extra points of one section, at most
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
    # The user's facts the draft does not state as given: a warning, never silently dropped.
    facts_unused: tuple[str, ...] = ()
    # The longest run copied from a single past report (boilerplate shared by ≥2 reports is
    # exempt): {"chars", "text", "source", "report_index", "report_title"}.
    longest_copy: dict = field(default_factory=dict)
    # {"chars", "min", "max", "in_range", …the SectionProfile}: the corpus' range for the kind.
    length: dict = field(default_factory=dict)
    plan: tuple[dict, ...] = ()  # the points written, in order (rag.drafting.plan.Point)
    inventions: tuple[dict, ...] = ()  # invented incidents/outcomes/praise dropped or replaced
    copies_removed: tuple[str, ...] = ()  # clauses dropped as copied from one colleague's report
    repeats_removed: tuple[str, ...] = ()  # clauses dropped as repeating the point or the draft
    repeated: tuple[str, ...] = ()  # clauses of the final text that repeat an earlier one (a check)
    continued: int = 0  # continuation calls: a point short of its share got one more sentence

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
            "facts_unused": list(self.facts_unused),
            "longest_copy": self.longest_copy,
            "length": self.length,
            "plan": list(self.plan),
            "inventions": list(self.inventions),
            "copies_removed": list(self.copies_removed),
            "repeats_removed": list(self.repeats_removed),
            "repeated": list(self.repeated),
            "continued": self.continued,
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
        out.append(cite_span(n, p, qs, qe, idx, auto=True))
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
    """Yield the draft's text as it is written, then the checked DraftResult.

    A new section is planned in code (``rag.drafting.plan``: one point per fact, on-topic
    exemplar points, topic aspects) and written one short point at a time; a revision edits the
    previous draft in one call, then a fact it dropped gets a point of its own. The streamed
    pieces are the raw draft; the result's ``text`` is the one to show and keep."""
    kind = req.kind  # validate the section name before any work
    t0 = time.perf_counter()
    settings = index.settings
    exemplars = find_exemplars(index, req, k=3)
    profile = section_profile(index, kind, req.role)
    style = profile.style if profile.style_from != "none" else _style_of(exemplars)
    style_text = _STYLE_NUMBERED if style == STYLE_NUMBERED else _STYLE_ENUM
    target, n_points = shape(profile, req)
    point_prompt = load_prompt(settings, "draft", variant)
    retrieval_s = time.perf_counter() - t0
    revision = bool(message) and is_revision(message, history)
    checks = _Checks(req, corpus_reports(index))
    plan: list[Point] = []
    if revision:
        prompt = load_prompt(settings, "draft_revise", "default")
        messages = prompt.render(
            role=req.role,
            section=req.section,
            style=style_text,
            facts=_facts_text(req.facts),
            previous=_previous_draft(history or []),
            instruction=message,
        )
        pieces: list[str] = []
        max_tokens = max(settings.max_tokens, int(target * 1.6))
        for piece in llm.stream(messages, max_tokens=max_tokens, temperature=settings.temperature):
            pieces.append(piece)
            yield piece
        lines = [checks.point(x) for x in clean_output("".join(pieces)).split("\n") if x.strip()]
        unused = facts_unused(req.facts, "\n".join(lines))
        missing = [fact_point(kind, req.topic, f) for f in unused]
        if missing:
            yield "\n"
        for point in missing:  # a revision pass places each fact the rewrite dropped
            plan.append(point)
            mark = marker(style, len(lines))
            body = yield from write_point(llm, point_prompt, req, point, 60, mark, settings)
            yield "\n"
            lines.append(checks.point(mark + body))
        prompt_used = prompt
    else:
        # The chat message ("写存在问题部分") is no topic unless the form gave none.
        topic = req.topic or (message if len(message) <= 12 else "")
        planned = plan_points(kind, topic, req.facts, exemplars, n_points)
        chars = max(40, min(300, target // max(1, len(planned))))
        # a margin over the corpus' floor: the checks and placeholders can still shorten a point
        goal = min(int(profile.floor * 1.15), max(profile.max_kind, profile.floor))
        lines, plan, tried = [], [], list(planned)
        queue = list(planned)
        while queue:
            point = queue.pop(0)
            mark = marker(style, len(lines))
            # behind the goal: the points still to write share what is missing (a point stays a point)
            share = min(300, chars * 3 // 2, max(chars, (goal - sum(map(len, lines))) // (len(queue) + 1)))
            body = yield from write_point(llm, point_prompt, req, point, share, mark, settings)
            # checked first (inventions and copies out), so what is left of a repeat is real
            body, dropped = _own_repeats(checks.point(body), point, lines)
            checks.repeats_removed += dropped
            # this point's share of what the section still lacks, over every point it can still get
            left = len(queue) + 1 + min(spare_points(kind, req.topic, tried), _MAX_POINTS - len(tried))
            need = (goal - sum(map(len, lines))) / max(1, left)
            if body and len(body) < need * 0.85:  # short of its share: what it lacks, in one more call
                more = max(40, min(100, round(need - len(body))))
                body, dropped = yield from extend_point(llm, point_prompt, req, body, more, settings, lines)
                body = checks.point(body)
                checks.repeats_removed += dropped
                checks.continued += 1
            yield "\n"
            if body:  # empty: the model gave nothing usable for an aspect point
                plan.append(point)
                lines.append(mark + anchor(body, point, topic, lines))
            short = not queue and sum(map(len, lines)) < profile.floor and len(tried) < _MAX_POINTS
            extra = extra_point(kind, req.topic, tried) if short else None
            if extra is not None:  # shorter than any real section of its kind: one more point
                tried.append(extra)
                queue.append(extra)
        prompt_used = point_prompt
    raw = "\n".join(lines)
    revised_from = _previous_draft(history or []) if revision else ""
    result = _finish(llm, req, raw, exemplars, plan, profile, revised_from, checks)
    yield replace(
        result,
        style=style_text,
        prompt_id=prompt_used.id,
        prompt_hash=prompt_used.hash,
        timing=result.timing
        | {"retrieval_s": round(retrieval_s, 3), "total_s": round(time.perf_counter() - t0, 3)},
    )


@dataclass
class _Checks:
    """Each point is checked as soon as it is written (so a point emptied by the checks counts
    short and the section gets another): invented incidents/outcomes/praise and copied clauses out."""

    req: DraftRequest
    reports: list[Report]
    inventions: list[dict] = field(default_factory=list)
    copies_removed: list[str] = field(default_factory=list)
    repeats_removed: list[str] = field(default_factory=list)
    continued: int = 0  # continuation calls (a point short of its share got one more sentence)

    def point(self, line: str) -> str:
        line, found = remove_inventions(line, self.req.facts, self.req.kind)
        self.inventions += [i.to_json() for i in found]
        line, removed = drop_copied_clauses(line, copied_runs(line, self.reports, self.req.facts))
        self.copies_removed += removed
        return line


def _finish(
    llm: LLM,
    req: DraftRequest,
    raw: str,
    exemplars: Sequence[Passage],
    plan: Sequence[Point],
    profile: SectionProfile,
    previous: str,
    checks: _Checks,
) -> DraftResult:
    """Check the written draft: inventions out, copies out, unsupported specifics to
    placeholders, length within the corpus' range; then facts_unused, longest_copy, citations."""
    # Again over the final lines: a revision's extra points and any line the loop built.
    text = "\n".join(checks.point(line) for line in raw.split("\n"))
    text = trim_to(text, max(profile.max_kind, profile.floor), plan)
    # The request's year is a fact the user gave; in a revision, so is the previous
    # draft (already guarded, possibly edited by the user).
    allowed = [*req.facts, f"{req.year}年" if req.year else "", previous]
    guarded = guard_draft(text, allowed, exemplars)
    placeholders = [_retag(p.to_json()) for p in guarded.placeholders]
    cited = _plan_citations(guarded.text, plan, exemplars) + _exemplar_citations(guarded.text, exemplars)
    citations = _dedupe(cited)
    done = llm.last_completion
    chars = len(re.sub(r"\s", "", guarded.text))
    return DraftResult(
        text=guarded.text,
        raw_text=raw,
        request=req,
        exemplars=tuple(exemplars),
        citations=tuple(citations),
        placeholders=tuple(placeholders),
        unsupported=(),  # every unsupported specific became a placeholder
        style="",
        prompt_id="",
        prompt_hash="",
        model=llm.model_id,
        timing={"first_token_s": done.first_token_seconds if done else None},
        facts_unused=tuple(facts_unused(req.facts, guarded.text)),
        longest_copy=longest_copy(guarded.text, checks.reports, req.facts).to_json(),
        length={
            "chars": chars,
            "min": profile.floor,
            "max": max(profile.max_kind, profile.floor),
            "in_range": profile.floor <= chars <= max(profile.max_kind, profile.floor),
            **profile.to_json(),
        },
        plan=tuple(p.to_json() for p in plan),
        inventions=tuple(checks.inventions),
        copies_removed=tuple(checks.copies_removed),
        repeats_removed=tuple(checks.repeats_removed),
        repeated=tuple(repeated_clauses(guarded.text)),
        continued=checks.continued,
    )


def _own_repeats(body: str, point: Point, lines: Sequence[str]) -> tuple[str, list[str]]:
    """A clause the point says twice, or that an earlier point said, goes (the code-written
    opening stays); a point with nothing new is kept as written rather than emptied."""
    rest = body[len(point.opening) :] if body.startswith(point.opening) else body
    before = [*lines, point.opening] if point.opening else list(lines)
    kept, dropped = drop_repeats(rest, before, exact=MIN_CHARS, contained=1.0)
    return (body[: len(body) - len(rest)] + kept, dropped) if kept.strip("。；，、 ") else (body, [])


def _style_of(exemplars: Sequence[Passage]) -> str:
    return STYLE_NUMBERED if house_style(exemplars) == _STYLE_NUMBERED else STYLE_ENUM


def _retag(placeholder: dict) -> dict:
    """A gap left where an invented incident was is an ``incident`` placeholder, not the model's."""
    if placeholder["kind"] == "model" and placeholder["label"] in INCIDENT_LABELS:
        return placeholder | {"kind": "incident"}
    return placeholder


def _plan_citations(text: str, plan: Sequence[Point], exemplars: Sequence[Passage]) -> list[Citation]:
    """A point that follows an exemplar's point cites that point's heading in the exemplar."""
    out = []
    sentences = split_sentences(text)
    lines = text.split("\n")
    offsets = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
    for i, point in enumerate(plan):
        if point.exemplar is None or i >= len(lines) or point.exemplar > len(exemplars):
            continue
        p = exemplars[point.exemplar - 1]
        at = p.chunk.text.find(point.heading)
        if at < 0:
            continue
        idx = next((k for k, (s, e) in enumerate(sentences) if s <= offsets[i] < e), 0)
        start = p.chunk.start + at
        c = p.chunk
        out.append(
            Citation(
                point.exemplar,
                c.chunk_id,
                c.report_title,
                c.source,
                c.report_index,
                point.heading,
                start,
                start + len(point.heading),
                idx,
                auto=True,
            )
        )
    return out


def _dedupe(citations: Sequence[Citation]) -> list[Citation]:
    """Each exemplar listed once (its first citation)."""
    seen: set[str] = set()
    out = []
    for c in citations:
        if c.chunk_id not in seen:
            seen.add(c.chunk_id)
            out.append(c)
    return out


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
