"""Checks of figure binding across the figures of one claim (``rag.grounding.binding`` runs them
after binding each figure alone): a figure that takes its subject from the figure before it must
do so in the source too; a ratio under a topic figure (1.96万台次手术里，…) is a share of it; a figure
the source gives only as the condition of a part (其中超过50万元的有6个村) is no statement of the whole."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.documents.simplify import to_simplified
from rag.grounding.binding_rules import compatible
from rag.grounding.binding_types import Binding, SourceText, make_binding
from rag.grounding.clauses import Occurrence, analyse
from rag.grounding.figures import Figure

__all__ = ["check_conditions", "check_leads", "check_topics", "source_occ"]


def source_occ(b: Binding, sources: Sequence[SourceText]) -> tuple[SourceText, Occurrence] | None:
    src = next((s for s in sources if (s.name, s.index) == (b.source, b.index)), None)
    if src is None or b.figure_start is None:
        return None
    occ = next((o for o in analyse(src.text) if o.fig.start == b.figure_start - src.offset), None)
    return (src, occ) if occ is not None else None


def check_leads(
    out: list[tuple[Figure, Binding]], occs: dict[int, Occurrence], claim: str, sources: Sequence[SourceText]
) -> list[tuple[Figure, Binding]]:
    """A figure that takes its subject from the figure before it (参保人数8.7万人，参保率97.2%; 增长
    12.6%) must do so in the source too: bound there to a rate whose own lead is another figure
    (城乡居民…31.4万人，参保率97.2%), it is misbound."""
    by_start = {f.start: b for f, b in out}
    for n, (fig, b) in enumerate(out):
        c = occs.get(fig.start)
        lead = by_start.get(c.lead) if c is not None and c.lead is not None else None
        if not (b.ok and lead is not None and lead.ok):
            continue
        mine, theirs = source_occ(b, sources), source_occ(lead, sources)
        if mine is None or theirs is None:
            continue
        (src, occ), (lead_src, lead_occ) = mine, theirs
        same = src is lead_src and occ.sentence == lead_occ.sentence
        owner = _by_start(src).get(occ.lead) if occ.lead is not None else None
        # in one sentence the source's rate may still take another figure's subject (下派医师43名，
        # 开展远程会诊1860例，同比增长34%: the 34% is 1860例's)
        if owner is None or (same and lead_occ.fig.start in _chain(owner, src)):
            continue
        # 38名是60岁以上的，占…51.4%，已经过半: the claim's own chain of leads may reach the owner
        if any(compatible(occs[x].fig, owner.fig)[0] for x in _lead_chain(c.lead, occs)):
            continue
        reason = f"陈述中该数属于{occs[c.lead].fig.raw}所指的对象，原文中它属于{owner.fig.raw}"
        out[n] = (fig, make_binding(c, claim, "misbound", src, occ, reason, b.support))
    return out


def _lead_chain(start: int | None, occs: dict[int, Occurrence]) -> list[int]:
    """``start`` and the figures it takes its subject from, in turn, nearest first (到位内资52.4亿元，
    同比增长9.6%，完成年度目标的106%: 106% takes 9.6%'s, which takes 52.4亿元's)."""
    out: list[int] = []
    while start is not None and start in occs and start not in out:
        out.append(start)
        start = occs[start].lead
    return out


def _chain(occ: Occurrence, src: SourceText) -> set[int]:
    """The same walk in a source, from ``occ``."""
    return set(_lead_chain(occ.fig.start, _by_start(src)))


def _by_start(src: SourceText) -> dict[int, Occurrence]:
    return {o.fig.start: o for o in analyse(src.text)}


# 1.96万台次手术里，… / 2860万元经费支出中，…: a clause that sets the topic of the sentence
_TOPIC = re.compile(r"(?:里|中|当中|之中)$")


def check_topics(
    out: list[tuple[Figure, Binding]], occs: dict[int, Occurrence], claim: str, sources: Sequence[SourceText]
) -> list[tuple[Figure, Binding]]:
    """A ratio under a topic figure (63所小规模学校里，七成学校…) is a share of it: the source must give
    it in the topic's sentence (48所小规模学校…占其中的六成), not under another figure of its own."""
    t = to_simplified(claim)
    by_start = {f.start: b for f, b in out}
    for n, (fig, b) in enumerate(out):
        c = occs.get(fig.start)
        if c is None or c.fig.kind != "percent" or not b.ok or (c.change == "by" and not c.share):
            continue  # 同比增长6.2%: a growth rate is no share of the topic
        topic = next(
            (
                o
                for o in occs.values()
                if o.sentence == c.sentence
                and o.clause[1] <= c.clause[0]
                and o.fig.kind != "percent"
                and _TOPIC.search(t[o.clause[0] : o.clause[1]].rstrip("，,："))
            ),
            None,
        )
        lead = by_start.get(topic.fig.start) if topic is not None else None
        mine = source_occ(b, sources)
        theirs = source_occ(lead, sources) if lead is not None and lead.ok else None
        if mine is None or theirs is None:
            continue
        (src, occ), (topic_src, topic_occ) = mine, theirs
        if src is topic_src and occ.sentence == topic_occ.sentence:
            continue
        # 2860起违法行为中，有1240起…，占43.4%: the ratio is of its own lead, the part the source's
        # ratio is of too, not directly of the topic
        owner = _by_start(src).get(occ.lead) if occ.lead is not None else None
        if owner is not None and any(
            x != topic.fig.start and compatible(occs[x].fig, owner.fig)[0] for x in _lead_chain(c.lead, occs)
        ):
            continue
        # the topic's value also stands in the ratio's sentence (全村41名党员中…占56.1%), though the
        # topic figure was bound to another mention of it
        if any(o.sentence == occ.sentence and compatible(topic.fig, o.fig)[0] for o in analyse(src.text)):
            continue
        reason = f"陈述中该数是{topic.fig.raw}的一部分，原文中它不在{lead.figure}那句"
        out[n] = (fig, make_binding(c, claim, "misbound", src, occ, reason, b.support))
    return out


def check_conditions(
    out: list[tuple[Figure, Binding]], sources: Sequence[SourceText]
) -> list[tuple[Figure, Binding]]:
    """27个村…全部超过10万元，其中超过50万元的有6个村: 超过50万元 only says which villages the 6 are.
    A claim may take it only with that part (有6个村超过50万元, or its share), not for the whole
    (都在50万元以上)."""
    bound = {(b.source, b.index, b.figure_start) for _, b in out if b.ok}
    for n, (fig, b) in enumerate(out):
        found = source_occ(b, sources) if b.ok else None
        if found is None:
            continue
        src, occ = found
        t = to_simplified(src.text)
        after = next((o for o in analyse(src.text) if o.fig.start > occ.fig.start), None)
        if (
            after is None
            or after.clause != occ.clause
            or not _CONDITION.match(t[occ.fig.end : after.fig.start])
        ):
            continue
        # the part is stated by a figure after the condition in its sentence: 6个村, or 占比62.8%
        part = range(src.offset + occ.fig.end, src.offset + occ.sentence[1])
        if any(name == src.name and index == src.index and at in part for name, index, at in bound):
            continue
        reason = f"原文中该数只是{after.fig.raw}的限定条件，陈述把它说成了整体的情况"
        out[n] = (fig, Binding(**{**b.to_json(), "match": "misbound", "reason": reason}))
    return out


# 超过50万元的有6个村 / 不足10人的教学点31个: the figure names a condition of the next one's noun.
_CONDITION = re.compile(r"的(?:有|为|是|占)?[^，。；、,;和及与\d]{0,6}$")
