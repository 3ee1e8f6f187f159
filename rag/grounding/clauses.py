"""What each figure of a text is attached to: its clause, its measured noun, its qualifiers.

A figure is only right with its subject: 党员责任区112个、党员示范岗220个 binds 112 to
党员责任区 and 220 to 党员示范岗. For every figure of a text this module reads, by rules only:

* ``sentence`` / ``clause``: the spans it stands in (。！？；; and ，,：: split them; a thousands
  comma 1,000 does not);
* ``own``: the words that name what it measures: the text before it back to the clause start or
  to the previous item of a list (、/和/及), plus the noun right after it (66支党员突击队);
  words of time, place, degree and comparison (全年, 全镇, 累计, 比上年增长 …) are left out;
* ``inherited``: for a figure whose own words name nothing (比上年增长12.6％, 占56.1%), the words of
  the figure it follows in the sentence: the subject of 12.6％ is that of the previous clause;
* qualifiers: ``direction`` (exact | lower 余/以上/超过/过半 | upper 不足/不到/近/以内/低于 | about
  约/左右), ``plan`` (预计/计划/力争/有望…: a target, not a result), ``change`` (level | by 增长12%,
  增幅为12% | to 提高到12% | from 由…), ``trend`` (up | down), ``base`` (比上年 = 同比 = 较去年;
  比全县平均), ``share`` (the whole of a ratio: 占立案总数的39%), ``tone`` (仅有117人 vs 多达117人) and
  ``period`` (累计 vs 今年/全年/2023年);
* ``lead``: the figure whose subject it takes: the one it inherits from, or for a rate named only by
  its attribute (参保率97.2%, 增幅为26.4%) the figure before it in the sentence.

Everything is computed on a simplified copy of the text of the same length (繁體 reads as 简体),
so spans are offsets into the original text. Results are cached per text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.documents.simplify import to_simplified
from rag.grounding.figures import Figure, extract_figures

__all__ = ["Occurrence", "analyse", "content_bigrams", "pos_bigrams", "weighted_bigrams"]

_SENTENCE_END = re.compile(r"[。！？；;!?\n]")
# A comma between digits with exactly three after it is a thousands separator, not a break.
_CLAUSE_BREAK = re.compile(r"[，：:]|,(?![0-9]{3}(?![0-9]))|(?<![0-9]),")
_LIST_SEP = re.compile(r"[、]|和|及|与|以及|并")
# Where the noun after a figure ends: 860名党员中 / 3个村里 / 280亩高山蔬菜和140亩油茶.
_NOUN_END = re.compile(
    r"[、]|和|及|与|以及|并|中(?![心央学国小层药医介秋期间标转华部])|里|内|有|已|都|均|共|其中|的|是|为"
)
# Words that say when, where, how much or how it changed, but not what is measured.
_NOT_SUBJECT = re.compile(
    r"一年来|今年以来|今年|去年|上年|当年|全年|年内|年底|年初|全镇|全乡|全县|全村|全市|全区|全社区|本镇|本乡|"
    r"本村|辖区|共计|总计|合计|累计|总共|一共|加起来|其中|分别|同比|环比|比上年|较上年|比去年|较去年|"
    r"增长了?|增加了?|提高了?|提升了?|上升了?|下降了?|减少了?|降低了?|压减|压缩|达到|达|预计|计划|"
    r"力争|有望|可达|约|大约|将近|接近|近|超过|不足|不到|不超过|以上|以下|以内|左右|多达|之多|低于|高于|"
    r"已经|已|均|都|全部|共|为|是|有|了|的|在|对|把|被|将|从|由|到|至|占|比|较|我们|我|本人|村里|镇里|"
    r"乡里|县里|局里|村集体从中"
)
_PLAN = re.compile(
    r"预计|(?<!年度)(?<!列入)(?<![的入])计划(?![的内外中任生单，,。；])|力争|有望|可望|拟|预期|目标是|争取到?\d"
)
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
_TO = re.compile(
    r"(?:提高|提升|增加|增长|上升|下降|降低|减少|压减|压缩|缩短|扩大|涨|降|增|减|升)(?:到|至)了?$"
)
_BY = re.compile(
    r"(?:增长|增加|提高|提升|上升|下降|减少|降低|压减|压缩|缩短|增收|减收|多了|少了|高出|高|低)了?$"
)
# 压减一般性支出12%: the change verb, its object, then the figure (no 到/至).
_BY_OBJECT = re.compile(
    r"^[^到至达为是有]{0,4}?(?:压减|压缩|减少|降低|下降|提高|提升|增加)(?!到|至|了)[^到至达为是有]{1,8}$"
)
_FROM = re.compile(r"(?:由|从)(?:原来|原先|之前|年初|过去|去年|上年)?的?$")
_UP = re.compile(r"增长|增加|提高|提升|上升|多|高|增|涨|扩大")
_DOWN = re.compile(r"下降|减少|降低|压减|压缩|缩短|少|低|降|减")
_BASE = re.compile(
    r"(?:比(?!例|重|率|值|赛)|较(?!大|好|多|少|高|低|快|慢|为)|高于|低于)(?P<base>[^，。；比较]{1,10}?)(?:平均水平|平均)?"
    r"(?=增长|增加|提高|下降|减少|降低|多|少|高|低|$)"
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
    r"(?:占|完成了?)(?:到了|到|了)?(?P<x>[^，。；,;、占的]{1,16})的(?:比重|比例)?(?:为|达到|达|是)?$"
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


def _pieces(text: str) -> list[tuple[int, str]]:
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
        pieces = [p for _, p in _pieces(text)]
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


def _direction(t: str, fig: Figure) -> str:
    raw = to_simplified(fig.raw)
    before = t[max(0, fig.start - 4) : fig.start]
    if re.search(r"(?:不|未)$", before) and raw.startswith(("超过", "超", "高于")):
        return "upper"
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
        r"(不超过|未超过|不足|不到|低于|少于|超过|高于|多于|接近|将近)[^，。；、,;]{0,10}的$", clause_before
    )
    if not found and far:  # 不超过法定时限的一半, 已超过耕地总面积的40%
        found = "upper" if far[1] in _UPPER else "lower"
    if not found and re.search(r"(?:约|大约|大概)(?:占|为|是|有)?了?$", before):
        found = "about"  # 约占三成
    if not found and re.search(r"(?:近|将近|接近)(?:占|为|是|有)?了?$", before):
        found = "upper"
    return found or "exact"


def _change(t: str, lb: int, fig: Figure) -> tuple[str, str, str]:
    """(change, trend, base) from the words right before the figure (within its clause)."""
    near = t[lb : fig.start]
    to_share = re.search(
        r"(?:降到|降至|增至|升至|涨到|提高到|达到)了?[^，。；]{0,8}的$", near
    )  # 降到了上年的三成
    near = re.sub(r"(?:约|大约|近|将近|接近|超过|不足|不到|了|的|原来的|原先的)+$", "", near)
    change = "level"
    noun = _BY_NOUN.search(near)
    if _FROM.search(near):
        change = "from"
    elif _TO.search(near):
        change = "to"
    elif _BY.search(near) or _BY_OBJECT.search(near):
        change = "by"
    elif to_share:
        change = "to"
    elif noun:
        change = "by"
    trend = ""
    if change == "by" and noun and not _BY.search(near):
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
            b = m["base"].strip()
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


# Where a topic before the first item of a 分别 list ends: 全县2360家单位中A、B、C级分别为….
_TOPIC_END = re.compile(r"中(?![心央学国小层药医介秋期间标转华部])|里|的")


def _respectively(
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
    parts = [p for p in _LIST_SEP.split(t[start:at]) if p.strip()]
    if len(after) < 2 or len(parts) < len(after):
        return {}
    parts = ["".join(parts[: len(parts) - len(after) + 1]), *parts[len(parts) - len(after) + 1 :]]
    topic = list(_TOPIC_END.finditer(parts[0]))
    if topic and topic[-1].end() < len(parts[0]):  # …单位中A: the first item is A
        parts[0] = parts[0][topic[-1].end() :]
    # 受理和办结信访件 / 集体访、越级访批次 / A、B、C级: the last item's words beyond the length of
    # the other items are the noun they share. Code cannot tell that from 企业和农民专业合作社 (no
    # shared noun), so the reading without it is kept too.
    first = len("".join(_NOT_SUBJECT.split(parts[0])).strip())
    tail = len(parts[-1]) - first
    alike = all(abs(len(p.strip()) - first) <= 1 for p in parts[1:-1])
    shared = parts[-1][first:] if alike and (tail >= 2 or (first == 1 and tail >= 1)) else ""
    return {
        f.start: (p + shared, p) if shared and n < len(parts) - 1 else (p, None)
        for n, (f, p) in enumerate(zip(after, parts, strict=True))
    }


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
    for i, fig in enumerate(all_figs):
        sent = next((s for s in sentences if s[0] <= fig.start < s[1]), (0, len(t)))
        if sent != current:
            current, prev_in_sentence = sent, []
        clause = next((c for c in _spans(t, _CLAUSE_BREAK, *sent) if c[0] <= fig.start < c[1]), sent)
        lb = clause[0]
        # 7、8号沟: a number of a name (号) is no item of a list.
        prev = next((f for f in reversed(all_figs[:i]) if f.unit != "号"), None)
        if prev is not None and prev.end <= fig.start and prev.start >= clause[0]:
            # 仓房64栋、储粮9.7万吨: a list item starts after the previous one; 不足10人的教学点31个:
            # the previous figure qualifies this one's noun and stays in its words.
            gap = t[prev.end : fig.start]
            seps = list(_LIST_SEP.finditer(gap))
            if seps:  # 高山蔬菜280亩、油茶140亩 / 280亩高山蔬菜和140亩油茶
                lb = prev.end + seps[-1].end()
            else:
                noun = re.fullmatch(r"[^\W\d到至为是有由从降升增减提高达]{1,4}", gap) is not None
                modifier = gap.startswith("的") or (prev.unit == "岁" and noun)  # 35岁以下党员52名
                lb = lbs[all_figs.index(prev)] if modifier else prev.end
        lbs.append(lb)
        if fig.kind in ("year", "date"):
            continue
        nxt = all_figs[i + 1].start if i + 1 < len(all_figs) else len(t)
        rb = min(clause[1], nxt)
        left, right = t[lb : fig.start], t[fig.end : rb]
        right = _NOUN_END.split(right)[0] if _is_noun_start(right) else ""
        respectively = _respectively(t, clause, all_figs)
        alt = None
        if fig.start in respectively:
            (left, alone), right = respectively[fig.start], ""
            alt = None if alone is None else (alone, "")
        own = "|".join(p for p in (left, right) if content_bigrams(p))
        inherited, scope, lead = "", clause, None
        if not own:
            before = next((o for o in reversed(prev_in_sentence) if o.subject), None)
            inherited = before.subject if before else _without_figures(t, sent[0], lb, all_figs)
            scope = (before.scope[0] if before else sent[0], clause[1])
            lead = before.fig.start if before else None
        elif _ATTRIBUTE.fullmatch(re.sub(r"[\W_]", "", "".join(_NOT_SUBJECT.split(own)))):  # 参保率97.2%
            before = next((o for o in reversed(prev_in_sentence) if o.subject), None)
            lead = before.fig.start if before else None
        change, trend, base = _change(t, lb, fig)
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
            _direction(t, fig),
            bool(_PLAN.search(t, sent[0], fig.start)),
            change,
            trend,
            base,
            _period(t, sent[0], fig.start),
            _per(t, clause[0], fig.start),
            _share(t, lb, fig),
            _tone(t, lb, fig),
            lead,
            alt,
        )
        out.append(occ)
        prev_in_sentence.append(occ)
    return tuple(out)


@lru_cache(maxsize=2048)
def pos_bigrams(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(bigrams inside the verbs, adjectives and adverbs of ``text``, bigrams inside its nouns):
    调解成功 → 调解 v, 成功 a; 供水工程 n. A part-of-speech tagger (jieba's, already the keyword
    index's tokenizer) tells them apart where bigrams cannot."""
    import jieba
    import jieba.posseg  # loaded on first use: most claims never need it

    jieba.setLogLevel(logging.WARNING)
    verbs: set[str] = set()
    nouns: set[str] = set()
    for w in jieba.posseg.cut(text.replace("|", "，")):
        if w.flag[:1] in ("v", "a", "d") and w.flag != "vn":  # 应急 (vn) names a thing
            verbs.update(w.word[i : i + 2] for i in range(len(w.word) - 1))
        elif w.flag[:1] == "n":
            nouns.update(w.word[i : i + 2] for i in range(len(w.word) - 1))
    return frozenset(verbs), frozenset(nouns)
