"""Keep drafts free of invented specifics.

Every figure, date, person or place name in a draft must come from the user's
facts; anything else is replaced by a visible placeholder 【待补充：…】 that names
what is missing. A user's figure counts only for what the user gave it for
(``rag.grounding.binding``): facts 安全检查26次、集中学习12次 and a draft saying
集中学习26次 get a placeholder whose note shows the fact (原文：…). A figure copied
from an exemplar is someone else's figure, so it becomes a placeholder too, which
records the exemplar it came from (the user sees what the model borrowed and
decides). Redaction marks copied from sources (``**``, ``X``) are placeholders,
never facts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jieba
import jieba.posseg as pseg

from rag.grounding.binding import Binding, SourceText, bind_figures
from rag.grounding.figures import Figure, find_figure
from rag.schema import Passage

jieba.setLogLevel(logging.WARNING)

PLACEHOLDER = re.compile(r"【待补充[：:]([^】]*)】")
_REDACTION_RUN = re.compile(r"\*{1,}|(?<![A-Za-z])[XＸ]{1,}(?![A-Za-z])")
# Enumeration markers and other figures say nothing about what is missing.
_LABEL_NOISE = re.compile(
    r"^(?:[一二三四五六七八九十]+是|（[一二三四五六七八九十]+）|\d+[.、．])|\d+(?:\.\d+)?[年月日]?"
)
_CLAUSE_BREAK = re.compile(r"[，、；。！？：,;:\n（）()“”]")
# jieba's name tags alone are noisy on this register (it tags 安全检查 as a person), so a
# person needs a title after it and a place needs a place-name suffix.
_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
_TITLES = ("同志", "书记", "主任", "乡长", "镇长", "村长", "局长", "部长", "委员", "副乡", "副镇")
_PLACE_SUFFIX = re.compile(r"..+(?:村|镇|乡|县|街道|社区|组)$")
_GENERIC = frozenset(
    {"挂钩村", "示范村", "贫困村", "行政村", "自然村", "重点村", "各村", "本村", "本乡", "本镇"}
)


def _name_kind(word: str, flag: str, after: str) -> str | None:
    if word in _GENERIC:
        return None
    if flag in _PERSON_TAGS and 2 <= len(word) <= 3 and after.startswith(_TITLES):
        return "人名"
    if flag in (_PERSON_TAGS | {"ns"}) and _PLACE_SUFFIX.match(word):
        return "地名"
    return None


@dataclass(frozen=True, slots=True)
class Placeholder:
    label: str  # what the user should fill in
    original: str  # what the model had written there ("" for a redaction mark)
    kind: str  # figure | misbound_figure | exemplar_figure | name | place | redaction | model (the gap
    # the model left)
    exemplar: int | None = None  # passage number the borrowed figure came from
    note: str = ""  # for a user's figure put to another use: what the fact says (原文：…)

    def text(self) -> str:
        return f"【待补充：{self.label}】"

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "original": self.original,
            "kind": self.kind,
            "text": self.text(),
            "exemplar": self.exemplar,
            "note": self.note,
        }


@dataclass(frozen=True)
class GuardResult:
    text: str
    placeholders: tuple[Placeholder, ...]
    from_facts: tuple[str, ...]  # specifics kept because the user gave them


def _unit_noun(fig: Figure) -> str:
    if fig.kind == "percent":
        return "比例"
    if fig.kind in ("year", "date"):
        return "时间"
    if fig.unit in ("元",):
        return "金额"
    if fig.unit in ("亩", "平方米", "平方公里", "公顷", "米", "公里"):
        return "规模"
    return "数量"


def figure_label(text: str, fig: Figure) -> str:
    """'全年开展安全检查26次' → '全年开展安全检查次数': the clause before the figure + its measure."""
    head = _CLAUSE_BREAK.split(text[: fig.start])[-1].strip()
    head = _LABEL_NOISE.sub("", _REDACTION_RUN.sub("", PLACEHOLDER.sub("", head)))[-12:]
    noun = "次数" if fig.unit in ("次", "场次", "轮次", "人次") else _unit_noun(fig)
    return f"{head}{noun}" if head else noun


def _replace_spans(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


# A small model sometimes writes a gap in round brackets, or wraps one of the user's own
# facts in one: （待补充：全年开展主题党日12次）.
_ROUND_GAP = re.compile(r"[（(]待补充[：:]([^（）()\n]*)[）)]")


def _normalise_gaps(text: str, facts_text: str) -> str:
    """A user's fact written as a gap becomes the fact; any other round-bracket gap becomes
    a real 【待补充：…】 placeholder, so it is highlighted and listed."""

    def fix(m: re.Match) -> str:
        inner = m.group(1).strip()
        if inner and inner in facts_text:
            after = text[m.end() : m.end() + 1]
            ends = inner[-1] in "。；！？" or (after != "" and after in "。；，")
            return inner + ("" if ends else "。")
        return f"【待补充：{inner}】"

    return _ROUND_GAP.sub(fix, text)


def guard_draft(text: str, facts: Sequence[str], exemplars: Sequence[Passage]) -> GuardResult:
    """Replace every unsupported specific in ``text`` by a placeholder."""
    facts_text = "\n".join(facts)
    text = _normalise_gaps(text, facts_text)
    edits: list[tuple[int, int, str]] = []
    placeholders: list[Placeholder] = []
    kept_facts: list[str] = []
    # Gaps the model marked itself are listed too: the user fills in every 【待补充】 shown.
    placeholders += [Placeholder(m.group(1).strip(), "", "model") for m in PLACEHOLDER.finditer(text)]

    fact_texts = [SourceText("facts", f) for f in facts if f.strip()]
    for fig, binding in _bindings(text, fact_texts):
        if PLACEHOLDER.search(text[max(0, fig.start - 8) : fig.end + 1]):
            continue
        if binding.ok:
            kept_facts.append(fig.raw)
            continue
        n = next((i for i, p in enumerate(exemplars, 1) if find_figure(fig, p.chunk.text) is not None), None)
        kind = "figure" if n is None else "exemplar_figure"
        note = ""
        if binding.match == "misbound" and find_figure(fig, facts_text) is not None:
            kind, n, note = "misbound_figure", None, binding.note()
        ph = Placeholder(figure_label(text, fig), fig.raw, kind, n, note)
        placeholders.append(ph)
        edits.append((fig.start, fig.end, ph.text()))

    known = facts_text + "\n".join(p.chunk.text for p in exemplars)
    taken = [(s, e) for s, e, _ in edits]
    pos = 0
    for word, flag in pseg.cut(text):
        start, pos = pos, pos + len(word)
        kind = _name_kind(word, flag, text[pos : pos + 3])
        if kind is None or word in known or any(s < pos and start < e for s, e in taken):
            continue
        ph = Placeholder(kind, word, "name" if kind == "人名" else "place")
        placeholders.append(ph)
        edits.append((start, pos, ph.text()))
        taken.append((start, pos))

    for m in _REDACTION_RUN.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        ph = Placeholder("原文隐去的内容", m.group(), "redaction")
        placeholders.append(ph)
        edits.append((m.start(), m.end(), ph.text()))

    return GuardResult(_replace_spans(text, edits), tuple(placeholders), tuple(kept_facts))


def _bindings(text: str, facts: list[SourceText]) -> list[tuple[Figure, Binding]]:
    """Each figure of the draft bound against the user's facts, sentence by sentence."""
    out = []
    for m in re.finditer(r"[^。！？；\n]+[。！？；]?", text):
        for fig, b in bind_figures(m.group(), facts):
            at = m.start()
            out.append(
                (Figure(fig.raw, fig.start + at, fig.end + at, fig.value, fig.unit, fig.kind, fig.approx), b)
            )
    return out


def placeholders_in(text: str) -> list[str]:
    """Labels of the placeholders a text contains (the model may write some itself)."""
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]
