"""Plan a section before writing it: the points, in code, so the model does one short job each.

Points: one per user fact (framed for the section, see ``rag.drafting.facts``), then the typical
points of that section type in the exemplars that are about the topic (their headings: what a
colleague's section covers, never its words beyond the heading), then topic aspects of the
section type, until the section has enough points for its length. An exemplar point about
something else than the topic is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import jieba

from rag.documents.simplify import to_simplified
from rag.drafting.facts import clean_fact, opening, point_task
from rag.schema import Passage

# The start of a point in a real section: （一） 〔一〕 (一) 1. 一是 第一
_POINT = re.compile(
    r"(?:^|\n|。|；)\s*(?:[（(〔][一二三四五六七八九十]+[）)〕]|\d+[.、．]|[一二三四五六七八九十]是)"
)
_HEADING_END = re.compile(r"[，。；：\n]")
# Aspects of a section type when neither facts nor exemplars give enough points on the topic.
ASPECTS = {
    "问题": (
        "责任落实还不够到位",
        "工作方式方法创新不够",
        "长效机制还不够健全",
        "能力本领还有差距",
        "群众工作本领还需提升",
        "工作作风还不够扎实",
        "调查研究还不够深入",
        "统筹协调还不够有力",
    ),
    "原因": (
        "思想认识还不够到位",
        "学习钻研还不够深入",
        "制度执行还不够严格",
        "担当精神还需加强",
        "宗旨意识还不够牢固",
        "统筹谋划还不够科学",
        "纪律规矩意识还需增强",
        "工作标准还不够高",
    ),
    "履职": (
        "压实工作责任",
        "创新工作方法",
        "健全工作机制",
        "强化队伍建设",
        "强化督促检查",
        "注重宣传引导",
        "深入调查研究",
        "解决群众急难愁盼问题",
    ),
    "打算": (
        "进一步压实工作责任",
        "进一步健全长效机制",
        "进一步提升能力本领",
        "进一步改进工作作风",
        "进一步强化督促落实",
        "进一步加强统筹协调",
        "进一步深化调查研究",
        "进一步加强队伍建设",
    ),
}
_STOP = frozenset({"工作", "方面", "情况", "问题", "加强", "进一步", "建设", "推进", "开展"})


@dataclass(frozen=True)
class Point:
    source: str  # fact | exemplar | aspect
    task: str  # what the model is asked to write
    opening: str = ""  # code-written start (the fact, framed); the model continues it
    fact: str = ""
    exemplar: int | None = None  # 1-based exemplar number whose point this follows
    heading: str = ""  # the exemplar's point heading it follows

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "task": self.task,
            "opening": self.opening,
            "fact": self.fact,
            "exemplar": self.exemplar,
            "heading": self.heading,
        }


def topic_terms(topic: str) -> list[str]:
    """Words of the topic a point must touch to be on it (安全生产 → 安全生产, 安全, 生产)."""
    topic = to_simplified(topic.strip())
    if not topic:
        return []
    words = [w for w in jieba.lcut(topic) if len(w) >= 2 and w not in _STOP]
    return list(dict.fromkeys([topic, *words]))


def on_topic(text: str, topic: str) -> bool:
    terms = topic_terms(topic)
    return not terms or any(t in to_simplified(text) for t in terms)


def point_headings(text: str) -> list[str]:
    """The heading (first clause) of each enumerated point of a real section."""
    out = []
    marks = list(_POINT.finditer(text))
    for m, nxt in zip(marks, [*marks[1:], None], strict=False):
        body = text[m.end() : nxt.start() if nxt else len(text)].strip()
        head = _HEADING_END.split(body, 1)[0].strip()
        if 4 <= len(head) <= 30:
            out.append(head)
    return out


def typical_points(exemplars: Sequence[Passage], topic: str) -> list[tuple[int, str]]:
    """(exemplar number, heading) of the exemplars' points that are about the topic."""
    seen: set[str] = set()
    out = []
    for n, p in enumerate(exemplars, 1):
        for head in point_headings(p.chunk.text):
            if head not in seen and on_topic(head, topic):
                seen.add(head)
                out.append((n, head))
    return out


def fact_point(kind: str, topic: str, fact: str) -> Point:
    """The point that carries one user fact, framed for the section kind."""
    core = clean_fact(fact)
    return Point("fact", point_task(kind, topic.strip()), opening(kind, core), core)


def _aspect_task(topic: str, aspect: str) -> str:
    return f"用一两句话写{topic}工作中“{aspect}”的具体表现" if topic else f"用一两句话写“{aspect}”的具体表现"


def plan_points(
    kind: str, topic: str, facts: Sequence[str], exemplars: Sequence[Passage], n_points: int
) -> list[Point]:
    """One point per fact, then on-topic exemplar points, then topic aspects, ``n_points`` at least."""
    about = topic.strip()
    points = [fact_point(kind, about, f) for f in facts if clean_fact(f)]
    for n, head in typical_points(exemplars, about):
        if len(points) >= n_points:
            break
        task = f"用一两句话写{about or '本职工作'}中“{head}”的具体表现"
        points.append(Point("exemplar", task, exemplar=n, heading=head))
    for aspect in ASPECTS.get(kind, ASPECTS["履职"]):
        if len(points) >= n_points:
            break
        points.append(Point("aspect", _aspect_task(about, aspect)))
    return points


def spare_points(kind: str, topic: str, taken: Sequence[Point]) -> int:
    """How many more aspect points ``extra_point`` can still give."""
    used = {p.task for p in taken}
    return sum(_aspect_task(topic, a) not in used for a in ASPECTS.get(kind, ASPECTS["履职"]))


def extra_point(kind: str, topic: str, taken: Sequence[Point]) -> Point | None:
    """One more aspect point for a section that came out shorter than the corpus' shortest."""
    used = {p.task for p in taken}
    for aspect in ASPECTS.get(kind, ASPECTS["履职"]):
        task = _aspect_task(topic, aspect)
        if task not in used:
            return Point("aspect", task)
    return None


# The code's own topic frames, each said at most once in a section (a frame said in every point is padding).
_FRAMES = ("在{}工作中，", "{}方面，", "在{}上，")


def anchor(body: str, point: Point, topic: str, lines: Sequence[str] = ()) -> str:
    """A point written for the topic that does not name it is framed by it (在安全生产工作中，…):
    the section stays on its 侧重点 even where a small model drifts into generalities. Each frame
    once in a section (``lines``: the points before): a later drifting point gets the next frame,
    or none when all are said."""
    if not topic or point.source == "fact" or on_topic(body, topic) or body.startswith("【"):
        return body
    said = "\n".join(lines)
    # said already, by the code or the model (意识形态工作中，… is 在意识形态工作中 again)
    frame = next((f.format(topic) for f in _FRAMES if f.format(topic).strip("在，") not in said), "")
    return frame + body
