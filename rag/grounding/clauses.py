"""What each figure of a text is attached to: its clause, its measured noun, its qualifiers.

A figure is only right with its subject: 党员责任区112个、党员示范岗220个 binds 112 to
党员责任区 and 220 to 党员示范岗. For every figure of a text this module reads, by rules only:

* ``sentence`` / ``clause``: the spans it stands in (。！？；; and ，,：: split them; a thousands
  comma 1,000 does not);
* ``own``: the words that name what it measures: the text before it back to the clause start or
  to the previous item of a list (、/和/及), plus the noun right after it (66支党员突击队);
  words of time, place, degree and comparison (全年, 全镇, 累计, 比上年增长 …) are left out, so is
  the noun of the figure before it (七成学校的在校生, 86所中小学有在校生), a whole (在…支出中超过八成)
  and a noun that only restates a measure word of people (3.5名工作人员 = 3.5人,
  ``rag/data/binding.yaml``); a total (总收入) takes the subject it totals (集体经济收入…);
* ``inherited``: for a figure whose own words name nothing (比上年增长12.6％, 占56.1%), the words of
  the figure it follows in the sentence: the subject of 12.6％ is that of the previous clause;
* qualifiers: ``direction`` (exact | lower 余/以上/超过/过半 | upper 不足/不到/近/以内/低于 | about
  约/左右), ``plan`` (预计/计划/力争/有望…: a target, not a result; ``plan_word`` when it is only
  计划, which may name a programme), ``change`` (level | by 增长12%, 增幅为12%, 较上年多了, 高于全市
  平均 | to 提高到12% | from 由…, 之前是), ``trend`` (up | down), ``base`` (比上年 = 同比 = 较去年;
  比全县平均), ``share`` (the whole of a ratio: 占立案总数的39%), ``tone`` (仅有117人 vs 多达117人) and
  ``period`` (累计 vs 今年/全年/2023年);
* ``lead``: the figure whose subject it takes: the one it inherits from, or for a rate named only by
  its attribute (参保率97.2%, 增幅为26.4%) or its whole (完成年度目标的108%) the figure before it.

Everything is computed on a simplified copy of the text of the same length (繁體 reads as 简体),
so spans are offsets into the original text. Results are cached per text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.documents.simplify import to_simplified
from rag.grounding.binding_words import PERSON_UNITS, person_nouns
from rag.grounding.clause_lists import AND as _AND
from rag.grounding.clause_lists import LIST_SEP as _LIST_SEP
from rag.grounding.clause_lists import NOT_SUBJECT as _NOT_SUBJECT
from rag.grounding.clause_lists import respectively as _respectively
from rag.grounding.clause_lists import respectively_across
from rag.grounding.direction import direction
from rag.grounding.figures import Figure, extract_figures

__all__ = ["Occurrence", "analyse", "content_bigrams", "rate_subject", "weighted_bigrams", "word_pieces"]

_SENTENCE_END = re.compile(r"[。！？；;!?\n]")
# A comma between digits with exactly three after it is a thousands separator, not a break.
_CLAUSE_BREAK = re.compile(r"[，：:]|,(?![0-9]{3}(?![0-9]))|(?<![0-9]),")
# Where the noun after a figure ends: 860名党员中 / 3个村里 / 280亩高山蔬菜和140亩油茶.
_NOUN_END = re.compile(
    _AND + r"|(?<![集初高空居适正命])中(?![心央学国小层药医介秋期间标转华部])"  # 集中/高中 are words
    r"|里|内|有|已|都|均|共|其中|的|是|为"
    r"|总(?=投资|金额|面积|产值|收入|规模|人数|户数|里程)"  # 项目总投资126亿元: the whole's attribute
    r"|(?<=[^\W\d])(?:从|通过|经过)"  # 1.1万人次群众从活动中受益: a preposition
    r"|(?<=[^\W\d])占(?!地|用|有|领|道)"  # 3260亩土地占全村耕地面积的七成: the whole of a share
)
_PLAN = re.compile(
    r"预计|(?<!年度)(?<!列入)(?<![的入])计划(?![的内外中任生单，,。；\x22”’」』》])|力争|有望|可望|拟|预期|目标是|争取(?:到(?=(?:19|20)\d{2}年))?\d"
)
_TO = re.compile(
    r"(?:提高|提升|增加|增长|上升|下降|降低|减少|压减|压缩|缩短|扩大|涨|降|增|减|升)(?:到|至)了?$"
)
_BY = re.compile(
    r"(?:增长|增加|提高|提升|上升|下降|减少|降低|压减|压缩|缩短|增收|减收|多了|少了|高出|高|低|快|慢|年轻|年长)了?$"
)
# 压减一般性支出12%: the change verb, its object, then the figure (no 到/至).
_BY_OBJECT = re.compile(
    r"^[^到至达为是有]{0,4}?(?:压减|压缩|减少|降低|下降|提高|提升|增加)(?!到|至|了)[^到至达为是有]{1,8}$"
)
_FROM = re.compile(r"(?:由|从)(?:原来|原先|之前|年初|过去|去年|上年)?的?$")
# 降到了7.2天，之前是8.6天: the earlier level is the 由8.6天 of a change.
_EARLIER = re.compile(r"(?:之前|此前|以前|原来|原先|先前)(?:是|为|有|只有|仅有|达到|达)?$")
# 高于全市平均1.2个百分点 = 比全市平均高1.2个百分点: a difference, not a level.
_THAN = re.compile(r"(?P<w>高于|低于|快于|慢于|多于|少于|高出|跑赢|超出|领先|跑输|落后)[^，。；,;]{1,12}$")
# 比上年多争取2.1亿元 / 较上年少: 多/少 after a base state the difference.
_MORE = re.compile(r"(?:比|较)[^，。；,;比较]{1,10}?(?P<w>多|少)[^\W\d]{0,2}$")
_UP = re.compile(r"增长|增加|提高|提升|上升|多|高|增|涨|扩大|快")
_DOWN = re.compile(r"下降|减少|降低|压减|压缩|缩短|少|低|降|减|慢|年轻")
_BASE = re.compile(
    r"(?:(?<!占)比(?!例|重|率|值|赛)|较(?!大|好|多|少|高|低|快|慢|为)|高于|低于)(?P<base>[^，。；比较]{1,10}?)(?:平均水平|平均)?"
    r"(?=增长|增加|提高|下降|减少|降低|多|少|高|低|快|慢|年轻|$)"
)
_PERIOD = re.compile(r"(?P<cumulative>累计|累积|历年|至今|以来共)|(?P<year>今年|当年|全年|本年度|本年|年内)")
_PER = re.compile(
    r"每(?P<n>[一二两三四五六七八九十百千万]+|\d+)?(?:个|名|位)?(?P<u>人|户|亩|平方公里|公里|家|村|所|床|张)"
    r"|(?P<u2>人|户|亩|村|校)均"
)
_LAST_YEAR = ("上年", "去年", "上一年", "同期", "上年同期", "去年同期")
# 增幅为26.4% states a change as a noun: the same as 增长26.4%.
_BY_NOUN = re.compile(
    r"(?P<w>增幅|增速|涨幅|降幅|减幅|增长率|增长幅度|增长速度|下降幅度|降低幅度|减少幅度)"
    r"(?:约为|达到了|达到|达|为|是)?了?$"
)
# A rate named only by its attribute (参保率, 占比, 增幅) measures the subject of the figure before it.
_ATTRIBUTE = re.compile(r"[^\W\d]{0,3}(?:率|比例|比重|占比|增幅|增速|涨幅|降幅|减幅)")
# 占立案总数的39% / 完成年度目标的102%: the whole a ratio is taken of.
_SHARE = re.compile(
    r"(?:占|完成了?|恢复到|恢复至|相当于)(?:到了|到|了)?(?P<x>[^，。；,;、占的]{1,16})的(?:比重|比例)?(?:为|达到|达|是)?$"
)
# 仅有117人 (few) vs 多达117人 (many): the report's weighing of the figure.
_FEW = re.compile(r"(?:仅仅|仅|只|才)(?:有|占|为|是)?$")
_MANY = re.compile(r"(?:多达|高达|竟达|达到了|竟有)$")
# A year (2023年新建…) dates the figure to one year, unless it is the end of a span (截至2023年底).
_YEAR = re.compile(r"(?<![到至止自从])(?:19|20)[0-9]{2}年(?:度)?(?![底末以来])")
_YEAR_BEFORE = re.compile(r"(?:今年|当年|全年|本年度|本年|年内|(?:19|20)[0-9]{2}年度?)[，,]?$")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One figure of a text with what it is attached to (spans are offsets into the text)."""

    fig: Figure
    sentence: tuple[int, int]
    clause: tuple[int, int]
    scope: tuple[int, int]  # the clause, from the clause of its subject when it inherits one
    own: str  # the words naming what it measures (simplified, qualifier words removed)
    own_near: tuple[str, ...]  # ``own`` as pieces nearest first: (left text reversed order, right)
    inherited: str  # the subject it takes from the figure before it, when ``own`` names nothing
    direction: str  # exact | lower | upper | about
    plan: bool
    change: str  # level | by | to | from
    trend: str  # up | down | ""
    base: str  # the comparison base of a change: 上年, 全县平均 …, or ""
    period: str = ""  # cumulative (累计/历年) | year (今年/全年/当年/2023年) | ""
    per: str = ""  # the unit of a rate: 每千人, 每万人, 人均 → 每人 …, or ""
    share: str = ""  # the whole of a ratio: 立案总数 (占立案总数的39%), or ""
    tone: str = ""  # few (仅有/只有) | many (多达/高达) | ""
    lead: int | None = None  # start of the figure whose subject this one takes, if any
    # 分别 with a noun the last item may share (受理和办结信访件): the words without it (the other
    # reading: 企业和农民专业合作社 shares nothing), or None.
    alt_near: tuple[str, str] | None = None
    plan_word: str = ""  # the plan marker when it is only 计划, with the two characters before it

    @property
    def subject(self) -> str:
        return self.own or self.inherited


def content_bigrams(text: str) -> list[str]:
    """Character bigrams of ``text`` with qualifier words removed (pieces are not joined)."""
    out: list[str] = []
    for piece in _NOT_SUBJECT.split(text):
        piece = re.sub(r"[\s\W_]+", " ", piece)
        for part in piece.split():
            out.extend(part[i : i + 2] for i in range(len(part) - 1))
    return out


_DECAY = 0.8  # weight of a word per character of distance from the figure


def word_pieces(text: str) -> list[tuple[int, str]]:
    """(position, piece) of ``text`` between qualifier words and punctuation."""
    out, pos = [], 0
    for m in [*_NOT_SUBJECT.finditer(text), None]:
        end = m.start() if m else len(text)
        for part in re.finditer(r"[^\s\W_]+", text[pos:end]):
            out.append((pos + part.start(), part.group()))
        pos = m.end() if m else pos
    return out


def weighted_bigrams(left: str, right: str) -> dict[str, float]:
    """Content bigrams of the text before (``left``) and after (``right``) a figure, weighted by
    their distance to it in content characters (qualifier words skipped): the noun next to the
    figure counts most."""
    out: dict[str, float] = {}
    sides = [(right, False, 1.0), (left, True, 1.0)]
    if content_bigrams(right):  # 66支党员突击队: the noun after the figure is what it counts
        sides[1] = (left, True, 0.5)
    for text, before, scale in sides:
        pieces = [p for _, p in word_pieces(text)]
        grams = [p[i : i + 2] for p in pieces for i in range(len(p) - 1)]
        for d, gram in enumerate(reversed(grams) if before else grams):
            out[gram] = max(out.get(gram, 0.0), scale * _DECAY**d)
    return out


def _spans(t: str, pattern: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for m in pattern.finditer(t, start, end):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if end > pos:
        out.append((pos, end))
    return out


def _change(t: str, lb: int, fig: Figure) -> tuple[str, str, str]:
    """(change, trend, base) from the words right before the figure (within its clause)."""
    near = t[lb : fig.start]
    to_share = re.search(
        r"(?:降到|降至|增至|升至|涨到|提高到|达到)了?[^，。；]{0,8}的$", near
    )  # 降到了上年的三成
    near = re.sub(r"(?:约|大约|近|将近|接近|超过|不足|不到|了|的|原来的|原先的)+$", "", near)
    change, than = "level", None
    noun = _BY_NOUN.search(near)
    if _FROM.search(near) or _EARLIER.search(near):
        change = "from"
    elif _TO.search(near):
        change = "to"
    elif _BY.search(near) or _BY_OBJECT.search(near) or _MORE.search(near):
        change = "by"
    elif to_share:
        change = "to"
    elif noun or (than := _THAN.search(near)):
        change = "by"
    trend = ""
    if than:
        trend = "up" if than["w"][0] in "高快多跑超领" and than["w"] != "跑输" else "down"
    elif change == "by" and noun and not _BY.search(near):
        trend = "down" if noun["w"][0] in "降减下" else "up"
    elif change in ("by", "to"):
        tail = near[-6:]
        up, down = _UP.search(tail), _DOWN.search(tail)
        if up and not down:
            trend = "up"
        elif down and not up:
            trend = "down"
        elif up and down:
            trend = "up" if up.start() > down.start() else "down"
    base = ""
    m = _BASE.search(near)
    if change == "by" or m:
        if re.search(r"同比|环比", near):
            base = "上年"
        elif m:
            b = m["base"].strip().removesuffix("的")  # 比全县乡镇卫生院的平均水平
            base = "上年" if b.startswith(_LAST_YEAR) or b in _LAST_YEAR else b
    return change, trend, base


def _period(t: str, start: int, end: int) -> str:
    """累计 over years, or one year's figure. 全年累计 / 2023年累计 sum up one year: still that year's."""
    found = list(_PERIOD.finditer(t, start, end))
    if found:  # the nearest word before the figure: 累计发展45名，今年发展12名
        last = found[-1]
        return (
            "cumulative" if last["cumulative"] and not _YEAR_BEFORE.search(t, start, last.start()) else "year"
        )
    return "year" if _YEAR.search(t, start, end) else ""


def _share(t: str, lb: int, fig: Figure) -> str:
    m = _SHARE.search(re.sub(r"(?:约|大约|近|将近|接近|超过|不足|不到)$", "", t[lb : fig.start]))
    return m["x"] if m else ""


def _tone(t: str, lb: int, fig: Figure) -> str:
    before = t[max(lb, fig.start - 4) : fig.start]
    if _FEW.search(before):
        return "few"
    return "many" if _MANY.search(before) or to_simplified(fig.raw).endswith("之多") else ""


def _per(t: str, start: int, end: int) -> str:
    found = list(_PER.finditer(t, start, end))
    if not found:
        return ""
    m = found[-1]
    return f"每{m['n'] or ''}{m['u'] or m['u2']}"


# 七成学校的在校生 / 86所中小学有在校生: the noun of the figure before, then 的 or 有.
_POSSESSOR = re.compile(r"[^\W\d的有]{1,6}[的有](?=[^\W\d])")
# 在一般公共预算支出中超过八成 / 在全部支出中占: the whole a share is taken of.
_IN_WHOLE = re.compile(r"在(?P<x>[^，。；,;、在]{2,16}?)(?:中|里|当中)的?(?:占比?|比重为?|比例为?)?$")
# 总收入 / 总人数: the total of a noun named before it in the sentence.
_TOTAL = re.compile(r"总([^\W\d]{1,3}?)(?:数|额|量)?")


def _core(words: str) -> str:
    return re.sub(r"[\W_]", "", "".join(_NOT_SUBJECT.split(words)))


def rate_subject(occ: Occurrence) -> str:
    """劳动争议案件化解率95.5%: the subject a rate is of (劳动争议案, the words before the attribute
    and the three characters that may belong to it), or "" for a rate named by its attribute alone."""
    core = _core(occ.own)
    m = re.search(f"(?:{_ATTRIBUTE.pattern})$", core)
    return core[: m.start()] if m else ""


def _only_whole(t: str, lb: int, fig: Figure, own: str) -> bool:
    """完成年度目标的108%: words naming only the whole of a ratio, not what it measures."""
    whole = _share(t, lb, fig)
    return bool(whole) and not _core(own.replace(whole, "").replace("完成", ""))


# A measure named by a generic word only (面积, 人数, 数量): the subject is the figure before's.
_GENERIC = re.compile(r"(?:总)?(?:面积|人数|数量|规模|总量|户数|人次|个数|金额|总额|数额|产量|产值)")
_GENERIC_TAIL = re.compile(rf"(?<=[^\W\d]){_GENERIC.pattern}(?=同比|环比|比|较|$)")
# 有19名是一线职工 / 其中8900万元是从上级争取来的 / 其中69个已经整改: what the part is, said after it.
_PREDICATE = re.compile(
    r"(?:是|为|属于|系)(?P<noun>[^，。；,;]{2,})|(?:已经|已|均已|都已)(?P<verb>[^\W\d]{2,8})"
)


# 在职职工里有 / 党员中，有: the whole a part is picked from, before a part named after it
_CONTAINER = re.compile(r"[^\W\d]*(?:里|中|当中|之中)[，,]?(?:有|就有|共有)")
_BOUND_OF = re.compile(r"的(?=[\u4e00-\u9fff])(?!的|已|均|都|是|为|有|占|在)")


def _bound(fig: Figure) -> bool:
    """35岁 / 10亿元以上: a figure that bounds the noun it stands before."""
    return fig.unit == "岁" or to_simplified(fig.raw).endswith(("以上", "以下", "以内"))


def _noun_elsewhere(t: str, fig: Figure, after: str, nxt: Figure | None, clause: tuple[int, int]) -> str:
    """The words naming a figure that has none next to it on either side: a predicate after it
    (有19名是一线职工, 其中69个已经整改) or the noun after an age bound it is followed by
    (73名80岁以上老人)."""
    if m := _PREDICATE.match(after):
        noun = m["noun"] or m["verb"]
        return _NOUN_END.split(noun)[0] if _is_noun_start(noun) or m["verb"] else noun
    if nxt is not None and nxt.start == fig.end and _bound(nxt):
        rest = t[nxt.end : clause[1]]  # 73名80岁以上老人: the noun after the age bound
        return _NOUN_END.split(rest)[0] if _is_noun_start(rest) else ""
    return ""


_TIMES = ("year", "date")


def _is_noun_start(text: str) -> bool:
    if not text or not ("\u4e00" <= text[0] <= "\u9fff"):
        return False
    return not re.match(
        r"的|已|均|都|全部|得到|被|在|于|是|为|和|及|与|以|并|其中|分别|同比|比|较|占|累计|共", text
    )


def _without_figures(t: str, start: int, end: int, figs: Sequence[Figure]) -> str:
    out, pos = [], start
    for f in figs:
        if start <= f.start and f.end <= end:
            out.append(t[pos : f.start])
            pos = f.end
    return " ".join([*out, t[pos:end]])


@lru_cache(maxsize=256)
def analyse(text: str) -> tuple[Occurrence, ...]:
    """Every figure of ``text`` (dates and years left out) with its clause, words and qualifiers."""
    all_figs = extract_figures(text)
    if not all_figs:
        return ()
    t = to_simplified(text)
    sentences = _spans(t, _SENTENCE_END, 0, len(t))
    out: list[Occurrence] = []
    lbs: list[int] = []
    prev_in_sentence: list[Occurrence] = []
    current: tuple[int, int] | None = None
    times = [f for f in all_figs if f.kind in _TIMES]
    for i, fig in enumerate(all_figs):
        sent = next((s for s in sentences if s[0] <= fig.start < s[1]), (0, len(t)))
        if sent != current:
            current, prev_in_sentence = sent, []
        clause = next((c for c in _spans(t, _CLAUSE_BREAK, *sent) if c[0] <= fig.start < c[1]), sent)
        lb = clause[0]
        # 7、8号沟: a number of a name (号) is no item of a list.
        # 恢复到2019年同期的108%: a year names a time, it starts no list item
        prev = next((f for f in reversed(all_figs[:i]) if f.unit != "号" and f.kind not in _TIMES), None)
        if prev is not None and prev.end <= fig.start and prev.start >= clause[0]:
            # 仓房64栋、储粮9.7万吨: a list item starts after the previous one; 不足10人的教学点31个:
            # the previous figure qualifies this one's noun and stays in its words.
            gap = t[prev.end : fig.start]
            seps = list(_LIST_SEP.finditer(gap))
            if seps:  # 高山蔬菜280亩、油茶140亩 / 280亩高山蔬菜和140亩油茶
                lb = prev.end + seps[-1].end()
            else:
                noun = re.fullmatch(r"[^\W\d到至为是有由从降升增减提高达]{1,4}", gap) is not None
                # 35岁以下党员52名, 亿元以上项目31个: a bound before a noun qualifies it
                bound = prev.unit == "岁" or to_simplified(prev.raw).endswith(("以上", "以下", "以内"))
                modifier = gap.startswith("的") or (bound and noun)
                lb = lbs[all_figs.index(prev)] if modifier else prev.end
                if not modifier and (owner := _POSSESSOR.match(gap)):  # 七成学校的在校生不到100人
                    lb = prev.end + owner.end()  # 学校 is 七成's noun; 在校生 is this figure's
        lbs.append(lb)
        if fig.kind in ("year", "date"):
            continue
        nxt = all_figs[i + 1].start if i + 1 < len(all_figs) else len(t)
        rb = min(clause[1], nxt)
        # 2024年全年新建了14处: a year before the figure names when, not what is counted
        left, after = _without_figures(t, lb, fig.start, times), t[fig.end : rb]
        right = _NOUN_END.split(after)[0] if _is_noun_start(after) else ""
        # 10亿元以上的项目 / 近97%的学生: the noun after 的 is what the bound or share is of
        if not right and _BOUND_OF.match(after) and (_bound(fig) or fig.kind == "percent"):
            right = _NOUN_END.split(after[1:])[0]
        if not right and _PREDICATE.match(after) and _CONTAINER.fullmatch(left):
            left = ""  # 96名在职职工里有81名是卫生技术人员: 在职职工 is the whole, 卫生技术人员 the part
        if not right and not content_bigrams(left):
            right = _noun_elsewhere(t, fig, after, all_figs[i + 1] if i + 1 < len(all_figs) else None, clause)
        if fig.unit in PERSON_UNITS and right in person_nouns():  # 3.5名工作人员 = 3.5人
            right = ""
        respectively = _respectively(t, clause, all_figs)
        alt = None
        before_subjects = [(o.fig.start, o.subject) for o in prev_in_sentence]
        if fig.start in respectively:
            (left, alone), right = respectively[fig.start], ""
            alt = None if alone is None else (alone, "")
        elif across := respectively_across(t, clause, all_figs, before_subjects):
            left, right = across.get(fig.start, left), "" if fig.start in across else right
            respectively = {f: (w, None) for f, w in across.items()}  # the second shares the change
        # 城乡居民医保参保人数比上年增长: 人数 restates the count of what it follows
        if content_bigrams(bare := _GENERIC_TAIL.sub(" ", left)) and fig.kind == "percent":
            left = bare
        whole = _IN_WHOLE.search(left) if fig.kind == "percent" else None
        if whole:  # 在一般公共预算支出中超过八成: the whole of the ratio, not what it measures
            left = left[: whole.start()]
        own = "|".join(p for p in (left, right) if content_bigrams(p))
        if _GENERIC.fullmatch(_core(own)) and any(o.subject for o in prev_in_sentence):
            own = right = left = ""  # 面积比上年翻了一番 / 人数同比增长34%: the figure before's measure
        inherited, scope, lead = "", clause, None
        total = _TOTAL.fullmatch(_core(own))
        of = next((o for o in reversed(prev_in_sentence) if total and total[1] in o.subject), None)
        if of is not None:  # …集体经济收入全部超过10万元，…总收入达到986万元: the total of that subject
            left = f"{left}|{of.subject}"  # its noun as near as the subject's own figure's
            own = "|".join(p for p in (left, right) if content_bigrams(p))
        if not own:
            before = next((o for o in reversed(prev_in_sentence) if o.subject), None)
            inherited = before.subject if before else _without_figures(t, sent[0], lb, all_figs)
            scope = (before.scope[0] if before else sent[0], clause[1])
            lead = before.fig.start if before else None
        elif _ATTRIBUTE.fullmatch(_core(own)) or _only_whole(t, lb, fig, own):  # 参保率97.2%, 完成目标的108%
            before = next((o for o in reversed(prev_in_sentence) if o.subject), None)
            lead = before.fig.start if before else None
        change, trend, base = _change(t, lb, fig)
        plans = list(_PLAN.finditer(t, sent[0], fig.start))
        # 营养改善计划覆盖1.2万名: 计划 alone may be a programme's name (binding asks the source)
        named = (
            t[max(sent[0], plans[0].start() - 2) : plans[0].end()]
            if {m[0] for m in plans} == {"计划"}
            else ""
        )
        first = min(respectively, default=None)
        if fig.start in respectively and fig.start != first:  # 分别下降15%和10%: the second shares it
            lead_occ = next(o for o in out if o.fig.start == first)
            change, trend, base = lead_occ.change, lead_occ.trend, lead_occ.base
        occ = Occurrence(
            fig,
            sent,
            clause,
            scope,
            own,
            (left, right),
            inherited,
            direction(t, fig),
            bool(plans),
            change,
            trend,
            base,
            _period(t, sent[0], fig.start),
            _per(t, clause[0], fig.start),
            _share(t, lb, fig) or (whole["x"] if whole else ""),
            _tone(t, lb, fig),
            lead,
            alt,
            named,
        )
        out.append(occ)
        prev_in_sentence.append(occ)
    return tuple(out)
