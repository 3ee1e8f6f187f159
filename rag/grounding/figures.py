"""Exact figure extraction and comparison for Chinese work reports.

Users' top fear is an invented or altered figure, so this module is deliberately
rule-based and exact: 179.25万元 == 1792500元, but != 179.2万元. 繁體 text is read through
a simplified copy of the same length (120萬元 == 120万元, 650畝, 184戶); ``raw`` and the
offsets are always those of the original text.

Conventions (documented here once, relied on by callers and tests):

* ``Figure.value`` is the normalized magnitude: multipliers are folded in
  (179.25万元 → 1792500.0, unit 元; 4223万 → 42230000.0, unit ``""``).
* Dates: ``M月D日`` → value ``M*100+D``, unit ``月日``; ``M月`` → value M, unit
  ``月``; ``D日`` → value D, unit ``日``. A date only ever matches a date with the
  same unit and value (no calendar arithmetic).
* Years: ``2022年``/``2022年度`` → kind year, unit ``年``. A bare 4-digit integer in
  1900–2100 (``本人2022履行``, ``2023产季``) is kind year with unit ``""``.
* Chinese numerals count only before a measure word/unit (三轮次, 两个, 十二名),
  never alone, never ``一`` alone (the indefinite article: 一项硬任务, 一名党员; but 多了一倍 is one),
  never ``二`` alone (ordinal-ish: 二期, 二次创业), never after 第, never as the
  start of a quoted slogan (“三个责任”), never in the known fixed phrases.
* Ranges and lists share the last unit: 7、8号沟 → 7号, 8号; 3-5万元 → 3万元, 5万元.
* Share words are percentages: 三成 → 30 %, 过半 / 一半 → 50 %, 四分之三 → 75 %; 翻一番 → 2倍.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from rag.documents.simplify import to_simplified
from rag.grounding.figure_units import FIXED_PHRASES as _FIXED_PHRASES
from rag.grounding.figure_units import PERCENT_UNITS as _PERCENT_UNITS
from rag.grounding.figure_units import REDACTED_UNITS as _REDACTED_UNITS
from rag.grounding.figure_units import UNIT_DEN as _UNIT_DEN
from rag.grounding.figure_units import UNIT_GROUPS as _UNIT_GROUPS
from rag.grounding.figure_units import UNITS_AR as _UNITS_AR
from rag.grounding.figure_units import UNITS_CN as _UNITS_CN

__all__ = [
    "Figure",
    "extract_figures",
    "find_figure",
    "has_redacted_figure",
    "normalize_number",
    "redacted_figure_spans",
    "same_figure",
    "unsupported_figures",
]


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure found in a text; ``text[start:end] == raw``."""

    raw: str  # exact text, including approx markers (近, 余, 以上)
    start: int
    end: int
    value: float  # normalized (multipliers folded in; dates encoded, see module doc)
    unit: str  # canonical unit, "" when none
    kind: str  # "number" | "percent" | "year" | "date"
    approx: bool  # 余/多/近/约/超/以上…: the value is a bound or a round figure


# --- character tables ---------------------------------------------------------------

# Full-width → ASCII, one char for one char, so offsets in the translated text are
# offsets in the original.
_FULLWIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "．": ".", "％": "%", "／": "/", "－": "-", "～": "~"}
)

_CN_DIGITS = {ch: i for i, ch in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_MULT = {"十": 10, "百": 100, "千": 1000, "万": 10**4, "亿": 10**8}


_APPROX_PRE = r"(?:大约|(?<![节制签预合公条邀契履违隐])约|将近|接近|近|超过|超|逾|不足|不到|不少于|至少)"
_APPROX_SUF = r"(?:以上|以下|以内|左右|之多|有余)"
_OPEN_QUOTES = '“"「『‘《'
_REDACTION = "*＊xX"


def _alt(units: Sequence[str]) -> str:
    """Regex alternation, longest first; ASCII units must not run into letters (5min)."""
    parts = []
    for u in sorted(set(units), key=len, reverse=True):
        parts.append(re.escape(u) + ("(?![A-Za-z])" if u.isascii() and u[-1].isalpha() else ""))
    return "(?:" + "|".join(parts) + ")"


_U_AR = _alt(list(_UNITS_AR))
_U_CN = _alt(sorted(_UNITS_CN))
_U_DEN = _alt(_UNIT_DEN)
_AR = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?"
_CN = r"[〇零一二两三四五六七八九十百千万亿]+(?:点[〇零一二三四五六七八九]+[万亿]*)?"
_CN_D = "[〇零一二两三四五六七八九]"
# 千 before 米/克/瓦 is part of the unit (千米, 千克), not a multiplier.
_AR_MULT = r"(?:万|亿|千(?![米克瓦])|百(?!分))*"

_FIGURE_RE = re.compile(
    "|".join(
        (
            # 10月15日 / 10月 / 10月份
            r"(?<![0-9.])(?P<dm>1[0-2]|0?[1-9])月(?:(?P<dd>3[01]|[12][0-9]|0?[1-9])[日号]|份)?(?![0-9])",
            # 20日 (day of month); 30日内 is a duration, left to the general branch
            r"(?<![0-9.])(?P<dday>3[01]|[12][0-9]|0?[1-9])日(?!内)",
            r"(?P<cdm>十[一二]?|[一二三四五六七八九])月(?P<cdd>[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]",
            rf"(?P<cyr>{_CN_D}{{4}})年(?:度)?",
            rf"(?P<ppre>{_APPROX_PRE})?百分之(?P<pnum>{_AR}|{_CN})(?P<psuf>{_APPROX_SUF})?",
            rf"(?P<fpre>{_APPROX_PRE})?(?P<fden>[二三四五六七八九十]+)分之(?P<fnum>[一二三四五六七八九十]+)",
            # percentage words: 三成 / 近六成 / 六成多 (tenths), 过半 / 一半, 翻一番 (doubling)
            rf"(?P<wpre>{_APPROX_PRE})?(?<![一二两三四五六七八九十〇零])(?P<wnum>[一二两三四五六七八九])成"
            rf"(?![员为立功果效本熟型绩就交长品年都片套群了不])(?P<wsuf>多|{_APPROX_SUF})?",
            rf"(?P<hpre>{_APPROX_PRE})?(?<!另)(?P<half>过半|一半)(?P<hsuf>{_APPROX_SUF})?",
            r"翻了?(?P<fan>[一两二三])番",
            rf"(?P<apre>{_APPROX_PRE})?(?<![0-9.])(?P<anum>{_AR})"
            rf"(?:(?P<ainf1>[余多])(?=[万亿千百]|{_U_AR}))?(?P<amult>{_AR_MULT})"
            rf"(?:(?P<ainf2>[余多])(?={_U_AR}))?(?P<aunit>{_U_AR}(?:/{_U_DEN})?)?(?P<asuf>{_APPROX_SUF})?",
            rf"(?P<cpre>{_APPROX_PRE}|上)?(?P<cnum>{_CN})(?P<cinf>[余多])?(?P<cunit>{_U_CN})?"
            rf"(?P<csuf>{_APPROX_SUF})?",
        )
    )
)

# Redaction marks standing where a figure was (*万元, **次, X名, ****年).
_REDACTED_RE = re.compile(
    r"(?<![A-Za-z])(?:[*＊]+|[xX]{1,4}(?![A-Za-z]))[余多]?[万亿千百]*[余多]?(?:"
    + "|".join(sorted(_REDACTED_UNITS, key=lambda u: len(u.split("(")[0]), reverse=True))
    + ")"
)


# --- numbers ------------------------------------------------------------------------


def _cn_int(s: str, *, allow_seq: bool = False) -> int:
    """Chinese integer numeral → int: 一百二十 → 120, 两万五 → 25000, 三千万 → 3×10⁷."""
    if not s:
        raise ValueError("empty numeral")
    if all(ch in _CN_DIGITS for ch in s):
        if len(s) == 1:
            return _CN_DIGITS[s]
        if allow_seq:  # 二〇二二 (year read digit by digit)
            return int("".join(str(_CN_DIGITS[ch]) for ch in s))
        raise ValueError(f"digit sequence {s!r} is not a quantity")
    total = section = 0
    number: int | None = None
    last_unit = 1
    prev = ""  # "digit", "zero" or "unit"
    for ch in s:
        if ch in ("〇", "零"):
            number, prev, last_unit = None, "zero", 1
        elif ch in _CN_DIGITS:
            if prev == "digit":  # 三四个: a vague range, not one figure
                raise ValueError(f"adjacent digits in {s!r}")
            number, prev = _CN_DIGITS[ch], "digit"
        elif ch in _CN_SMALL:
            section += (1 if number is None else number) * _CN_SMALL[ch]
            number, prev, last_unit = None, "unit", _CN_SMALL[ch]
        elif ch == "万":
            total += ((section + (number or 0)) or 1) * 10**4
            section, number, prev, last_unit = 0, None, "unit", 10**4
        elif ch == "亿":
            total = ((total + section + (number or 0)) or 1) * 10**8
            section, number, prev, last_unit = 0, None, "unit", 10**8
        else:
            raise ValueError(f"not a Chinese numeral: {s!r}")
    if number is not None:
        # Colloquial tail: 两万五 = 25000, 三百五 = 350 (but 一百零五 = 105).
        number = number * last_unit // 10 if prev == "digit" and last_unit >= 10 else number
        section += number
    return total + section


def _cn_decimal(s: str, *, allow_seq: bool = False) -> Decimal:
    m = re.fullmatch(r"(.+?)点([〇零一二三四五六七八九]+)([万亿]*)", s)
    if not m:
        return Decimal(_cn_int(s, allow_seq=allow_seq))
    frac = "".join(str(_CN_DIGITS[ch]) for ch in m[2])
    return Decimal(f"{_cn_int(m[1])}.{frac}") * _mult(m[3])


def _mult(chars: str) -> Decimal:
    out = Decimal(1)
    for ch in chars:
        out *= _MULT[ch]
    return out


def normalize_number(raw: str) -> float:
    """Numeric expression → float: '1,000' 1000; '179.25万' 1792500; '三千万' 3e7; '二〇二二' 2022.

    Raises ValueError for anything else (units and approx markers are not accepted here).
    """
    s = _ascii_digits(raw.strip())
    m = re.fullmatch(rf"({_AR})([十百千万亿]*)", s)
    try:
        if m:
            return float(Decimal(m[1].replace(",", "")) * _mult(m[2]))
        if re.fullmatch(_CN, s):
            return float(_cn_decimal(s, allow_seq=True))
    except (InvalidOperation, KeyError) as exc:
        raise ValueError(f"not a number: {raw!r}") from exc
    raise ValueError(f"not a number: {raw!r}")


# --- extraction ---------------------------------------------------------------------


@dataclass(slots=True)
class _Cand:
    start: int
    end: int
    value: Decimal
    unit: str
    kind: str
    approx: bool
    mult: Decimal  # kept so a range/list can share it (3-5万元)


def _canon_unit(raw: str) -> str:
    if "/" in raw:
        num, den = raw.split("/", 1)
        return f"{_UNITS_AR[num]}/{_UNITS_AR.get(den, den)}"
    return _UNITS_AR.get(raw, raw)


def _char(t: str, i: int) -> str:
    # A sentinel off the ends: "" would be "in" every string and pass membership tests.
    return t[i] if 0 <= i < len(t) else "\0"


def _is_year(num: str, mult: str, value: Decimal) -> bool:
    return not mult and num.isdigit() and len(num) == 4 and 1900 <= value <= 2100


def _at_item_start(t: str, i: int) -> bool:
    """True at a line start or right after sentence punctuation: where 1. / 1、 enumerate."""
    j = i - 1
    while j >= 0 and t[j] in " \t\u3000":
        j -= 1
    return j < 0 or t[j] in "\n\r。；;：:！？!?"


def _is_heading_number(num: str, after: str) -> bool:
    # 1.1抓好… is a section number; 71.06 or 1.5万元 at a line start is not.
    section_like = re.fullmatch(r"[0-9]{1,2}\.[0-9]{1,2}", num) is not None
    return section_like and ("\u4e00" <= after <= "\u9fff" or after == " ")


def _blocked_spans(t: str) -> list[tuple[int, int]]:
    spans = []
    for phrase in _FIXED_PHRASES:
        i = t.find(phrase)
        while i >= 0:
            spans.append((i, i + len(phrase)))
            i = t.find(phrase, i + 1)
    return spans


def _arabic(t: str, m: re.Match[str]) -> _Cand | None:
    num, mult, unit_raw = m["anum"], m["amult"] or "", m["aunit"] or ""
    ns, ne = m.start("anum"), m.end("anum")
    before, after, after_all = _char(t, ns - 1), _char(t, ne), _char(t, m.end())
    bare = not (mult or unit_raw or m["ainf1"] or m["ainf2"] or m["asuf"])
    if before.isascii() and before.isalpha():  # G20, Win10: part of a name
        return None
    if bare and after_all.isascii() and after_all.isalpha():  # 5G, 3D
        return None
    if before in _REDACTION or before == "第":  # **3…, ordinals (第3名) are not quantities
        return None
    if bare:
        if before == "篇" and after in "：:":  # 篇1：title of a report in a 汇编
            return None
        if before in "（(" and after in "）)":  # （1）
            return None
        if after == "、" and not t[ne + 1 : ne + 2].isdigit():  # 1、 enumeration (7、8号 is a list)
            return None
        if _at_item_start(t, m.start()) and (after in ".、)）" or _is_heading_number(num, after)):
            return None  # 1. / 1、 / 1.1 at the start of an item
    value = Decimal(num.replace(",", "")) * _mult(mult)
    unit = _canon_unit(unit_raw)
    approx = bool(m["apre"] or m["ainf1"] or m["ainf2"] or m["asuf"]) or "多" in unit_raw  # 3个多月
    if unit in _PERCENT_UNITS:
        kind = "percent"
    elif (unit == "年" or bare) and _is_year(num, mult, value):
        kind = "year"
    else:
        kind = "number"
    return _Cand(m.start(), m.end(), value, unit, kind, approx, _mult(mult))


def _chinese(t: str, m: re.Match[str], blocked: list[tuple[int, int]]) -> _Cand | None:
    num, unit, pre = m["cnum"], m["cunit"] or "", m["cpre"] or ""
    ns = m.start("cnum")
    is_bare = num[0] in "百千万亿"  # 百余人 / 近万 only; 千家万户, 万名 are not figures
    start = m.start()
    if pre == "上" and not is_bare:  # 线上三次: 上 is no approx marker here
        pre, start = "", ns
    before, after = _char(t, start - 1), _char(t, m.end())
    approx = bool(pre or m["cinf"] or m["csuf"]) or "多" in unit
    # 一项任务 (article), 二期/二次 (ordinal-ish); 多了一倍 is a figure
    if (num in ("一", "二") and unit != "倍") or set(num) <= {"〇", "零"}:
        return None
    if before == "第" or before in _REDACTION or before in _OPEN_QUOTES:  # 第三次, *万余元, “三个责任”
        return None
    if unit in ("个", "条") and after in _OPEN_QUOTES:  # 四个“好”, 四条“线”: rhetoric
        return None
    if unit == "期" and t.startswith(("工程", "项目", "暨", "建设"), m.end("cunit")):  # 二期工程
        return None
    if any(s < m.end() and start < e for s, e in blocked):
        return None
    if is_bare and not approx:
        return None
    if not unit and not (approx and is_bare) and not (num[-1] in "万亿" and not is_bare):
        return None  # a Chinese numeral alone (二十大, 四三三一) is no figure
    try:
        value = _cn_decimal(num)
    except (ValueError, KeyError):
        return None
    unit = _canon_unit(unit)
    kind = "percent" if unit in _PERCENT_UNITS else "number"
    return _Cand(start, m.end(), value, unit, kind, approx, Decimal(1))


def _date(m: re.Match[str], value: int, unit: str) -> _Cand:
    return _Cand(m.start(), m.end(), Decimal(value), unit, "date", False, Decimal(1))


def _candidate(t: str, m: re.Match[str], blocked: list[tuple[int, int]]) -> _Cand | None:
    if m["dm"]:
        month, day = int(m["dm"]), m["dd"]
        return _date(m, month * 100 + int(day), "月日") if day else _date(m, month, "月")
    if m["dday"]:
        return _date(m, int(m["dday"]), "日")
    if m["cdm"]:
        return _date(m, _cn_int(m["cdm"]) * 100 + _cn_int(m["cdd"]), "月日")
    if m["cyr"]:
        year = _cn_int(m["cyr"], allow_seq=True)
        ok = 1900 <= year <= 2100
        return _Cand(m.start(), m.end(), Decimal(year), "年", "year", False, Decimal(1)) if ok else None
    if m["pnum"]:
        try:
            value = Decimal(normalize_number(m["pnum"]))
        except ValueError:
            return None
        approx = bool(m["ppre"] or m["psuf"])
        return _Cand(m.start(), m.end(), value, "%", "percent", approx, Decimal(1))
    if m["fden"]:
        try:
            value = Decimal(_cn_int(m["fnum"])) / Decimal(_cn_int(m["fden"]))
        except (ValueError, ZeroDivisionError):
            return None
        # 四分之三 is a share word: 75 %
        return _Cand(m.start(), m.end(), value * 100, "%", "percent", bool(m["fpre"]), Decimal(1))
    if m["wnum"]:  # 三成 = 30 %
        approx = bool(m["wpre"] or m["wsuf"])
        return _Cand(
            m.start(), m.end(), Decimal(_CN_DIGITS[m["wnum"]] * 10), "%", "percent", approx, Decimal(1)
        )
    if m["half"]:  # 过半 = more than 50 %
        approx = bool(m["hpre"] or m["hsuf"]) or m["half"] == "过半"
        return _Cand(m.start(), m.end(), Decimal(50), "%", "percent", approx, Decimal(1))
    if m["fan"]:  # 翻一番 = 2倍, 翻两番 = 4倍
        return _Cand(
            m.start(), m.end(), Decimal(2 ** _CN_DIGITS[m["fan"]]), "倍", "number", False, Decimal(1)
        )
    if m["anum"]:
        return _arabic(t, m)
    return _chinese(t, m, blocked)


_RANGE_JOINERS = frozenset({"-", "~", "至", "到", "、"})


def _share_units(t: str, cands: list[_Cand]) -> None:
    """3-5万元, 7、8号沟, 2021-2022年: a bare number takes the unit of the one it pairs with."""
    for left, right in zip(reversed(cands[:-1]), reversed(cands[1:]), strict=True):
        if left.unit or left.kind == "date" or left.mult != 1 or not right.unit:
            continue
        if t[left.end : right.start] not in _RANGE_JOINERS or right.kind == "date":
            continue
        left.value *= right.mult
        left.unit, left.mult = right.unit, right.mult
        left.kind = right.kind if right.kind != "year" or 1900 <= left.value <= 2100 else "number"


# １，０００ / 3，000: a full-width comma before exactly three digits is a thousands
# separator (IME typing); splitting it would invent "000人" = 0.
_FW_THOUSANDS = re.compile(r"(?<=[0-9０-９])，(?=[0-9０-９]{3}(?![0-9０-９]))")


def _ascii_digits(text: str) -> str:
    """Full-width forms → ASCII and 繁體 → 简体 (萬 → 万, 畝 → 亩), length-preserving so
    offsets stay valid."""
    return to_simplified(_FW_THOUSANDS.sub(",", text).translate(_FULLWIDTH))


@lru_cache(maxsize=512)
def _extract(text: str) -> tuple[Figure, ...]:
    t = _ascii_digits(text)
    blocked = _blocked_spans(t)
    cands = [c for m in _FIGURE_RE.finditer(t) if (c := _candidate(t, m, blocked))]
    _share_units(t, cands)
    return tuple(
        Figure(text[c.start : c.end], c.start, c.end, float(c.value), c.unit, c.kind, c.approx) for c in cands
    )


def extract_figures(text: str) -> list[Figure]:
    """All figures in ``text``, in order of appearance."""
    return list(_extract(text))


# --- comparison ---------------------------------------------------------------------


def _units_compatible(a: str, b: str) -> bool:
    if a == b or not a or not b:  # a unitless number is checked on its value alone
        return True
    return any(a in group and b in group for group in _UNIT_GROUPS)


def same_figure(a: Figure, b: Figure) -> bool:
    """Same normalized value and compatible unit; ``approx`` never blocks a match.

    Dates match only dates of the same shape (月日/月/日). 次 ~ 场次 ~ 场 ~ 轮次 ~ 轮 and
    人 ~ 名 ~ 位 are compatible; 人次 and 车次 match only themselves.
    """
    if (a.kind == "date") != (b.kind == "date"):
        return False
    if a.kind == "date" and a.unit != b.unit:
        return False
    # Values come from Decimal arithmetic; the tolerance only absorbs float repr noise.
    close = math.isclose(a.value, b.value, rel_tol=1e-9, abs_tol=1e-9)
    return close and _units_compatible(a.unit, b.unit)


def find_figure(fig: Figure, text: str) -> tuple[int, int] | None:
    """Span in ``text`` of the first figure equal to ``fig`` (for a citation), or None."""
    for other in _extract(text):
        if same_figure(fig, other):
            return other.start, other.end
    return None


def unsupported_figures(sentence: str, sources: Sequence[str]) -> list[Figure]:
    """Figures of ``sentence`` (every kind) that occur in none of ``sources``."""
    return [f for f in _extract(sentence) if not any(find_figure(f, src) for src in sources)]


def redacted_figure_spans(text: str) -> list[tuple[int, int]]:
    """Spans of redaction marks standing for a figure: *万元, **次, X名, ****年 (**萬元 too)."""
    return [m.span() for m in _REDACTED_RE.finditer(to_simplified(text))]


def has_redacted_figure(text: str) -> bool:
    """True when a figure was redacted (callers must not present it, nor fill it in)."""
    return _REDACTED_RE.search(to_simplified(text)) is not None
