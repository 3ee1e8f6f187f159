"""Repeated clauses in a draft: a section padded by saying the same thing twice is no section.

A small model asked to write more about a point tends to say again what it has just said
(加强理论学习，提高政策理解能力，…加强理论学习，提高政策理解能力). A clause of the draft that is the
same as an earlier clause, or nearly (character-bigram Dice ≥ 0.8 after the point markers and
connectives go), is a repeat: ``repeated_clauses`` lists them (a check), ``drop_repeats`` removes
them from the text a model call added. Bigram Dice is a few lines here; a library (rapidfuzz)
would be one more dependency for one ratio.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.grounding.draft_guard import PLACEHOLDER

MIN_CHARS = 6  # a shorter clause (确保落实到位) is a set phrase that real sections repeat too
SIMILAR = 0.8
# 、 joins a list (one clause); a placeholder 【待补充：…】 is one piece of its clause
_CLAUSE = re.compile(r"(?:【[^】\n]*】|[^，,；;。！？：:\n【])+[，,；;。！？：:]?")
_MARKER = re.compile(r"^\s*(?:[一二三四五六七八九十]+是|[（(〔][一二三四五六七八九十]+[）)〕]|\d+[.、．])")
# Connectives that do not make a clause new (同时加强学习 repeats 加强学习).
_LEAD = re.compile(r"^(?:同时|此外|并且|并|还|也|要|但是?|虽然|进一步|不断|切实|持续|通过|坚持)+")


def _norm(clause: str) -> str:
    core = PLACEHOLDER.sub("", clause)
    core = re.sub(r"[\s，,、；;。！？：:“”\"'（）()]", "", core)
    return _LEAD.sub("", core)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def similar(a: str, b: str, contained: float = 1.0) -> bool:
    """``a`` says again what the earlier ``b`` said: equal, ``a`` inside ``b``, bigram Dice ≥
    ``SIMILAR``, or (``contained`` < 1) that share of ``a``'s bigrams found in ``b``: a clause
    that says the same again in other order (未能深入理解马克思主义理论 after 缺乏深入理解、
    灵活运用马克思主义理论的能力). One way only: a clause that holds a shorter earlier one and says
    more (在意识形态工作中能力本领还有差距 after 在意识形态工作中) is no repeat."""
    if a == b or (len(a) >= MIN_CHARS and len(b) >= MIN_CHARS and a in b):
        return True
    x, y = _bigrams(a), _bigrams(b)
    if not (x and y):
        return False
    common = len(x & y)
    return 2 * common / (len(x) + len(y)) >= SIMILAR or common / len(x) >= contained


def clauses(text: str) -> list[str]:
    """The clauses of a text (a point's marker is no clause)."""
    out = []
    for line in text.split("\n"):
        line = line[len(m.group()) :] if (m := _MARKER.match(line)) else line
        out += [c.group() for c in _CLAUSE.finditer(line)]
    return out


def _repeats(clause: str, earlier: Iterable[str], exact: int = MIN_CHARS, contained: float = 1.0) -> bool:
    """Near the same as an earlier clause (both ≥ MIN_CHARS), or the same one (≥ ``exact``)."""
    core = _norm(clause)
    if len(core) < exact:
        return False
    return any(
        core == e or (len(core) >= MIN_CHARS and len(e) >= MIN_CHARS and similar(core, e, contained))
        for e in earlier
    )


def repeated_clauses(text: str) -> list[str]:
    """Each clause of ``text`` that repeats an earlier clause of it (the check)."""
    seen: list[str] = []
    out = []
    for c in clauses(text):
        if _repeats(c, seen):
            out.append(c.strip("，,、；;。！？：: "))
        seen.append(_norm(c))
    return out


def drop_repeats(
    added: str, before: Sequence[str], *, exact: int = 2, contained: float = 0.75
) -> tuple[str, list[str]]:
    """``added`` without the clauses that repeat a clause of ``before`` (the draft so far, this
    point included) or an earlier clause of ``added`` itself. By default what a continuation adds
    must be new, so a short clause said again (问题一) or the same said in other order goes too;
    a point's first call is held to the check's rule (``exact=MIN_CHARS, contained=1``).
    Returns the text and what went."""
    seen = [_norm(c) for b in before for c in clauses(b)]
    kept: list[str] = []
    removed: list[str] = []
    for c in _CLAUSE.findall(added):
        if _repeats(c, seen, exact, contained):
            removed.append(c.strip("，,、；;。！？：: "))
            continue
        seen.append(_norm(c))
        kept.append(c)
    text = "".join(kept)
    if removed and text:  # a sentence cut short ends as a sentence
        text = re.sub(r"[，,、：:]$", "。", text)
    return text, removed
