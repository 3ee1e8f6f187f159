"""The direction of a figure (``rag.grounding.clauses``): an exact figure, a lower bound (余/以上/超过/
过半), an upper bound (不足/不到/近/以内/低于) or a round figure (约/左右), read from the figure and
the words right before it."""

from __future__ import annotations

import re

from rag.documents.simplify import to_simplified
from rag.grounding.figures import Figure

__all__ = ["direction"]

_LOWER = (
    "余",
    "多",
    "以上",
    "超过",
    "超",
    "逾",
    "过半",
    "不少于",
    "至少",
    "有余",
    "之多",
    "突破",
    "多于",
    "高于",
)
_UPPER = ("不足", "不到", "将近", "接近", "近", "以下", "以内", "低于", "少于", "不超过", "未超过", "不高于")
_ABOUT = ("大约", "约", "左右", "上下", "大概")


def direction(t: str, fig: Figure) -> str:
    """exact | lower | upper | about for ``fig`` in the simplified text ``t``."""
    raw = to_simplified(fig.raw)
    before = t[max(0, fig.start - 5) : fig.start].removesuffix("了")  # 超过了8万元 = 超过8万元
    if re.search(r"(?:不|未)$", before) and raw.startswith(("超过", "超", "高于")):
        return "upper"
    if before.endswith(("不低于", "不少于", "不小于")):  # before 低于/少于
        return "lower"
    if before.endswith(("不超过", "未超过", "不高于", "低于", "少于", "控制在")):
        return "upper"
    if before.endswith(("高于", "多于", "突破", "超出", "超过")):
        return "lower"
    found = ""
    for words, name in ((_UPPER, "upper"), (_LOWER, "lower"), (_ABOUT, "about")):
        for w in words:
            if (
                raw.startswith(w)
                or raw.endswith(w)
                or (w in ("余", "多") and re.search(rf"\d{w}|成{w}", raw))
            ):
                found = found or name
    if not found and re.search(r"[0-9一二三四五六七八九十百千万亿][余多][万亿千百]?[^\d]*$", raw):
        found = "lower"  # 9万多元, 3个多月
    clause_before = t[max(0, fig.start - 16) : fig.start]
    far = re.search(
        r"(不超过|未超过|不足|不到|低于|少于|超过|高于|多于|接近|将近)[^，。；、,;0-9]{0,10}的$",
        clause_before,
    )
    if not found and far:  # 不超过法定时限的一半, 已超过耕地总面积的40%
        found = "upper" if far[1] in _UPPER else "lower"
    if not found and re.search(r"(?:约|大约|大概)(?:占|为|是|有)?了?$", before):
        found = "about"  # 约占三成
    if not found and re.search(r"(?:近|将近|接近)(?:占|为|是|有)?了?$", before):
        found = "upper"
    return found or "exact"
