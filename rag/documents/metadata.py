"""Role, year and level (村/镇/乡/局) of a report, from its title and the head of its body.

Matching reads simplified copies (``to_simplified``), so 鄉黨委書記 is found as 乡党委书记; the
role returned is always in simplified characters.
"""

from __future__ import annotations

import re

from rag.documents.simplify import to_simplified

# Role → the level it implies (None: the unit must come from elsewhere). 社区 counts as 村 and
# 街道 as 镇: the same tier in the 县-乡镇-村 hierarchy.
_ROLE_LEVELS: dict[str, str | None] = {
    "村党总支书记": "村",
    "村党支部书记": "村",
    "村党委书记": "村",
    "村党组织书记": "村",
    "社区党委书记": "村",
    "社区党总支书记": "村",
    "社区党支部书记": "村",
    "镇党委书记": "镇",
    "乡党委书记": "乡",
    "街道党工委书记": "镇",
    "党工委书记": None,
    "党委书记": None,
    "党委副书记": None,
    "党总支书记": None,
    "党支部书记": None,
    "支部书记": None,
    "党组书记": None,
    "驻村第一书记": "村",
    "第一书记": None,
    "纪委书记": None,
    "纪工委书记": None,
    "乡长": "乡",
    "副乡长": "乡",
    "镇长": "镇",
    "副镇长": "镇",
    "街道办主任": "镇",
    "村主任": "村",
    "村委会主任": "村",
    "社区主任": "村",
    "组织委员": None,
    "宣传委员": None,
    "纪检委员": None,
    "统战委员": None,
    "武装部长": None,
    "组织部长": None,
    "宣传部长": None,
    "统战部长": None,
    "人大主席": None,
    "局长": "局",
    "副局长": "局",
}
_ROLE_RE = re.compile("|".join(sorted(_ROLE_LEVELS, key=len, reverse=True)))  # longest wins
_SELF_ROLE_RE = re.compile(rf"(?:作为|身为|担任)(?:[^，。；\n]{{0,6}}?)({_ROLE_RE.pattern})")
# "从石门乡调至清河镇任党委书记": the unit before 任 makes the generic role specific.
_UNIT_ROLE_RE = re.compile(r"(社区|街道|村|镇|乡)(?:任|担任|出任)(党委书记|党总支书记|党支部书记|党工委书记)")
_ORGAN_RE = re.compile(r"(?:党委|党总支|党支部|党工委|纪委|人民政府|政府)$")
_LEVEL_BEFORE = (("社区", "村"), ("街道", "镇"), ("村", "村"), ("镇", "镇"), ("乡", "乡"), ("局", "局"))
_LEVEL_CUES = (
    (re.compile("全村"), "村"),
    (re.compile("全镇"), "镇"),
    (re.compile("全乡"), "乡"),
    # "全局" also means "the overall situation" (全局观念, 顾全局): count only the bureau sense.
    (re.compile("(?<![顾从观统])全局(?!观|性|意识|高度|角度)"), "局"),
    (re.compile("机关"), "机关"),
)
_YEAR_RE = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_BODY_YEAR_RE = re.compile(r"(?<!\d)(20\d{2})\s*年")
_HEAD_WINDOW = 300


def find_year(title: str, body: str) -> int | None:
    match = _YEAR_RE.search(title) or _BODY_YEAR_RE.search(body[:_HEAD_WINDOW])
    return int(match.group(1)) if match else None


def _specific(text: str, match: re.Match[str] | None, group: int = 0) -> tuple[str, str] | None:
    """(role, text before it) of a match; 清河镇任党委书记 gives 镇党委书记."""
    if match is None:
        return None
    role, start = match.group(group), match.start(group)
    unit = _UNIT_ROLE_RE.search(text, max(0, start - 4), match.end(group))
    if unit and unit.end() == match.end(group) and unit.group(1) + unit.group(2) in _ROLE_LEVELS:
        return unit.group(1) + unit.group(2), text[: unit.start()]
    return role, text[:start]


def find_role(title: str, body: str) -> tuple[str | None, str]:
    """(role, text just before it): the title wins, then "作为X"/"担任X" in the body, then
    "调至…镇任党委书记" (→ 镇党委书记), then the first role in the body."""
    title, head = to_simplified(title), to_simplified(body[:_HEAD_WINDOW])
    found = (
        _specific(title, _ROLE_RE.search(title))
        or _specific(head, _SELF_ROLE_RE.search(head), 1)
        or _specific(head, _UNIT_ROLE_RE.search(head), 2)
        or _specific(head, _ROLE_RE.search(head))
    )
    return found if found else (None, "")


def find_level(title: str, body: str, role: str | None, before_role: str) -> str | None:
    title, body = to_simplified(title), to_simplified(body)
    if role and (level := _ROLE_LEVELS[role]):
        return level
    before_role = _ORGAN_RE.sub("", before_role)  # "xx乡党委组织委员": the unit before 党委
    for cue, level in _LEVEL_BEFORE:  # "乡组织部长": the unit is written just before the role
        if before_role.endswith(cue):
            return level
    if "机关" in title:
        return "机关"
    counts = [(len(pattern.findall(body)), -i, level) for i, (pattern, level) in enumerate(_LEVEL_CUES)]
    best = max(counts)
    return best[2] if best[0] else None
