"""Invented events and judgments: a draft must not assert what nobody told it.

A clause that asserts an incident, accident, violation or a bad outcome (事故频发, 发生伤亡, 被问责,
受到处分, 造成…损失) that the user's facts do not state is an invention, and in a report the person
signs, a damaging one. So is an outcome claimed without a fact (全年未发生安全事故, 群众满意度
100%) and, in a 存在问题/原因分析 section, an achievement judgment (有效提升了…水平): there the
user's achievements are the context of a problem, never its conclusion.

Rules only: such a clause is dropped when its sentence says something else too (the general
statement remains), otherwise the sentence becomes a 【待补充：…】 placeholder. A warning or a
duty (严防重大事故发生, 坚决遏制事故, 防范化解风险) asserts nothing and stays.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Events and outcomes that, asserted, are facts someone must have given.
_INCIDENT = re.compile(
    r"事故(?:频发|多发|时有发生|高发|不断)|(?:发生|出现|造成|导致|引发|酿成)[^，。；]{0,12}"
    r"(?:事故|伤亡|死亡|亡人|火灾|险情|损失|群体性事件|舆情|上访|恶劣影响|不良影响)"
    r"|伤亡|死亡\d*人|亡人|被[^，。；]{0,8}?(?:问责|追责|约谈|通报|处分|立案|曝光|处罚|查处)|受到[^，。；]{0,8}(?:处分|问责|处理|处罚|通报批评)"
    r"|(?:违纪|违法|违规)(?:行为|问题|案件)?(?:时有发生|频发|多发)|造成[^，。；]{0,10}(?:损失|影响|后果)"
    r"|(?:群众|社会)(?:反映强烈|怨声载道|意见很大)"
)
# Outcomes claimed as results: true only if the user said so.
_OUTCOME = re.compile(
    r"(?:全年|全乡|全镇|全村|辖区)?(?:未|没有|无)发生[^，。；]{0,12}(?:事故|案件|事件|问题)|零事故|零发生"
    r"|满意度(?:达到|达|提升到|为)|(?:获得|荣获|受到)[^，。；]{0,12}(?:表彰|表扬|奖励|称号|好评)"
)
# In 问题 / 原因: the achievement framing (有效提升了…, 取得了明显成效) turns a problem into praise.
_PRAISE = re.compile(
    r"(?:有效|显著|明显|大幅|切实|进一步)(?:提升|提高|增强|改善|加强)了|取得了?[^，。；]{0,8}(?:成效|成绩|成果|进展)"
    r"|得到了?[^，。；]{0,8}(?:好评|认可|肯定)|成效(?:明显|显著)"
)
# A warning, a duty or a goal asserts no event.
_GUARDED = re.compile(
    r"严防|防止|防范|杜绝|遏制|避免|预防|确保[^，。；]{0,6}不|坚决|谨防|以防|防患|减少|降低|可能|容易|一旦|力争|不得|严禁"
)
# 发生事故的风险 / 事故隐患 is a risk; 事故频发和隐患… joins a second thing to the incident, guards nothing.
_GUARDED_AFTER = re.compile(r"^[^，。；和与及并、]{0,4}(?:的)?(?:风险|隐患|苗头|可能)")
_CLAUSE = re.compile(r"[^，；。！？\n]+[，；。！？]?")
_SENTENCE = re.compile(r"[^。！？\n]+[。！？]?")
PROBLEM_KINDS = ("问题", "原因")
PLACEHOLDER_RE = re.compile(r"【待补充[：:][^】]*】")
_MARKER = re.compile(r"^\s*(?:[一二三四五六七八九十]+是|[（(〔][一二三四五六七八九十]+[）)〕]|\d+[.、．])")


@dataclass(frozen=True)
class Invention:
    clause: str  # what the model wrote
    kind: str  # incident | outcome | praise
    action: str  # dropped | placeholder

    def to_json(self) -> dict:
        return {"clause": self.clause, "kind": self.kind, "action": self.action}


def _told(match: str, facts_text: str) -> bool:
    """The user stated it: the asserted words (minus the verb) occur in a fact."""
    core = re.sub(r"^(?:发生|出现|造成|导致|引发|酿成|被|受到|全年|未|没有|无)+", "", match)
    return bool(core) and (core in facts_text or match in facts_text)


def classify(clause: str, facts_text: str, section_kind: str) -> str | None:
    """incident / outcome / praise when ``clause`` asserts one the facts do not give, else None."""
    m = _OUTCOME.search(clause)
    if m and not _GUARDED.search(clause[: m.start()]):
        return None if _told(m.group(), facts_text) else "outcome"
    m = _INCIDENT.search(clause)
    guarded = m and (_GUARDED.search(clause[: m.start()]) or _GUARDED_AFTER.search(clause[m.end() :]))
    if m and not guarded and not _told(m.group(), facts_text):
        return "incident"
    if section_kind in PROBLEM_KINDS:
        m = _PRAISE.search(clause)
        if m and not re.search(r"有待|还需|仍需|不够|不足|不强|不高|欠缺|未能|没有", clause[: m.start()]):
            return "praise"
    return None


_LABELS = {"incident": "如确有事故、问责等情况，请据实填写", "outcome": "成效或结果，请据实填写"}
_OTHER = "请据实填写"
INCIDENT_LABELS = frozenset([*_LABELS.values(), _OTHER])


def _placeholder(kind: str) -> str:
    return f"【待补充：{_LABELS.get(kind, _OTHER)}】"


def remove_inventions(text: str, facts: Sequence[str], section_kind: str) -> tuple[str, list[Invention]]:
    """Drop or replace each invented incident, outcome or (in 问题/原因) praise clause."""
    facts_text = "\n".join(facts)
    found: list[Invention] = []
    lines = []
    for full in text.split("\n"):
        lead = _MARKER.match(full)
        marker, line = (lead.group(), full[lead.end() :]) if lead else ("", full)
        sentences = [marker]
        for s in _SENTENCE.finditer(line):
            clauses = [c.group() for c in _CLAUSE.finditer(s.group())]
            kinds = [classify(c, facts_text, section_kind) for c in clauses]
            if not any(kinds):
                sentences.append(s.group())
                continue
            keep = [c for c, k in zip(clauses, kinds, strict=True) if k is None]
            if keep and any(len(_MARKER.sub("", c)) > 4 for c in keep):
                new = "".join(keep)
                new = re.sub(r"[，；、]$", "", new)
                end = s.group()[-1] if s.group()[-1] in "。！？" else "。"
                sentences.append(new + ("" if new.endswith(("。", "！", "？")) else end))
                found += [Invention(c, k, "dropped") for c, k in zip(clauses, kinds, strict=True) if k]
            else:
                kind = next(k for k in kinds if k)
                sentences.append(_placeholder(kind) + "。")
                found += [Invention(c, k, "placeholder") for c, k in zip(clauses, kinds, strict=True) if k]
        lines.append("".join(sentences))
    return "\n".join(lines), found


def find_inventions(text: str, facts: Sequence[str], section_kind: str) -> list[str]:
    """The clauses of ``text`` that assert an invented incident, outcome or (问题/原因) praise."""
    facts_text = "\n".join(facts)
    return [
        c.group()
        for c in _CLAUSE.finditer(PLACEHOLDER_RE.sub("", text))
        if classify(c.group(), facts_text, section_kind)
    ]
