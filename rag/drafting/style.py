"""House style and length of a section type, learned from the corpus (the index's chunks).

For a section kind (问题, 履职 …) and a role: which enumeration the real sections use (（一）
subsections or 一是/二是), and how long they are: the shortest real section of that kind and
role is the floor for a draft, the range of the kind over every role bounds it. Nothing here is
a hand list: a new corpus brings its own style and lengths.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rag.index.index import Index
from rag.schema import Chunk

STYLE_NUMBERED = "numbered"  # （一）（二）…, one point per line, a short heading first
STYLE_ENUM = "enum"  # 一是……二是……
_NUMBERED = re.compile(r"(?:^|\n)\s*[（(〔][一二三四五六七八九十]+[）)〕]")
_ENUM = re.compile(r"[一二三四五六七八九十]是")
# A corpus without the kind at all: a conservative range (characters) rather than none.
FALLBACK_RANGE = (150, 600)


@dataclass(frozen=True)
class SectionProfile:
    kind: str
    role: str
    style: str  # STYLE_NUMBERED | STYLE_ENUM
    style_from: str  # "role": sections of this role decided it; "kind": all roles; "none"
    min_role: int | None  # shortest real section of this kind and role (characters)
    min_kind: int  # shortest / longest real section of this kind, any role
    max_kind: int
    sections: int  # real sections of this kind in the corpus

    @property
    def floor(self) -> int:
        """A draft is at least the shortest real section of its kind and role (or kind)."""
        return self.min_role if self.min_role is not None else self.min_kind

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "role": self.role,
            "style": self.style,
            "style_from": self.style_from,
            "min_role": self.min_role,
            "min_kind": self.min_kind,
            "max_kind": self.max_kind,
            "sections": self.sections,
        }


def _covered(chunks: Iterable[Chunk]) -> int:
    """Characters a section covers: the union of its chunks' spans (chunks may overlap)."""
    total, reach = 0, -1
    for c in sorted(chunks, key=lambda c: c.start):
        lo = max(c.start, reach)
        if c.end > lo:
            total += c.end - lo
        reach = max(reach, c.end)
    return total


def _style_counts(chunks: Iterable[Chunk]) -> tuple[int, int]:
    numbered = inline = 0
    for c in chunks:
        text = "\n".join([*c.heading_path, c.text])
        numbered += len(_NUMBERED.findall(text))
        inline += len(_ENUM.findall(text))
    return numbered, inline


def section_profile(index: Index, kind: str, role: str) -> SectionProfile:
    """Style and length range of ``kind`` sections in the index, for ``role`` where it has them."""
    sections: dict[tuple[str, int], list[Chunk]] = defaultdict(list)
    roles: dict[tuple[str, int], str | None] = {}
    for c in index.store.iter_chunks():
        if c.section == kind:
            sections[(c.source, c.report_index)].append(c)
            roles[(c.source, c.report_index)] = c.role
    lengths = {key: _covered(chunks) for key, chunks in sections.items()}
    mine = [key for key in sections if roles[key] == role]
    all_lengths = [n for n in lengths.values() if n > 0]
    lo, hi = (min(all_lengths), max(all_lengths)) if all_lengths else FALLBACK_RANGE
    min_role = min((lengths[k] for k in mine if lengths[k] > 0), default=None)

    style, style_from = STYLE_ENUM, "none"
    for scope, keys in (("role", mine), ("kind", list(sections))):
        numbered, inline = _style_counts(c for k in keys for c in sections[k])
        if numbered or inline:
            style = STYLE_NUMBERED if numbered > inline else STYLE_ENUM
            style_from = scope
            break
    return SectionProfile(kind, role, style, style_from, min_role, lo, hi, len(sections))
