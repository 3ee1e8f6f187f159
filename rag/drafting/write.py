"""Writing one point of a planned section: a short prompt, the user's fact written by code at
the start, the model's continuation cleaned into one point of the house style."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from rag.drafting.plan import Point
from rag.drafting.repeats import drop_repeats
from rag.drafting.style import STYLE_NUMBERED, SectionProfile
from rag.grounding.draft_guard import PLACEHOLDER
from rag.llm.base import LLM
from rag.prompts import PromptTemplate
from rag.settings import Settings

_CN = "一二三四五六七八九十"


_FENCE_ECHO = re.compile(r"^\s*(?:<<<资料.*?>>>|来源：.*)\s*$", re.M)


def clean_output(text: str) -> str:
    """Drop fence markers and source lines a small model may echo from the prompt."""
    return re.sub(r"\n{3,}", "\n\n", _FENCE_ECHO.sub("", text)).strip()


def marker(style: str, i: int) -> str:
    n = _CN[i] if i < len(_CN) else str(i + 1)
    return f"（{n}）" if style == STYLE_NUMBERED else f"{n}是"


_LEAD = re.compile(
    r"^\s*(?:[（(〔][一二三四五六七八九十]+[）)〕]|\d+[.、．]|[一二三四五六七八九十]是|第[一二三四五六七八九十]+[，、])"
)


_ECHO = re.compile(r"^[^。；]{0,30}(?:部分|要求|开头)[:：]")
# A list inside one point: its markers go, its items stay.
_INNER = re.compile(
    r"[（(][一二三四五六七八九十\d]+[）)]|(?<![\d.])\d[.、．](?!\d)|(?<=[：:；;。，])[一二三四五六七八九十]是"
)
_SENTENCES = re.compile(r"[^。！？；]+[。！？；]?")
# A lead-in that promises a list (主要表现在以下几个方面：): the list's items are the point.
_PREAMBLE = re.compile(r"[^。；：:]*(?:以下|如下|几个方面)[^。；：:]*[：:]")
_TASK_ECHO = re.compile(
    r"[一两三四]{2}句话|用一句话|不重复前面|\d*字左右|约\d+字|【待补充：数量】字|“(?:存在问题|履职情况|下步打算|原因分析)”[:：]"
)
_DANGLING = re.compile(r"以下|如下|几个方面[。；]|[:：][。；]?$")
# The report read back as a source (社区党委书记在2024年述职报告中提到，…): no content.
_REPORT_ECHO = re.compile(r"[^。；，：:]*述职报告[^。；，：:]*[，：:]")
# A fragment a continuation ends on (在实际工作中。): cut off by the token limit, says nothing.
_FRAGMENT = re.compile(r"(?:^|(?<=[。！？；]))[^。！？；]{1,7}[。！？；]?$")
# What a continuation call is asked for, per section kind: one more sentence of the same point.
_MORE = {
    "问题": "再用{n}写这一不足在工作中的具体表现，不重复前面的内容",
    "原因": "再用{n}写这一原因在思想和工作上的具体表现，不重复前面的内容",
    "打算": "再用{n}写落实这项措施的具体办法，不重复前面的内容",
    "履职": "再用{n}写这项工作的一个具体做法或实际成效，不重复前面的内容",
}


def sentences(chars: int) -> str:
    """How many sentences ``chars`` characters are (a prompt that says 一两句话 gets ~40)."""
    return "一两句话" if chars < 80 else "两三句话" if chars < 150 else "三四句话"


def point_body(point: Point, raw: str, max_chars: int, role: str = "") -> str:
    """The model's continuation made one point: markers, quotes and a repeated opening removed,
    the user's fact kept as given at the start, cut at a sentence end."""
    text = re.sub(r"\s+", "", clean_output(raw)).strip('“”"')
    text = _ECHO.sub("", text)  # the task read back: 组织委员2024年述职报告“存在问题”部分：
    text = _REPORT_ECHO.sub("", text)
    text = _PREAMBLE.sub("", text)  # 存在以下不足：一是… → 一是…
    text = _INNER.sub("", _LEAD.sub("", text))
    if role:  # the signer writes in the first person: 社区党委书记注重宣传引导 → 注重宣传引导
        text = re.sub(rf"^(?:\d{{4}}年[，,]?)?(?:作为)?{re.escape(role)}[，,]?", "", text)
    # a sentence that reads the instructions back (用一两句话写…、…字) is no content
    text = "".join(
        s for s in _SENTENCES.findall(text) if not _DANGLING.search(s) and not _TASK_ECHO.search(s)
    )
    if not text.strip("。；，、 "):  # nothing usable: the fact alone, or a gap to fill (never empty)
        return (
            point.opening + "【待补充：具体表现】。"
            if point.opening.endswith("但")
            else (point.opening.rstrip("，") + "。" if point.opening else "")
        )
    if point.opening:
        if point.fact and point.fact in text:  # the model restated the fact: keep what follows it
            text = text.split(point.fact, 1)[1]
        text = text.lstrip("，,、的基础上")
        if point.opening.endswith("但"):
            text = re.sub(r"^(?:但是?|然而|可是)[，,]?", "", text)
        text = point.opening + text
    else:  # a point of its own does not open with a contrast
        text = re.sub(r"^(?:但是?|然而|可是|同时|此外)[，,]?", "", text)
    if not text.endswith(("。", "！", "？", "】", "；")):  # cut off by the token limit: a partial clause
        cut = max(text.rfind(m) for m in "。；！？，")
        text = text[: cut + 1] if cut > len(point.opening) + 4 else text
    if len(text) > max_chars:
        cut = max(text.rfind(m, 0, max_chars) for m in "。；！")
        for marks in ("，；", "、"):  # no sentence end: the last clause boundary, never mid-word
            if cut <= len(point.opening):
                cut = max(text.rfind(m, 0, max_chars) for m in marks)
        text = text[: cut + 1] if cut > len(point.opening) else text[:max_chars]
    text = text.rstrip("，、；：,;:")
    return text if text.endswith(("。", "！", "？", "】")) else text + "。"


def _generate(llm: LLM, prompt: PromptTemplate, req, point: Point, chars: int, settings: Settings):
    """Stream one short call for ``point``; the return value is the raw text."""
    year = f"{req.year}年" if req.year else ""
    messages = prompt.render(
        role=req.role,
        year=year,
        section=req.section,
        topic=req.topic,
        task=point.task,
        opening=point.opening,
        length=chars,
        sentences=sentences(chars),
    )
    pieces: list[str] = []
    max_tokens = int(chars * 1.1) + 16  # a Qwen token is ~1.3 Chinese characters: some margin
    for piece in llm.stream(messages, max_tokens=max_tokens, temperature=settings.temperature):
        pieces.append(piece)
        yield piece
    return "".join(pieces)


def write_point(
    llm: LLM, prompt: PromptTemplate, req, point: Point, chars: int, mark: str, settings: Settings
) -> Iterator[str]:
    """Stream one point (marker and code-written opening first; the caller ends the line); the
    return value is its body."""
    yield mark + point.opening
    raw = yield from _generate(llm, prompt, req, point, chars, settings)
    return point_body(point, raw, int(chars * 1.4) + len(point.opening), req.role)


def extend_point(
    llm: LLM,
    prompt: PromptTemplate,
    req,
    body: str,
    chars: int,
    settings: Settings,
    before: Sequence[str],
) -> Iterator[str]:
    """One continuation call for a point shorter than its share of the section: the point so far
    is the opening, the model adds what the point lacks (``chars``: one sentence, or two for a
    long gap) of 做法/成效, 表现, 办法. What it adds goes through
    the same cleanup, and a clause repeating the point or the draft so far is dropped (no
    padding). The return value is (the point, the clauses dropped as repeats)."""
    task = _MORE.get(req.kind, _MORE["履职"]).format(n="一句话" if chars < 60 else "一两句话")
    raw = yield from _generate(llm, prompt, req, Point("more", task, opening=body), chars, settings)
    added = point_body(Point("more", task), raw, int(chars * 1.4), req.role) if raw.strip() else ""
    added, removed = drop_repeats(added, [*before, body])
    added = _FRAGMENT.sub("", added)
    if not PLACEHOLDER.sub("", added).strip("。；，、 "):
        return body, removed
    return body.rstrip("，、；：") + ("" if body.endswith(("。", "！", "？")) else "。") + added, removed


def shape(profile: SectionProfile, req) -> tuple[int, int]:
    """(target characters, points): the request's length within the corpus' range for the kind,
    at least the shortest real section of the kind and role; ~90 characters a point."""
    floor, ceiling = profile.floor, max(profile.max_kind, profile.floor)
    target = min(max(req.length, int(floor * 1.15)), int(ceiling * 0.9) or ceiling)
    target = max(target, floor)
    n_facts = sum(1 for f in req.facts if f.strip())
    return target, max(n_facts, min(5, max(3 if target >= 200 else 2, round(target / 90))))


_SENT = re.compile(r"[^。！？\n]+[。！？]?")


def trim_to(text: str, limit: int, plan: Sequence[Point]) -> str:
    """Drop closing sentences, then closing clauses, of the longest points until the text fits
    the kind's range. A point keeps its first clauses: the code-written opening that carries the
    user's fact and the first thing the model said after it."""
    lines = text.split("\n")
    keep = [len(p.opening) + 8 for p in plan] + [8] * max(0, len(lines) - len(plan))
    while sum(len(x) for x in lines) > limit:
        sentences = [[m.group() for m in _SENT.finditer(x)] for x in lines]
        multi = [i for i in range(len(lines)) if len(sentences[i]) > 1]
        if multi:
            longest = max(multi, key=lambda i: len(lines[i]))
            lines[longest] = "".join(sentences[longest][:-1])
            continue
        cuts = {
            i: max(lines[i].rfind("，", 0, len(lines[i]) - 1), lines[i].rfind("；"))
            for i in range(len(lines))
        }
        cuts = {i: c for i, c in cuts.items() if c > keep[i]}
        if not cuts:
            break
        longest = max(cuts, key=lambda i: len(lines[i]))
        lines[longest] = lines[longest][: cuts[longest]] + "。"
    return "\n".join(lines)
