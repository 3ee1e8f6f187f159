"""The rules of figure binding (``rag.grounding.binding``) that compare one occurrence of a figure
in a claim with one in a source: is it the same value, and do the qualifiers agree?

* the same value: equal figures (``rag.grounding.figures.same_figure``); counts across measure
  words (66支突击队 = 突击队66个, only where the noun matches: the caller checks); a multiple stated
  as a change (比上年多了一倍 = 是上年的两倍 = 翻了一番); a share word rounding a precise percentage
  (超过八成 for 81.4%, 约四分之三 for 74.8%, 过半 for 52.6%: the word's direction says which side);
* the qualifiers: direction (不足/超过/约), target vs result (预计/计划), the kind of change (增长12%
  vs 提高到12% vs 由…), its trend and base, the period (累计 vs 今年), the unit of a rate (每千人),
  the tone (仅有 vs 多达) and the whole of a ratio (占立案总数的 vs 占结案总数的).
"""

from __future__ import annotations

import math
import re

from rag.documents.simplify import to_simplified
from rag.grounding.binding_words import measure_word_families
from rag.grounding.clauses import Occurrence
from rag.grounding.figure_units import COUNT_UNITS, GROUP_UNITS
from rag.grounding.figures import Figure, same_figure

__all__ = ["CHANGE_CLASS", "compatible", "match_value", "may_be", "qualifier_problem", "unit_class"]

# How far a precise percentage may lie from a share word that rounds it (percentage points): 七成
# for 68–72 %, 约七成 for 65–75 %, 七成多 / 超过七成 for 70–80 %, 近七成 / 不到七成 for 60–70 %.
EXACT_ROUNDING = 2.5
ABOUT_ROUNDING = 5.0
BOUND_ROUNDING = 10.0
# A bound or round figure for a precise percentage: 近97% / 超过98% / 约97% for 96.8 % or 98.2 %.
PLAIN_BOUND = 1.0
# 三成 / 过半 / 四分之三: a share word (not 百分之三十, a precise figure written out).
_SHARE_WORD = re.compile(r"成|半|(?<!百)分之")
# Characters that name no whole of a ratio: 占全县总数的 and 占全县的 take the same whole.
_GENERIC = frozenset("全总数量额部之本的各")
CHANGE_CLASS = {"level": "level", "to": "level", "by": "by", "from": "from"}
_DIRECTIONS = {
    "exact": "确数",
    "lower": "下限（余/以上/超过）",
    "upper": "上限（不足/不到/近）",
    "about": "约数",
}
_CHANGES = {"level": "数值", "by": "变化幅度（增长/下降了多少）", "from": "起点（由…）"}


def compatible(a: Figure, b: Figure) -> tuple[bool, bool]:
    """(same value, units strictly compatible); counts of things match across measure words."""
    if same_figure(a, b):
        return True, True
    close = math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)
    units = {a.unit, b.unit}
    counts = a.kind == b.kind == "number" and units <= COUNT_UNITS
    # 个 stands for any measure word (66个突击队 = 66支); groups and people share theirs (名/人/支/家);
    # things of one family share theirs (电梯46部 = 46台); 68起 (cases) is no 68栋 (buildings).
    loose = counts and (
        "个" in units or units <= GROUP_UNITS or any(units <= f for f in measure_word_families())
    )
    return close and loose, False


def unit_class(f: Figure) -> str:
    return "%" if f.kind == "percent" else "count" if f.unit in COUNT_UNITS else f.unit


def _share_word(f: Figure) -> bool:
    return f.kind == "percent" and f.unit == "%" and _SHARE_WORD.search(to_simplified(f.raw)) is not None


def _rounds(claim: Occurrence, src: Occurrence) -> bool:
    """The claim's share word rounds the source's precise percentage (its direction says which
    side: 超过八成 for 81.4 %, not for 79 %; 近六成 for 57 %, not for 61 %)."""
    c, s = claim.fig, src.fig
    if s.kind != "percent" or s.unit != "%" or s.approx or _share_word(s) or c.kind != "percent":
        return False
    x, v = c.value, s.value
    if not _share_word(c):  # 近97% for 96.8 %: a plain percentage rounds only this little
        if claim.direction == "lower":
            return x < v <= x + PLAIN_BOUND
        if claim.direction == "upper":
            return x - PLAIN_BOUND <= v < x
        return claim.direction == "about" and abs(v - x) <= PLAIN_BOUND
    if claim.direction == "lower":
        return x < v <= x + BOUND_ROUNDING
    if claim.direction == "upper":
        return x - BOUND_ROUNDING <= v < x
    return abs(v - x) <= (ABOUT_ROUNDING if claim.direction == "about" else EXACT_ROUNDING)


def _times(o: Occurrence) -> float:
    """A multiple as a level: 多了一倍 (a change by one time) is 两倍 of the base (翻一番)."""
    return o.fig.value + 1 if CHANGE_CLASS[o.change] == "by" else o.fig.value


def match_value(claim: Occurrence, src: Occurrence) -> str:
    """How the source occurrence gives the claim's value: "strict" (the same figure), "loose" (a
    count in another measure word: the noun must match), "times" (the same multiple, one stated as
    a change), "rounded" (a share word rounding a precise percentage), or "" (another value)."""
    same, strict = compatible(claim.fig, src.fig)
    if same:
        return "strict" if strict else "loose"
    if claim.fig.unit == src.fig.unit == "倍" and math.isclose(_times(claim), _times(src), abs_tol=1e-9):
        return "times"
    return "rounded" if _rounds(claim, src) else ""


def qualifier_problem(
    claim: Occurrence, src: Occurrence, how: str = "strict", *, named_plan: bool = False
) -> str:
    """Why the qualifiers of the claim's figure differ from the source's ("" when they agree).
    ``how`` is ``match_value``'s answer (a rounded share has its own direction, a multiple its own
    change); ``named_plan``: the claim's only plan word, 计划, names a programme the source names too
    (营养改善计划覆盖1.2万名学生)."""
    directions = {claim.direction, src.direction}
    if how != "rounded" and claim.direction != src.direction and directions != {"exact", "about"}:
        return f"原文为{_DIRECTIONS[src.direction]}，陈述为{_DIRECTIONS[claim.direction]}"
    if claim.plan != src.plan and not (claim.plan and named_plan):
        return "原文是目标或预计，陈述说成了实绩" if src.plan else "原文是实绩，陈述说成了目标或预计"
    have, want = CHANGE_CLASS[src.change], CHANGE_CLASS[claim.change]
    if have != want and how != "times":
        return f"原文中该数是{_CHANGES[have]}，陈述中是{_CHANGES[want]}"
    if claim.trend and src.trend and claim.trend != src.trend:
        return "增减方向与原文相反"
    if claim.base and src.base and claim.base != src.base:
        return f"比较基准不同（原文比{src.base}，陈述比{claim.base}）"
    if {claim.period, src.period} == {"cumulative", "year"}:
        return (
            "原文是累计数，陈述说成当年数" if src.period == "cumulative" else "原文是当年数，陈述说成累计数"
        )
    if claim.per and src.per and claim.per != src.per:
        return f"计算单位不同（原文{src.per}，陈述{claim.per}）"
    if claim.tone and src.tone and claim.tone != src.tone:
        return "原文与陈述对这个数的说法相反（仅有/只有 与 多达/高达）"
    if _wholes_differ(claim.share, src.share):
        return f"比例的基数不同（原文占{src.share}的，陈述占{claim.share}的）"
    return ""


def _wholes_differ(a: str, b: str) -> bool:
    """占结案总数的 vs 占立案总数的: each names something the other does not (占全镇耕地面积的 and
    占耕地总面积的 do not differ: one only adds to the other). Characters, not bigrams: 结案/立案
    share 案总/总数."""
    if not a or not b:
        return False
    ca, cb = set(a) - _GENERIC, set(b) - _GENERIC
    return bool(ca - cb) and bool(cb - ca)


def may_be(claim: Occurrence, other: Occurrence) -> bool:
    """Could ``other`` be the claim's figure with another value? Not when it counts another
    period, per another unit or states another kind of change: 累计发展党员45名 takes no words from
    今年发展党员12名, nor 比上年多了2.1亿元 from the level 争取上级转移支付资金24.3亿元 it follows."""
    return (
        {claim.period, other.period} != {"cumulative", "year"}
        and not (claim.per and other.per and claim.per != other.per)
        and CHANGE_CLASS[claim.change] == CHANGE_CLASS[other.change]
    )
