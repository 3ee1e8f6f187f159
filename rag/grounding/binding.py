"""Figure binding: a figure of a claim is right only where the source gives it for the same thing.

The one step every guard shares (``rag check``, the ask figure check, the draft guard, the brief's
verification of rewrites). For each figure of a claim:

1. its source occurrences: the same value with a compatible unit (measure words of counts,
   个/支/名/人/家 …, are interchangeable here, but then the measured noun has to match);
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
(2个) is read with its question (``rag.grounding.question``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.documents.simplify import to_simplified
from rag.grounding.clauses import Occurrence, analyse, content_bigrams, pos_bigrams, weighted_bigrams
from rag.grounding.figure_units import COUNT_UNITS, GROUP_UNITS
from rag.grounding.figures import Figure, extract_figures, same_figure
from rag.grounding.question import answered_parts

__all__ = ["Binding", "SourceText", "bind_claim", "bind_figures", "worst_match"]

MATCHES = ("bound", "misbound", "absent")
HEAD_WEIGHT = 0.5  # words at least this near the figure (weight) name what it measures
NEAR = 0.5  # share of the claim's words that must stand as near another figure to bind it there
MARGIN = 0.25  # another figure must carry that much more of them to take the figure away
CONFLICT = 0.2  # share of the claim's words a sibling figure may own as its noun
TIE = 0.3  # two siblings fit the claim's noun equally (difference in weight) …
PARALLEL = 0.2  # … then the other words decide: this much more of them (share) takes the figure
LOW = 0.3  # an occurrence carrying less than this of the claim's words is not its figure
RIVALS = 5  # the nearest rivals compared word by word
WORDLESS = 0.6  # total word weight below which a figure's wording names nothing (共156人次)
SIBLING_WORDS = 0.5  # share of a sibling's own words the claim must carry to take its verb (调解成功)
VERB_WEIGHT = 0.2  # … with one of them this near its figure (in its phrase, not in a topic further off)
# Characters that name no whole of a ratio: 占全县总数的 and 占全县的 take the same whole.
_GENERIC = frozenset("全总数量额部之本的各")


@dataclass(frozen=True, slots=True)
class SourceText:
    """A text figures are looked up in; offsets reported are ``offset`` + positions in ``text``."""

    name: str
    text: str
    offset: int = 0
    index: int | None = None  # the caller's handle: a report index, a passage number …


@dataclass(frozen=True, slots=True)
class Binding:
    figure: str  # the claim's figure, as written
    claim_clause: str
    match: str  # bound | misbound | absent
    source_clause: str = ""  # 原文: where the source gives the figure, or the figure of the claim's words
    source: str | None = None
    index: int | None = None
    start: int | None = None  # source_clause == source text[start:end] (with SourceText.offset)
    end: int | None = None
    figure_start: int | None = None  # the source's figure shown in source_clause
    figure_end: int | None = None
    reason: str = ""  # why it is misbound or absent (Chinese, for the user)
    support: float = 0.0  # share of the claim's words for the figure found with the occurrence

    @property
    def ok(self) -> bool:
        return self.match == "bound"

    def note(self) -> str:
        """One line for a user: 原文：… and, when not bound, why."""
        if self.match == "absent":
            return f"{self.figure}：{self.reason}"
        text = f"原文：{self.source_clause}"
        return text if self.ok else f"{self.figure}：{self.reason}（{text}）"

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


def worst_match(bindings: Sequence[Binding]) -> str:
    """absent > misbound > bound ("bound" for a claim without figures)."""
    matches = {b.match for b in bindings}
    return next((m for m in ("absent", "misbound") if m in matches), "bound")


# --- words and qualifiers ---------------------------------------------------------------


def _compatible(a: Figure, b: Figure) -> tuple[bool, bool]:
    """(same value, units strictly compatible); counts of things match across measure words."""
    if same_figure(a, b):
        return True, True
    close = math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)
    units = {a.unit, b.unit}
    counts = a.kind == b.kind == "number" and units <= COUNT_UNITS
    # 个 stands for any measure word (66个突击队 = 66支); groups and people share theirs (名/人/支/家);
    # 68起 (cases) is no 68栋 (buildings).
    loose = counts and ("个" in units or units <= GROUP_UNITS)
    return close and loose, False


def _unit_class(f: Figure) -> str:
    return "%" if f.kind == "percent" else "count" if f.unit in COUNT_UNITS else f.unit


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


_DIRECTIONS = {
    "exact": "确数",
    "lower": "下限（余/以上/超过）",
    "upper": "上限（不足/不到/近）",
    "about": "约数",
}
_CHANGE_CLASS = {"level": "level", "to": "level", "by": "by", "from": "from"}
_CHANGES = {"level": "数值", "by": "变化幅度（增长/下降了多少）", "from": "起点（由…）"}


def _qualifier_problem(claim: Occurrence, src: Occurrence) -> str:
    if claim.direction != src.direction and {claim.direction, src.direction} != {"exact", "about"}:
        return f"原文为{_DIRECTIONS[src.direction]}，陈述为{_DIRECTIONS[claim.direction]}"
    if claim.plan != src.plan:
        return "原文是目标或预计，陈述说成了实绩" if src.plan else "原文是实绩，陈述说成了目标或预计"
    have, want = _CHANGE_CLASS[src.change], _CHANGE_CLASS[claim.change]
    if have != want:
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


def _may_be(claim: Occurrence, other: Occurrence) -> bool:
    """Could ``other`` be the claim's figure with another value? Not when it counts another
    period or per another unit: 累计发展党员45名 takes no words from 今年发展党员12名."""
    return {claim.period, other.period} != {"cumulative", "year"} and not (
        claim.per and other.per and claim.per != other.per
    )


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
    totals and parts)."""
    klass = _unit_class(c.fig)
    return [
        o
        for o in occs
        if o.sentence == occ.sentence
        and (any_kind or _unit_class(o.fig) == klass)
        and not _compatible(c.fig, o.fig)[0]
        and _may_be(c, o)
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


def _taken(
    words: dict[str, float],
    occ: Occurrence,
    siblings: Sequence[Occurrence],
    owners: Sequence[Occurrence],
    clause: frozenset[str] = frozenset(),
):
    """(why, sibling) when the claim's words for a figure belong to a sibling of ``occ``. ``owners``:
    the figures of the sentence that may own the claim's noun (for a count, figures of any kind:
    45岁以下的有41人 where 45岁以下 qualifies 两成); ``clause``: the bigrams of ``occ``'s clause."""
    own, mine = _own_bag(occ), _words(occ)
    total = sum(words.values())
    taken: dict[str, float] = {}
    owner = None
    for o in owners:
        # 劳动力640人，其中外出务工的380人: a part is named with its total's noun too
        if "其中" in occ.own and o.fig.start < occ.fig.start:
            continue
        # 全县还有教学点31个，其中学生不足10人的有14个: 学生不足10人 is the noun of 14.
        for b, w in _words(o).items():
            near = b in words and words[b] >= HEAD_WEIGHT  # the claim's noun, not its topic
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
        if (
            o.fig.start > occ.fig.start
            and "其中" in o.own
            and any(b in words and b not in own for b in theirs)
        ):
            return f"陈述把“其中”一部分（{o.fig.raw}）的限定加在了总数上", o
        if _told_apart(words, mine, theirs):
            return f"陈述中该数的限定词在原文中属于同句的{o.fig.raw}", o
    if total and sum(taken.values()) / total >= CONFLICT:
        return f"陈述中该数所指的对象在原文中是同句{owner.fig.raw}的", owner
    return "", None


def _candidates(c: Occurrence, words: dict[str, float], sources: Sequence[SourceText]):
    """Occurrences of the claim's value, and rivals: figures of the same kind with another value."""
    cands: list[_Cand] = []
    rivals: list[tuple[float, SourceText, Occurrence]] = []
    klass = _unit_class(c.fig)
    for src in sources:
        t = to_simplified(src.text)
        occs = analyse(src.text)
        for occ in occs:
            same, strict = _compatible(c.fig, occ.fig)
            if same:
                near = _near(words, _words(occ)) if words else 1.0
                if not strict and near < NEAR:  # 66支党员突击队 = 党员突击队66个, 89家企业 ≠ 责任书89份
                    continue
                s, e = occ.sentence
                support = _share(words, _own_bag(occ), frozenset(content_bigrams(t[s:e])))
                taken, sibling = ("", None)
                if c.own and words:
                    siblings = _siblings(c, occ, occs)
                    # figures of other kinds may own the noun of a count, not the whole of a ratio
                    # (占受理投诉总数的41.9% names 投诉580件's noun)
                    count = c.fig.kind != "percent"
                    owners = _siblings(c, occ, occs, any_kind=True) if count else siblings
                    cs, ce = occ.clause
                    clause = frozenset(content_bigrams(t[cs:ce])) | _own_bag(occ)
                    taken, sibling = _taken(words, occ, siblings, owners, clause)
                cands.append(
                    _Cand(src, occ, strict, near, support, _qualifier_problem(c, occ), taken, sibling)
                )
            elif words and _unit_class(occ.fig) == klass and _may_be(c, occ):
                # a rival takes the claim's words only if it could be the claim's figure:
                # 累计发展党员45名 is no rival of 今年发展党员12名
                rivals.append((_near(words, _words(occ)), src, occ))
    return cands, rivals


# --- verdicts ---------------------------------------------------------------------------


def _binding(c: Occurrence, claim: str, match: str, src=None, occ=None, reason="", support=0.0) -> Binding:
    cs, ce = c.scope
    if src is None or occ is None:
        return Binding(c.fig.raw, claim[cs:ce].strip(), match, reason=reason)
    s, e = occ.scope
    o = src.offset
    return Binding(
        c.fig.raw,
        claim[cs:ce].strip(),
        match,
        src.text[s:e],
        src.name,
        src.index,
        o + s,
        o + e,
        o + occ.fig.start,
        o + occ.fig.end,
        reason,
        round(support, 3),
    )


def _bind_one(c: Occurrence, claim: str, sources: Sequence[SourceText]) -> Binding:
    words = _words(c)
    wordless = sum(words.values()) < WORDLESS
    cands, rivals = _candidates(c, {} if wordless else words, sources)
    if not cands:
        return _binding(c, claim, "absent", reason="原文中没有这个数")
    clean = [x for x in cands if not x.problem]
    if not clean:
        top = max(cands, key=lambda x: (x.near, x.support))
        return _binding(c, claim, "misbound", top.src, top.occ, top.problem, top.support)
    best = max(clean, key=lambda x: (x.near, x.support))
    if wordless:
        return _binding(c, claim, "bound", best.src, best.occ, "", best.support)
    near, src, occ = max(rivals, key=lambda r: r[0], default=(0.0, None, None))
    if near >= NEAR and near > best.near + MARGIN:  # the claim's words are another figure's
        reason = f"陈述中该数所指的对象在原文中是{occ.fig.raw}"
        return _binding(c, claim, "misbound", src, occ, reason, best.support)
    if best.taken:
        return _binding(c, claim, "misbound", best.src, best.sibling, best.taken, best.support)
    mine = _words(best.occ)
    for _, src, occ in sorted(rivals, key=lambda r: r[0], reverse=True)[:RIVALS]:
        if _told_apart(words, mine, _words(occ)):
            reason = f"陈述中该数的限定词在原文中属于{occ.fig.raw}"
            return _binding(c, claim, "misbound", src, occ, reason, best.support)
    if best.near < LOW and best.support < LOW:  # the claim's noun stands elsewhere in the sources
        everywhere = frozenset().union(*(_text_bigrams(s.text) for s in sources))
        if _share(_head(words), everywhere) >= NEAR:
            reason = "陈述中该数所指的对象在原文别处，与这个数无关"
            return _binding(c, claim, "misbound", best.src, best.occ, reason, best.support)
    return _binding(c, claim, "bound", best.src, best.occ, "", best.support)


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
            binding = _bind_one(occ, claim, sources)
            if not binding.ok and occ.alt_near is not None:  # 分别: the reading without a shared noun
                alone = dataclasses.replace(occ, own=occ.alt_near[0], own_near=occ.alt_near)
                if sum(_words(alone).values()) >= WORDLESS:  # 甲、乙、丙级: 甲 alone names nothing
                    binding = other if (other := _bind_one(alone, claim, sources)).ok else binding
            out.append((fig, binding))
    return _check_leads(out, occs, claim, sources)


def _source_occ(b: Binding, sources: Sequence[SourceText]) -> tuple[SourceText, Occurrence] | None:
    src = next((s for s in sources if (s.name, s.index) == (b.source, b.index)), None)
    if src is None or b.figure_start is None:
        return None
    occ = next((o for o in analyse(src.text) if o.fig.start == b.figure_start - src.offset), None)
    return (src, occ) if occ is not None else None


def _check_leads(
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
        mine, theirs = _source_occ(b, sources), _source_occ(lead, sources)
        if mine is None or theirs is None:
            continue
        (src, occ), (lead_src, lead_occ) = mine, theirs
        same = src is lead_src and occ.sentence == lead_occ.sentence
        owner = next((o for o in analyse(src.text) if o.fig.start == occ.lead), None)
        if same or owner is None or _compatible(occs[c.lead].fig, owner.fig)[0]:
            continue
        reason = f"陈述中该数属于{occs[c.lead].fig.raw}所指的对象，原文中它属于{owner.fig.raw}"
        out[n] = (fig, _binding(c, claim, "misbound", src, occ, reason, b.support))
    return out


def bind_claim(claim: str, sources: Sequence[SourceText], *, context: str = "") -> list[Binding]:
    return [b for _, b in bind_figures(claim, sources, context=context)]
