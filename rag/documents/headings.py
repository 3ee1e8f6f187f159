"""What a line or a paragraph *says* about the skeleton: section kinds from heading words,
bare (unnumbered) headings, the closing line, and the wording that opens the problems or the
plans of a report that has no heading for them.

Every function here reads simplified text (``rag.documents.simplify.to_simplified``): callers
pass the simplified copy, so 繁體 reports match the same words.
"""

from __future__ import annotations

import re

KIND_RULES = (
    ("问题", ("问题", "不足", "差距", "短板")),
    ("原因", ("原因",)),
    ("打算", ("下步", "下一步", "打算", "今后", "明年")),
    (
        "履职",
        (
            "履职", "工作情况", "基本情况", "特色", "亮点", "成效", "做法", "主要工作", "成绩", "述职",
            "开展情况", "履行职责", "职责情况", "分管工作", "回顾", "一年来", "做了", "干了", "做的",
        ),
    ),
    ("打算", ("思路", "措施", "计划", "方向", "努力")),
)  # fmt: skip
# Phrases that hold a problem word but name an action (三、抓民生补短板): not a 问题 heading.
_ACTION_PHRASES_RE = re.compile(r"补齐?短板|补上短板|解难题|解决问题|问题导向|破解[^，。]{0,6}问题")
# A unit's own background (社区基本情况, 全村概况) is 其他, not the duty report.
_BACKGROUND_RE = re.compile(r"(?:社区|村|镇|乡|街道|辖区|单位|全局|本局)(?:的)?(?:基本情况|概况|简介)$")
_INTEGRITY_RE = re.compile(r"廉洁自律|廉政|述廉")

CLOSING_RE = re.compile(r"^以上.{0,20}(?:述职|报告|汇报)|批评指正|请予评议|请予审议|谢谢大家")
# A speech ends by addressing the audience again: "同志们，…" just before the closing line.
SPEECH_WRAP_RE = re.compile(r"^(?:各位[^，,：:]{0,12}、)?同志们[，,！!]")
ADDRESS_RE = re.compile(r"^(?:尊敬的|各位|同志们)[^。]{0,24}[：:]$")

_BARE_MAX = 20
_BARE_PUNCT_RE = re.compile(r"[。！？；;!?，,“”\"]|[：:]$")
_BARE_NOT_RE = re.compile(
    r"^\d|^[（(〔\[]|^[一二三四五六七八九十]{1,3}[、．.]|\d{4}\s*年\s*\d{1,2}\s*月|^以上|同志们"
    r"|^(?:述职人|报告人|汇报人|姓名|单位|职务|日期|时间)\s*[：:]"  # a header field, not a heading
)
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")

# The paragraph (or sentence) that opens the problems / the plans.
_QUANT = r"(?:一些|不少|许多|诸多|很多|以下|一定的?|着一些|着不少|着)?"
PROBLEM_OPENER_RE = re.compile(
    rf"(?:还|仍|仍然|依然|也|尚|同时)(?:存在|有){_QUANT}(?:的)?(?:不足|问题|差距|短板|薄弱环节|困难)"
    r"|(?:不足|问题|差距|短板)(?:也|还|仍然|依然)?(?:很|比较|十分|较为)?(?:明显|突出)"
    r"|(?:不足|问题|差距|短板)(?:主要)?(?:是|有|表现在|体现在)[：:]"
    r"|存在的(?:主要)?(?:问题|不足)"
)
PLAN_OPENER_RE = re.compile(
    r"^(?:[^，。：:]{0,4}[，,])?(?:下一步|下步|今后|新的一年|明年|来年|未来一年|展望)"
    r"|^(?:20\d{2}年|新的一年)[，,]?(?:我们|我)(?:将|要|打算|计划)"
)
_OPENER_WINDOW = 40  # the opening clause of a paragraph, where the wording must stand


def kind_of(heading: str) -> str:
    """Section kind from a heading's words (numbering already removed), simplified text."""
    if _BACKGROUND_RE.search(heading):
        return "其他"
    words = _ACTION_PHRASES_RE.sub("", heading)
    for kind, keys in KIND_RULES:
        if any(word in words for word in keys):
            return kind
    return "其他"


def has_section_words(line: str) -> bool:
    return kind_of(line) != "其他" or bool(_BACKGROUND_RE.search(line) or _INTEGRITY_RE.search(line))


def is_bare_heading(line: str) -> bool:
    """A short line without sentence punctuation: a heading when something follows it."""
    s = line.strip()
    if not 2 <= len(s) <= _BARE_MAX or not _HAN_RE.search(s):
        return False
    if _BARE_PUNCT_RE.search(s) or _BARE_NOT_RE.search(s) or CLOSING_RE.search(s):
        return False
    return not s.endswith(("报告", "汇编"))


def opens_problems(paragraph: str) -> bool:
    """还存在一些不足：… / 我们的短板也很明显。 in the opening clause of the paragraph."""
    head = re.split(r"[。！？!?]", paragraph[: _OPENER_WINDOW + 20], maxsplit=1)[0][:_OPENER_WINDOW]
    return bool(PROBLEM_OPENER_RE.search(head))


def opens_plans(paragraph: str) -> bool:
    """下一步，我们将… / 明年，我想再办三件事：… at the start of the paragraph."""
    return bool(PLAN_OPENER_RE.search(paragraph.lstrip()))
