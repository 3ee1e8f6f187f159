"""The user's facts in a draft: each used as given (figure and noun), framed for its section.

A fact is used when the draft says it verbatim, or when each of its figures stands in a sentence
of the draft that the figure binding (``rag.grounding.binding``) binds to that fact: the same value
for the same thing. Framing: in 存在问题/原因分析 an achievement fact is the context of a problem
(虽然全年组织集中学习12次，但…), in 下步打算 the baseline of a target (在…的基础上), in 履职情况
the achievement itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.grounding.binding import SourceText, bind_figures
from rag.grounding.citations import overlap
from rag.grounding.figures import extract_figures

_SENTENCE = re.compile(r"[^。！？；\n]+[。！？；]?")
_TRAIL = "。；，、;,.！!？? \t"


def clean_fact(fact: str) -> str:
    return fact.strip().strip(_TRAIL)


def fact_used(fact: str, text: str) -> bool:
    core = clean_fact(fact)
    if not core:
        return True
    if core in text:
        return True
    figures = extract_figures(core)
    sentences = [m.group() for m in _SENTENCE.finditer(text)]
    if not figures:  # a fact without a figure: its wording must be there, near enough
        return any(overlap(core, s) >= 0.6 for s in sentences)
    source = [SourceText("fact", core)]
    for fig in figures:
        bound = any(
            b.ok and f.raw == fig.raw for s in sentences if fig.raw in s for f, b in bind_figures(s, source)
        )
        if not bound:
            return False
    return True


def facts_unused(facts: Sequence[str], text: str) -> list[str]:
    """The user's facts the draft does not state as given (shown as a warning, never dropped)."""
    return [f for f in facts if clean_fact(f) and not fact_used(f, text)]


def opening(kind: str, fact: str) -> str:
    """The code-written start of the point that carries ``fact``, framed for the section kind."""
    core = clean_fact(fact)
    if kind in ("问题", "原因"):
        return f"虽然{core}，但"
    if kind == "打算":  # a plan given as a fact is the target itself, anything else its baseline
        return f"{core}，" if re.search(r"计划|力争|拟|将|预计|目标", core) else f"在{core}的基础上，"
    return f"{core}，"


def point_task(kind: str, topic: str) -> str:
    """What the model writes after the opening of a fact point (one short job)."""
    about = f"{topic}工作" if topic else "这项工作"
    return {
        "问题": f"用一两句话接着写{about}还存在的具体不足",
        "原因": f"用一两句话接着写{about}存在不足的主观原因",
        "打算": f"用一两句话接着写{about}下一步的具体措施",
    }.get(kind, f"用一两句话接着写{about}的具体做法")
