"""Lists in a clause: what joins their items, the words that name no subject, and 分别 lists
(起数和死亡人数同比分别下降15%和10%: the n-th subject before 分别 is the n-th figure's)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.grounding.figures import Figure

# 参与率 / 普及率 / 惠及: 与 and 及 inside a word join nothing
AND = r"[、]|和|(?<![普涉危波惠顾触企])及|(?<![参给赋授])与|以及|并"
LIST_SEP = re.compile(AND)
# Words that say when, where, how much or how it changed, but not what is measured.
NOT_SUBJECT = re.compile(
    r"一年来|今年以来|今年|去年|上一年|前一年|上年|当年|之前|此前|以前|原来|原先|全年|年内|年底|年初|全镇|全乡|全县|全村|全市|全区|全社区|本镇|本乡|"
    r"本村|辖区|共计|总计|合计|累计|总共|一共|加起来|其中|分别|同比|环比|比上年|较上年|比去年|较去年|"
    r"增长了?|增加了?|提高了?|提升了?|上升了?|下降了?|减少了?|降低了?|压减|压缩|达到|达|预计|计划|"
    r"力争|有望|可达|约|大约|将近|接近|近|超过|不足|不到|不超过|以上|以下|以内|左右|多达|之多|低于|高于|"
    r"已经|已|均|都|全部|共|为|是|有|了|的|在(?![校读职岗编册园])|对|把|被|将|从|由|到|至|占|比|较|我们|我|本人|村里|镇里|"
    r"乡里|县里|局里|村集体从中"
)

# Where a topic before the first item of a 分别 list ends: 全县2360家单位中A、B、C级分别为….
TOPIC_END = re.compile(r"中(?![心央学国小层药医介秋期间标转华部])|里|的")


def respectively(
    t: str, clause: tuple[int, int], figs: Sequence[Figure]
) -> dict[int, tuple[str, str | None]]:
    """起数和死亡人数同比分别下降15%和10%: the n-th subject before 分别 is the n-th figure's.
    Per figure: (its words, the same without a noun it may share with the last item, or None)."""
    at = t.find("分别", *clause)
    if at < 0:
        return {}
    after = [f for f in figs if at < f.start < clause[1] and f.kind not in ("year", "date")]
    before = [f for f in figs if clause[0] <= f.start and f.end <= at]
    start = before[-1].end if before else clause[0]
    parts = [p for p in LIST_SEP.split(t[start:at]) if p.strip()]
    if len(after) < 2 or len(parts) < len(after):
        return {}
    parts = ["".join(parts[: len(parts) - len(after) + 1]), *parts[len(parts) - len(after) + 1 :]]
    topic = list(TOPIC_END.finditer(parts[0]))
    if topic and topic[-1].end() < len(parts[0]):  # …单位中A: the first item is A
        parts[0] = parts[0][topic[-1].end() :]
    # 受理和办结信访件 / 集体访、越级访批次 / A、B、C级: the last item's words beyond the length of
    # the other items are the noun they share. Code cannot tell that from 企业和农民专业合作社 (no
    # shared noun), so the reading without it is kept too.
    first = len("".join(NOT_SUBJECT.split(parts[0])).strip())
    tail = len(parts[-1]) - first
    alike = all(abs(len(p.strip()) - first) <= 1 for p in parts[1:-1])
    shared = parts[-1][first:] if alike and (tail >= 2 or (first == 1 and tail >= 1)) else ""
    return {
        f.start: (p + shared, p) if shared and n < len(parts) - 1 else (p, None)
        for n, (f, p) in enumerate(zip(after, parts, strict=True))
    }


def respectively_across(
    t: str, clause: tuple[int, int], figs: Sequence[Figure], subjects: Sequence[tuple[int, str]]
) -> dict[int, str]:
    """失业保险参保4.71万人，工伤保险参保6.35万人，分别比上年增长4.2%和7.8%: a 分别 clause with no
    subject of its own takes the subjects of the figures before it in the sentence, in order
    (``subjects``: (start, subject) of the sentence's figures so far)."""
    at = t.find("分别", *clause)
    if at < 0 or any(clause[0] <= f.start < at for f in figs):
        return {}
    after = [f for f in figs if at < f.start < clause[1] and f.kind not in ("year", "date")]
    named = [s for start, s in subjects if s and start < at]
    if len(after) < 2 or len(named) < len(after):
        return {}
    attribute = t[clause[0] : at]  # 规范管理率分别为78.4%和76.9%: each subject's 规范管理率
    return {f.start: s + attribute for f, s in zip(after, named[-len(after) :], strict=True)}
