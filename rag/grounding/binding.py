"""Figure binding: a figure of a claim is right only where the source gives it for the same thing.

The one step every guard shares (``rag check``, the ask figure check, the draft guard, the brief's
verification of rewrites). For each figure of a claim:

1. its source occurrences: the same value with a compatible unit (measure words of counts,
   个/支/名/人/家 …, or of one family, 台/部, 件/起, are interchangeable here, but then the measured
   noun has to match), a multiple stated as a change (多了一倍 = 两倍 = 翻一番) or a share word
   rounding a precise percentage on its side (超过八成 for 81.4%: ``rag.grounding.binding_rules``);
2. what each is attached to (``rag.grounding.clauses``): the measured words, qualifiers
   (预计/计划, 比上年/同比, 累计 vs 今年/2023年, the whole of a ratio: 占立案总数的 vs 占结案总数的),
   comparatives (不足/不到/超过/以上/余/近/约; 仅有 vs 多达) and the kind of change (增长12% = 增幅为12%
   vs 提高到12%);
3. the verdict: ``bound`` when the claim's words for the figure stand with that occurrence and its
   qualifiers agree; ``misbound`` when they belong to another figure of the source (a swap, a figure
   moved to another subject, a value borrowed from elsewhere, the total given for a part) or a
   qualifier differs; ``absent`` when the value occurs nowhere.

Rules only, no model: words are character bigrams weighted by their distance to the figure (the
noun next to it counts most) and compared with the words of every figure of the source. A figure
whose own words name nothing (共156人次) or only an attribute (参保率97.2%) takes the subject of the
figure before it, and must take the same one in the source; a claim's word that the source gives
only to a sibling figure (its noun, or a verb: 成功调解 where the source says 调解成功83起 of 86起,
told apart from nouns by jieba's part-of-speech tagger) moves the figure; in ``ask`` a bare answer
(2个) is read with its question (``rag.grounding.question``). Checks across the figures of a claim
(``rag.grounding.binding_checks``): a figure that takes its subject from the one before must do so
in the source too; a ratio under a topic figure (1.96万台次手术里，…) is a share of it; a condition
of a part (其中超过50万元的有6个村) is no statement of the whole.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.documents.simplify import to_simplified
from rag.grounding.binding_checks import check_conditions, check_leads, check_topics
from rag.grounding.binding_rules import compatible, match_value, may_be, qualifier_problem, unit_class
from rag.grounding.binding_types import Binding, SourceText, make_binding, worst_match
from rag.grounding.binding_words import pos_bigrams
from rag.grounding.clauses import (
    Occurrence,
    analyse,
    content_bigrams,
    rate_subject,
    weighted_bigrams,
    word_pieces,
)
from rag.grounding.figures import Figure, extract_figures, same_figure
from rag.grounding.question import answered_parts

__all__ = ["Binding", "SourceText", "bind_claim", "bind_figures", "worst_match"]

HEAD_WEIGHT = 0.5  # words at least this near the figure (weight) name what it measures
NEAR = 0.5  # share of the claim's words that must stand as near another figure to bind it there
MARGIN = 0.25  # another figure must carry that much more of them to take the figure away
CONFLICT = 0.2  # share of the claim's words a sibling figure may own as its noun
TIE = 0.3  # two siblings fit the claim's noun equally (difference in weight) …
PARALLEL = 0.2  # … then the other words decide: this much more of them (share) takes the figure
PROBLEM_MARGIN = 0.15  # a candidate with a differing qualifier fitting this much better decides
LOW = 0.3  # an occurrence carrying less than this of the claim's words is not its figure
RIVALS = 5  # the nearest rivals compared word by word
WORDLESS = 0.6  # total word weight below which a figure's wording names nothing (共156人次)
SIBLING_WORDS = 0.5  # share of a sibling's own words the claim must carry to take its verb (调解成功)
VERB_WEIGHT = 0.2  # … with one of them this near its figure (in its phrase, not in a topic further off)


# --- words and qualifiers ---------------------------------------------------------------


@lru_cache(maxsize=128)
def _text_bigrams(text: str) -> frozenset[str]:
    t = to_simplified(text)
    return frozenset(t[i : i + 2] for i in range(len(t) - 1))


@lru_cache(maxsize=8192)
def _words(occ: Occurrence) -> dict[str, float]:
    """The weighted words naming what a figure measures: its own, else the ones it inherits."""
    left, right = occ.own_near
    return weighted_bigrams(left, right) if occ.own else weighted_bigrams(occ.inherited, "")


@lru_cache(maxsize=8192)
def _own_bag(occ: Occurrence) -> frozenset[str]:
    return frozenset(content_bigrams(occ.own or occ.inherited))


def _share(words: dict[str, float], bag: frozenset[str], half: frozenset[str] = frozenset()) -> float:
    total = sum(words.values())
    got = sum(w if b in bag else w * 0.5 if b in half else 0.0 for b, w in words.items())
    return got / total if total else 0.0


def _near(words: dict[str, float], other: dict[str, float]) -> float:
    """How much of the claim's wording stands as near the other figure as near the claim's."""
    total = sum(words.values())
    return sum(min(w, other.get(b, 0.0)) for b, w in words.items()) / total if total else 0.0


def _head(words: dict[str, float]) -> dict[str, float]:
    return {b: w for b, w in words.items() if w >= HEAD_WEIGHT}


# --- candidates -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cand:
    src: SourceText
    occ: Occurrence
    strict: bool  # units strictly compatible (not only both counts)
    near: float  # ``_near`` of the claim's words to this occurrence's
    support: float  # share of the claim's words found with it (its sentence counts half)
    problem: str = ""  # a qualifier that differs
    taken: str = ""  # why the claim's words belong to a sibling figure instead
    sibling: Occurrence | None = None


def _siblings(
    c: Occurrence, occ: Occurrence, occs: Sequence[Occurrence], *, any_kind: bool = False
) -> list[Occurrence]:
    """Other figures of the same kind (or ``any_kind``) in the sentence of ``occ`` (list items,
    totals and parts). Of any kind, a level may own the noun of a growth rate (医养结合机构3家 …
    门诊量同比增长21.6%)."""
    klass = unit_class(c.fig)
    rate = any_kind and c.fig.kind == "percent"
    return [
        o
        for o in occs
        if o.sentence == occ.sentence
        and (any_kind or unit_class(o.fig) == klass)
        and not compatible(c.fig, o.fig)[0]
        and (may_be(c, o) or (rate and o.fig.kind != "percent"))
    ]


def _told_apart(words: dict[str, float], mine: dict[str, float], theirs: dict[str, float]) -> bool:
    """True when the claim's noun fits two figures alike and its other words are the other's:
    在中央和省级媒体刊发稿件36篇，在市县媒体刊发稿件218篇; 烤烟种植合同面积4605亩 / 香料烟…1172亩."""
    head = _head(words)
    noun = max(head, key=head.__getitem__, default="")
    if not (noun in mine and noun in theirs):
        return False
    for_me = sum(w for b, w in head.items() if b in mine and b not in theirs)
    for_them = sum(w for b, w in head.items() if b in theirs and b not in mine)
    if abs(for_me - for_them) >= TIE:
        return False
    rest = {b: w for b, w in words.items() if b not in head}
    me = sum(w for b, w in rest.items() if b in mine and b not in theirs)
    them = sum(w for b, w in rest.items() if b in theirs and b not in mine)
    return them > me and them - me >= PARALLEL * sum(rest.values())


_ITEM_GAP = re.compile(r"[、，,]?[^\W\d]{1,4}")


def _item_of(count: Occurrence, occ: Occurrence, text: str) -> bool:
    """产业项目9个、资金1209万元: ``occ`` (an amount) belongs to the items ``count`` counts."""
    if not text or unit_class(count.fig) != "count" or unit_class(occ.fig) == "count":
        return False
    return (
        count.fig.end <= occ.fig.start
        and _ITEM_GAP.fullmatch(text[count.fig.end : occ.fig.start]) is not None
    )


def _list_topic(occ: Occurrence, text: str) -> frozenset[str]:
    """公司现有党支部14个、党员386名: the words before the first item's noun (公司现) are the topic of
    every item of the list. Only for a figure after a list separator; the first item's noun is the
    last piece (between qualifier words) before its figure."""
    if not text:
        return frozenset()
    cs = occ.clause[0]
    first = min((o.fig.start for o in analyse(text) if o.clause == occ.clause), default=occ.fig.start)
    if first >= occ.fig.start or "、" not in text[first : occ.fig.start]:
        return frozenset()
    pieces = word_pieces(text[cs:first])
    return frozenset(b for _, p in pieces[:-1] for b in (p[i : i + 2] for i in range(len(p) - 1)))


def _taken(
    words: dict[str, float],
    occ: Occurrence,
    siblings: Sequence[Occurrence],
    owners: Sequence[Occurrence],
    clause: frozenset[str] = frozenset(),
    text: str = "",
):
    """(why, sibling) when the claim's words for a figure belong to a sibling of ``occ``. ``owners``:
    the figures of the sentence that may own the claim's noun (for a count, figures of any kind:
    45岁以下的有41人 where 45岁以下 qualifies 两成); ``clause``: the bigrams of ``occ``'s clause."""
    own, mine = _own_bag(occ), _words(occ)
    total = sum(words.values())
    taken: dict[str, float] = {}
    owner = None
    # 产业项目9个、资金1209万元: the amount right after a count is that count's items' (9个产业项目用了
    # 1209万元), whoever else in the sentence counts 项目
    item = next((o for o in owners if _item_of(o, occ, text)), None)
    if item is not None and _share(_head(words), frozenset(_words(item))) >= NEAR:
        owners = []
    topic = _list_topic(occ, text)
    # 排查隐患6415项，已整改6298项 → 6415项隐患已整改6298项: the claim names the part by all of its own
    # words, so the total's noun beside them is the part's topic
    named = bool(own) and own <= frozenset(words)
    for o in owners:
        # 劳动力640人，其中外出务工的380人: a part is named with its total's noun too
        if ("其中" in occ.own_near[0] or named) and o.fig.start < occ.fig.start:
            continue
        # 全县还有教学点31个，其中学生不足10人的有14个: 学生不足10人 is the noun of 14.
        for b, w in _words(o).items():
            near = b in words and words[b] >= HEAD_WEIGHT  # the claim's noun, not its topic
            if b in topic:  # 公司现有党支部14个、党员386名: 公司 is the whole list's topic
                continue
            if near and b not in own and w >= HEAD_WEIGHT and min(w, words[b]) > taken.get(b, 0.0):
                taken[b], owner = min(w, words[b]), o
    for o in siblings:
        theirs = _words(o)
        # 全年调解纠纷86起，调解成功83起: the claim's 成功调解纠纷86起 carries the sibling's own words
        # (调解成功), and a verb of them (成功) stands nowhere in the clause of 86起. A sibling whose
        # noun the claim names (新建供水工程16处，受益8.4万人 → 新建的供水工程让8.4万人受益) is its topic.
        bag = _own_bag(o)
        verbs, nouns = pos_bigrams(o.own) if clause and len(bag) >= 2 else (frozenset(), frozenset())
        if (
            verbs
            and not any(b in words and b not in own for b in nouns)
            and any(b in verbs and b not in clause and w >= VERB_WEIGHT for b, w in words.items())
            and sum(b in words for b in bag) >= SIBLING_WORDS * len(bag)
        ):
            return f"陈述中该数的说法（动作或结果）在原文中属于同句的{o.fig.raw}", o
        # 县级以上媒体刊发稿件147篇，其中省级以上23篇: a word of the part is no word of the total.
        # A word the sentence names before the part (全年新签约项目64个，…其中…的项目14个) is the topic's.
        before = _text_bigrams(text[occ.sentence[0] : o.clause[0]]) if text else frozenset()
        if (
            o.fig.start > occ.fig.start
            and "其中" in o.own_near[0]
            and any(b in words and b not in own and b not in before for b in theirs)
        ):
            return f"陈述把“其中”一部分（{o.fig.raw}）的限定加在了总数上", o
        if _told_apart(words, mine, theirs):
            return f"陈述中该数的限定词在原文中属于同句的{o.fig.raw}", o
    if total and sum(taken.values()) / total >= CONFLICT:
        return f"陈述中该数所指的对象在原文中是同句{owner.fig.raw}的", owner
    return "", None


def _candidates(
    c: Occurrence, words: dict[str, float], sources: Sequence[SourceText], lead: Figure | None = None
):
    """Occurrences of the claim's value, and rivals: figures of the same kind with another value.
    ``lead``: the claim figure ``c`` takes its subject from (两病患者2.18万人，约占三分之二)."""
    cands: list[_Cand] = []
    rivals: list[tuple[float, SourceText, Occurrence]] = []
    klass = unit_class(c.fig)
    for src in sources:
        t = to_simplified(src.text)
        occs = analyse(src.text)
        starts = {o.fig.start: o for o in occs}
        for occ in occs:
            how = match_value(c, occ)
            if how:
                near = _near(words, _words(occ)) if words else 1.0
                if how == "loose" and near < NEAR:  # 66支党员突击队 = 党员突击队66个, 89家企业 ≠ 责任书89份
                    continue
                s, e = occ.sentence
                support = _share(words, _own_bag(occ), frozenset(content_bigrams(t[s:e])))
                # 过半 rounds many a percentage: only one of the claim's words, or of its lead's figure
                # (2.18万人，约占三分之二 for 2.18万人，占…的67.3%)
                of_lead = lead is not None and occ.lead in starts and same_figure(lead, starts[occ.lead].fig)
                if how == "rounded" and max(near, support) < NEAR and not of_lead:
                    continue
                taken, sibling = ("", None)
                if c.own and words:
                    siblings = _siblings(c, occ, occs)
                    # figures of other kinds may own the noun of a count, not the whole of a ratio
                    # (占受理投诉总数的41.9% names 投诉580件's noun); a growth rate is of a noun too
                    # (医养结合机构同比增长21.6% where the source's 21.6% is 门诊量's, 机构 are 3家)
                    count = c.fig.kind != "percent" or (
                        c.fig.kind == "percent" and c.change == "by" and not c.share
                    )
                    owners = _siblings(c, occ, occs, any_kind=True) if count else siblings
                    cs, ce = occ.clause
                    clause = frozenset(content_bigrams(t[cs:ce])) | _own_bag(occ)
                    taken, sibling = _taken(words, occ, siblings, owners, clause, t)
                named = bool(c.plan_word) and c.plan_word in t[s:e]  # 营养改善计划: a name, no target
                problem = qualifier_problem(c, occ, how, named_plan=named)
                if not problem and c.share and not occ.share and not _whole_near(c.share, t, s, e):
                    problem = f"原文这句附近没有陈述所说的比例基数（{c.share}）"
                of = rate_subject(c) if c.fig.kind == "percent" else ""
                if not problem and len(of) >= 3 and not _text_bigrams(of) & _text_bigrams(_window(t, s, e)):
                    problem = f"原文这里说的不是{of}的比率"  # 劳动争议案件化解率 for 信访积案's
                if not problem and (other := _other_rate(c, occ, t)):
                    problem = f"原文这里是{other}，不是陈述说的那个比率"
                cands.append(_Cand(src, occ, how != "loose", near, support, problem, taken, sibling))
            elif words and unit_class(occ.fig) == klass and may_be(c, occ):
                # a rival takes the claim's words only if it could be the claim's figure:
                # 累计发展党员45名 is no rival of 今年发展党员12名
                rivals.append((_near(words, _words(occ)), src, occ))
    return cands, rivals


WHOLE_BEFORE = 200  # at most this far back the sentence before may name a subject or a whole


def _window(t: str, start: int, end: int) -> str:
    """A sentence with the sentence before it, where its subject or whole may be named (at most
    ``WHOLE_BEFORE`` characters back)."""
    before = max(t.rfind(ch, 0, max(0, start - 1)) for ch in "。！？；\n") + 1
    return t[max(before, start - WHOLE_BEFORE) : end]


def _whole_near(whole: str, t: str, start: int, end: int) -> bool:
    """在一般公共预算支出中超过八成 where the source says 占比81.4% after a sentence on that spending:
    the whole the claim names must stand in the sentence or shortly before it."""
    grams = content_bigrams(whole)
    there = _text_bigrams(_window(t, start, end))
    return not grams or sum(g in there for g in grams) >= NEAR * len(grams)


# --- verdicts ---------------------------------------------------------------------------


def _bind_one(
    c: Occurrence, claim: str, sources: Sequence[SourceText], lead: Figure | None = None
) -> Binding:
    words = _words(c)
    wordless = sum(words.values()) < WORDLESS
    cands, rivals = _candidates(c, {} if wordless else words, sources, lead)
    if not cands:
        return make_binding(c, claim, "absent", reason="原文中没有这个数")
    clean = [x for x in cands if not x.problem]
    if not clean:
        top = max(cands, key=lambda x: (x.near, x.support))
        return make_binding(c, claim, "misbound", top.src, top.occ, top.problem, top.support)
    best = max(clean, key=lambda x: (x.near, x.support))
    top = max(cands, key=lambda x: (x.near, x.support))
    # 已新建…服务中心3个 where the source's 计划新建…服务中心3个 fits it far better than the 3个 of
    # another sentence: the claim is about the planned one, with its qualifier changed
    if not wordless and top.problem and top.near >= best.near + PROBLEM_MARGIN:
        return make_binding(c, claim, "misbound", top.src, top.occ, top.problem, top.support)
    if wordless:
        return make_binding(c, claim, "bound", best.src, best.occ, "", best.support)
    # 分布式光伏用户达到1.37万户，其中当年新增5860户: a part is named with its total's noun too, as
    # long as the claim also names the part (教职工218名 for 其中专任教师218名 does not); so is a part
    # the claim names by all of its own words (1380处消防隐患已整改1352处 for …隐患1380处，已整改1352处)
    claim_bag = frozenset(content_bigrams(c.own or c.inherited))
    part_bag = _own_bag(best.occ)
    named = bool(part_bag) and part_bag <= claim_bag
    if named or _share(_words(best.occ), claim_bag) >= NEAR:
        rivals = [r for r in rivals if not _total_of(r[2], best.occ, named)]
    near, src, occ = max(rivals, key=lambda r: r[0], default=(0.0, None, None))
    if near >= NEAR and near > best.near + MARGIN:  # the claim's words are another figure's
        reason = f"陈述中该数所指的对象在原文中是{occ.fig.raw}"
        return make_binding(c, claim, "misbound", src, occ, reason, best.support)
    if best.taken:
        return make_binding(c, claim, "misbound", best.src, best.sibling, best.taken, best.support)
    if c.period == "cumulative" and best.occ.period != "cumulative":
        # 全县公共充电桩累计达到168个 where 168 are this year's new ones and the sentence's
        # cumulative figure is 530个: the claim's 累计 is that figure's
        total = next(
            (o for n, s, o in rivals if s is best.src and o.sentence == best.occ.sentence
             and o.period == "cumulative" and n >= NEAR),
            None,
        )  # fmt: skip
        if total is not None:
            reason = f"原文中累计的是{total.fig.raw}，这个数不是累计数"
            return make_binding(c, claim, "misbound", best.src, total, reason, best.support)
    if imported := _imported(c, best):
        word, other = imported
        reason = f"陈述中该数的限定词（{word}）在原文中属于{other.fig.raw}，不属于这个数"
        return make_binding(c, claim, "misbound", best.src, other, reason, best.support)
    mine = _words(best.occ)
    for _, src, occ in sorted(rivals, key=lambda r: r[0], reverse=True)[:RIVALS]:
        if _told_apart(words, mine, _words(occ)):
            reason = f"陈述中该数的限定词在原文中属于{occ.fig.raw}"
            return make_binding(c, claim, "misbound", src, occ, reason, best.support)
    if best.near < LOW and best.support < LOW:  # the claim's noun stands elsewhere in the sources
        everywhere = frozenset().union(*(_text_bigrams(s.text) for s in sources))
        noun = max(words, key=words.__getitem__)
        # 让186名群众受益 where the source's 186名 are 参与党员 (its sentence has none of the claim's
        # words) and 群众 stands elsewhere: the claim's noun is another figure's
        lone = best.near == 0 and best.support == 0 and noun in everywhere
        if lone or _share(_head(words), everywhere) >= NEAR:
            reason = "陈述中该数所指的对象在原文别处，与这个数无关"
            return make_binding(c, claim, "misbound", best.src, best.occ, reason, best.support)
    return make_binding(c, claim, "bound", best.src, best.occ, "", best.support)


# 群众满意率 / 药占比 / 按期办结率: a rate's name, the characters before its attribute word
_RATE_NAME = re.compile(r"([^\W\d]{1,2})(率|占比|比重|比例)")


def _other_rate(c: Occurrence, occ: Occurrence, t: str) -> str:
    """群众满意率达到98.5% where the source's 98.5% is 按期办结率 and 群众满意率 is said of another figure:
    the source's rate name when the two names differ and the claim's stands elsewhere in the source."""
    mine = [m for m in _RATE_NAME.finditer(to_simplified(c.own))]
    theirs = [m for m in _RATE_NAME.finditer(to_simplified(occ.own))]
    if not mine or not theirs:
        return ""
    a, b = mine[-1], theirs[-1]
    differ = bool(set(a[1]) - set(b[1])) and bool(set(b[1]) - set(a[1]))
    return b[0] if differ and f"{a[1][-1]}{a[2]}" in t else ""


_DONE = re.compile(r"(?:已经|已|均已|都已|全部)")


def _total_of(total: Occurrence, part: Occurrence, named: bool = False) -> bool:
    """A figure before ``part`` in its sentence that ``part`` is a part of: 其中…, or (``named``: the
    claim names the part by all its words) a part said by what was done to it (已整改1352处)."""
    before = total.sentence == part.sentence and total.fig.start < part.fig.start
    return before and ("其中" in part.own_near[0] or (named and _DONE.match(part.own_near[0]) is not None))


def _imported(c: Occurrence, best: _Cand) -> tuple[str, Occurrence] | None:
    """全县每万人口有效发明专利拥有量2.1件 where the source's 2.1件 is 每万人口高价值发明专利拥有量 and
    有效发明专利 is 562件's: the claim dropped words of its figure and took another figure's in their
    place. (word, that figure) when a claim word missing from the figure's sentence names another
    figure of that sentence or the one before while some of the figure's own words are missing
    from the claim."""
    claim_words, mine = frozenset(content_bigrams(c.own)), _words(c)
    if not (frozenset(content_bigrams(best.occ.own)) - claim_words):
        return None  # nothing of the figure's own wording was replaced
    t = to_simplified(best.src.text)
    s, e = best.occ.sentence
    foreign = claim_words - _text_bigrams(t[s:e])
    near_by = _window(t, s, e)
    for other in analyse(best.src.text):
        if other.fig.start == best.occ.fig.start or not other.own or other.fig.start < e - len(near_by):
            continue
        if other.fig.start >= e:
            break
        # the other figure's noun (near it), not a word of its topic further off; in the claim too
        # (大清查中发现…问题3处: 清查 is the claim's topic, not the noun it replaced)
        theirs = _words(other)
        hit = sorted(b for b in foreign if theirs.get(b, 0.0) >= HEAD_WEIGHT and mine.get(b, 0.0) >= LOW)
        if hit:
            return hit[0], other
    return None


def _date_binding(fig: Figure, claim: str, sources: Sequence[SourceText]) -> Binding:
    """Years and dates: the same date anywhere in the sources."""
    for src in sources:
        for other in extract_figures(src.text):
            if same_figure(fig, other):
                s, e = _sentence_of(src.text, other.start)
                o = src.offset
                clause = src.text[s:e]
                return Binding(fig.raw, claim.strip(), "bound", clause, src.name, src.index, o + s, o + e,
                               o + other.start, o + other.end, "", 1.0)  # fmt: skip
    return Binding(fig.raw, claim.strip(), "absent", reason="原文中没有这个日期")


def _sentence_of(text: str, pos: int) -> tuple[int, int]:
    start = max(text.rfind(ch, 0, pos) for ch in "。！？；\n") + 1
    ends = [i for ch in "。！？；\n" if (i := text.find(ch, pos)) >= 0]
    return start, min(ends) if ends else len(text)


def bind_figures(
    claim: str, sources: Sequence[SourceText], *, context: str = ""
) -> list[tuple[Figure, Binding]]:
    """Every figure of ``claim`` with its binding in ``sources``. ``context`` is the question an
    answer replies to: a bare figure (2个) is read in it, so 2个 answering 建了多少个村级人大代表联络室？
    must be the source's figure of 村级人大代表联络室 (and 计划投资多少 asks for a planned figure)."""
    occs = {o.fig.start: o for o in analyse(claim)}
    figs = extract_figures(claim)
    bare = [f for f in figs if f.start in occs and sum(_words(occs[f.start]).values()) < WORDLESS]
    asked = answered_parts(context, bare) if context else {}
    out = []
    for fig in figs:
        occ = occs.get(fig.start)
        if occ is None:  # years and dates
            out.append((fig, _date_binding(fig, claim, sources)))
        elif fig.start in asked:  # the question says what it measures
            read = asked[fig.start]
            occ_q = next((o for o in analyse(read) if o.fig.raw == fig.raw), None)
            binding = _bind_one(occ_q, read, sources) if occ_q else _bind_one(occ, claim, sources)
            out.append((fig, binding))
        else:
            lead = occs[occ.lead].fig if occ.lead in occs else None
            binding = _bind_one(occ, claim, sources, lead)
            if not binding.ok and occ.alt_near is not None:  # 分别: the reading without a shared noun
                alone = dataclasses.replace(occ, own=occ.alt_near[0], own_near=occ.alt_near)
                if sum(_words(alone).values()) >= WORDLESS:  # 甲、乙、丙级: 甲 alone names nothing
                    binding = other if (other := _bind_one(alone, claim, sources)).ok else binding
            out.append((fig, binding))
    out = check_leads(out, occs, claim, sources)
    return check_conditions(check_topics(out, occs, claim, sources), sources)


def bind_claim(claim: str, sources: Sequence[SourceText], *, context: str = "") -> list[Binding]:
    return [b for _, b in bind_figures(claim, sources, context=context)]
