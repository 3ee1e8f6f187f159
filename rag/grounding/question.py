"""A short answer is read with its question: 2个 answering 建了多少个村级人大代表联络室？ is
建了2个村级人大代表联络室 (``rag.grounding.binding`` binds it so)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.grounding.figures import Figure

__all__ = ["answered_parts"]

# 多少个 / 几名 / 多少: the words a figure of the answer stands for.
_ASKED = re.compile(r"多少[^\W\d]?|几[^\W\d]?")
_QUESTION_PARTS = re.compile(r"[，,；;？?。！!、]|以及|和")


def answered_parts(question: str, figs: Sequence[Figure]) -> dict[int, str]:
    """For bare figures of an answer, the question part each answers with the figure put in place
    of 多少/几: 建成了多少个村级人大代表联络室？ + 12个 → 建成了12个村级人大代表联络室. Parts pair with
    figures in order when their numbers agree, else by measure word, else a lone part takes all."""
    parts = [p for p in _QUESTION_PARTS.split(question) if _ASKED.search(p)]
    if not parts or not figs:
        return {}
    if len(parts) == len(figs):
        pairs = list(zip(figs, parts, strict=True))
    elif len(parts) == 1:
        pairs = [(f, parts[0]) for f in figs]
    else:  # 有多少户农户以土地经营权入股？入股多少亩？ + 270亩 → 入股270亩
        pairs, free = [], list(parts)
        for f in figs:
            part = next((p for p in free if f.unit and f.unit in _ASKED.search(p).group()), None)
            if part is not None:
                pairs.append((f, part))
                free.remove(part)
    return {f.start: _ASKED.sub(lambda m, f=f: f.raw, p, count=1) for f, p in pairs}
