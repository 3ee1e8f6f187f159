"""Figure extraction and matching: exactness is the point (an altered figure is the worst bug)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from rag.grounding.figures import (
    Figure,
    extract_figures,
    find_figure,
    has_redacted_figure,
    normalize_number,
    redacted_figure_spans,
    same_figure,
    unsupported_figures,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def one(text: str) -> Figure:
    figs = extract_figures(text)
    assert len(figs) == 1, (text, figs)
    return figs[0]


def matches(a: str, b: str) -> bool:
    return same_figure(one(a), one(b))


# --- extraction: the brief's examples ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit", "kind", "approx"),
    [
        ("179.25万元", 1792500.0, "元", "number", False),
        ("5.27万亩", 52700.0, "亩", "number", False),
        ("1.2亿", 120000000.0, "", "number", False),
        ("71.06％", 71.06, "%", "percent", False),
        ("71.06%", 71.06, "%", "percent", False),
        ("800平米", 800.0, "平方米", "number", False),
        ("800㎡", 800.0, "平方米", "number", False),
        ("26场次", 26.0, "场次", "number", False),
        ("250余次", 250.0, "次", "number", True),
        ("2000余米", 2000.0, "米", "number", True),
        ("95%以上", 95.0, "%", "percent", True),
        ("近百", 100.0, "", "number", True),
        ("三轮次", 3.0, "轮次", "number", False),
        ("两个", 2.0, "个", "number", False),
        ("十二名", 12.0, "名", "number", False),
        ("一百二十户", 120.0, "户", "number", False),
        ("两千余米", 2000.0, "米", "number", True),
        ("三千万元", 30000000.0, "元", "number", False),
        ("百分之八十", 80.0, "%", "percent", False),
        ("2022年", 2022.0, "年", "year", False),
        ("2022年度", 2022.0, "年", "year", False),
        ("二〇二二年", 2022.0, "年", "year", False),
        ("3月15日", 315.0, "月日", "date", False),
        ("10月", 10.0, "月", "date", False),
        ("每月20日", 20.0, "日", "date", False),
        ("1,000元", 1000.0, "元", "number", False),
        ("１，０００元", 1000.0, "元", "number", False),
        ("１２．５万元", 125000.0, "元", "number", False),
        ("40余万元", 400000.0, "元", "number", True),
        ("26.10元／公斤", 26.1, "元/公斤", "number", False),
        ("3.6km", 3.6, "公里", "number", False),
        ("420余人次", 420.0, "人次", "number", True),
        ("提高3.5个百分点", 3.5, "百分点", "percent", False),
        ("三个多月", 3.0, "个月", "number", True),
        ("约3万元", 30000.0, "元", "number", True),
    ],
)
def test_extracts_and_normalizes(text: str, value: float, unit: str, kind: str, approx: bool) -> None:
    fig = one(text)
    assert (fig.value, fig.unit, fig.kind, fig.approx) == (value, unit, kind, approx)


def test_raw_and_offsets_point_into_the_input() -> None:
    text = "全镇村集体经济总收入达179.25万元，目前在库94人。"
    figs = extract_figures(text)
    assert [f.raw for f in figs] == ["179.25万元", "94人"]
    assert all(text[f.start : f.end] == f.raw for f in figs)


def test_approx_markers_stay_in_raw() -> None:
    assert one("收缴各类处罚金40余万元").raw == "40余万元"
    assert one("受教育面达95%以上").raw == "95%以上"
    assert one("节约3万元").raw == "3万元"  # 节约 is "saved", not 约 "about"
    assert not one("节约3万元").approx


def test_ranges_and_lists_share_the_unit() -> None:
    assert [(f.value, f.unit) for f in extract_figures("整理7、8号沟")] == [(7.0, "号"), (8.0, "号")]
    assert [(f.value, f.unit) for f in extract_figures("3-5万元")] == [(30000.0, "元"), (50000.0, "元")]
    assert [f.kind for f in extract_figures("2021－2022年耕地")] == ["year", "year"]


def test_bare_four_digit_year_is_a_year_without_unit() -> None:
    fig = one("现就本人2022履行抓党建工作职责")
    assert (fig.kind, fig.unit, fig.value) == ("year", "", 2022.0)
    assert same_figure(fig, one("2022年"))


# --- extraction: what is *not* a figure ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "一是加强学习",
        "二是抓学习强思想，三是坚持全面从严治党",
        "（一）学思践悟",
        "一、履职情况",
        "1.坚守政治担当",
        "任制落实。\n2.对标攻坚提质",
        "1.1抓好安全生产",
        "（1）加强学习",
        "篇1：乡长",
        "第一责任人",
        "第一时间组织干部群众学习",
        "全国第五次经济普查",
        "全省第三期宅基地管理工作培训会",
        "增强“四个意识”、坚定“四个自信”、坚决做到“两个维护”",
        "带头深刻把握两个确立的决定性意义，做到两个维护",
        "三会一课",
        "一岗双责",
        "五聚焦五落实",
        "四抓两整治",
        "一把手",
        "一起赶场学党史",
        "党员干部在一线",
        "与两委班子成员一道",
        "一体化发展",
        "统一思想",
        "进一步加强",
        "存在一些不足",
        "一批消防物资",
        "一年来",
        "把廉政建设作为一项硬任务",
        "构建五位一体防控模式",
        "中央八项规定",
        '认真落实党建工作"三个责任"',
        "用四个“好”牢牢守住四条“线”",
        "“三项奋进之笔”",
        "“十乡百村千家万户”创建行动",
        "万名党员进党校",
        "党的二十大精神和十九届历次全会精神",
        "党的百年奋斗",
        "坚持“四三三一”工作法",
        "建成**村二期暨**文化园",
        "二次创业",
        "三番五次",
        "党建业务两张皮",
        "三四个村",
        "5G网络",
        "G20峰会",
        "比去年增收*万元，共创收了*万余元",
        "**多车次**万人",
    ],
)
def test_no_figure(text: str) -> None:
    assert extract_figures(text) == []


# --- matching ----------------------------------------------------------------------


def test_brief_matching_examples() -> None:
    assert matches("179.25万元", "1792500元")
    assert matches("179.25万元", "179.25万元")
    assert not matches("179.25万元", "279万元")
    assert not matches("179.25万元", "179.2万元")
    assert matches("800平米", "800平方米")
    assert matches("71.06％", "71.06%")
    assert matches("三轮次", "3轮次")
    assert matches("250余次", "250次")  # approx does not block
    assert matches("两个", "2个")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("26场次", "26次", True),  # 场次/次/场/轮次/轮: same kind of count
        ("2轮次", "2次", True),
        ("23名", "23人", True),  # 人/名/位: people
        ("420余人次", "420人", False),  # person-times are not people
        ("420余人次", "420次", False),
        ("3个", "3项", False),
        ("4223万", "4223万元", True),  # a unitless figure is checked on its value
        ("4223万", "4223元", False),
        ("71.06", "71.06％", True),
        ("3.6km", "3.6公里", True),
        ("5.27万亩", "52700亩", True),
        ("5.27万亩", "5.27万吨", False),
        ("3月15日", "3月15日", True),
        ("3月15日", "3月16日", False),
        ("3月", "3月15日", False),  # dates match only dates of the same shape
        ("10月", "10", False),
        ("2022年", "2022年度", True),
        ("二〇二二年", "2022年", True),
        ("百分之八十", "80%", True),
        ("0.1%", "0.10%", True),
    ],
)
def test_same_figure(a: str, b: str, expected: bool) -> None:
    assert matches(a, b) is expected
    assert matches(b, a) is expected  # symmetric


def test_find_figure_returns_the_span_to_cite() -> None:
    source = "全镇村集体经济总收入达179.25万元，产业呈现你追我赶的新局面。"
    span = find_figure(one("1792500元"), source)
    assert span is not None
    assert source[span[0] : span[1]] == "179.25万元"
    assert find_figure(one("179.2万元"), source) is None


def test_unsupported_figures() -> None:
    sources = ["化眉村完成800平米茶叶加工厂建设。全镇村集体经济总收入达179.25万元。", "召开党委会议26场次。"]
    sentence = "建成800平方米茶叶加工厂，集体经济收入179.2万元，召开党委会议26次，新增3家企业。"
    assert [f.raw for f in unsupported_figures(sentence, sources)] == ["179.2万元", "3家"]
    assert unsupported_figures("集体经济总收入达1792500元", sources) == []
    assert unsupported_figures("一是加强学习，做到两个维护", []) == []


# --- normalize_number ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,000", 1000.0),
        ("１，０００", 1000.0),
        ("３．５", 3.5),
        ("179.25万", 1792500.0),
        ("1.2亿", 120000000.0),
        ("3千万", 30000000.0),
        ("十二", 12.0),
        ("一百二十", 120.0),
        ("一百零五", 105.0),
        ("一千零五十", 1050.0),
        ("两千", 2000.0),
        ("三千万", 30000000.0),
        ("两万五", 25000.0),
        ("三百五", 350.0),
        ("一亿二千万", 120000000.0),
        ("三点五亿", 350000000.0),
        ("二〇二二", 2022.0),
        ("百", 100.0),
    ],
)
def test_normalize_number(raw: str, value: float) -> None:
    assert normalize_number(raw) == value


@pytest.mark.parametrize("raw", ["", "abc", "12元", "约3", "三四五x"])
def test_normalize_number_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_number(raw)


# --- property-style checks -------------------------------------------------------------

_CN = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Reference int → Chinese numeral (n < 10^8), written independently of the module."""

    def below_10000(x: int) -> str:
        out, pending_zero = "", False
        for unit, place in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
            digit = x // place % 10
            if digit:
                out += ("零" if pending_zero else "") + _CN[digit] + unit
                pending_zero = False
            elif out:
                pending_zero = True
        return out

    high, low = divmod(n, 10000)
    text = below_10000(high) + "万" if high else ""
    if low:
        text += ("零" if high and low < 1000 else "") + below_10000(low)
    return text


def test_chinese_numerals_round_trip() -> None:
    rng = random.Random(20240601)
    for n in [*range(1, 200), *(rng.randrange(1, 10**8) for _ in range(500))]:
        assert normalize_number(to_chinese(n)) == n, to_chinese(n)


def test_chinese_numerals_with_units_round_trip() -> None:
    rng = random.Random(7)
    for n in (rng.randrange(3, 10**6) for _ in range(200)):
        fig = one(f"共{to_chinese(n)}名")
        assert (fig.value, fig.unit) == (n, "名")


_UNITS = {"元": "元", "次": "次", "名": "名", "户": "户", "亩": "亩", "平米": "平方米", "个": "个"}


def test_arabic_with_units_round_trip() -> None:
    rng = random.Random(11)
    for _ in range(300):
        n = rng.randrange(1, 10**6)
        raw_unit, unit = rng.choice(sorted(_UNITS.items()))
        assert (one(f"共{n}万{raw_unit}").value, one(f"共{n}万{raw_unit}").unit) == (n * 10000, unit)
        fig = one(f"共{n}{raw_unit}。")
        assert (fig.value, fig.unit, fig.raw) == (n, unit, f"{n}{raw_unit}")
        full_width = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert same_figure(one(f"共{full_width}{raw_unit}"), fig)


def test_wan_yuan_equals_yuan_exactly() -> None:
    rng = random.Random(3)
    for _ in range(300):
        cents = rng.randrange(1, 10**8)  # 0.0001万 .. 9999.9999万
        wan = f"{cents // 10**4}.{cents % 10**4:04d}万元"
        yuan = f"{cents}元"
        assert matches(wan, yuan), (wan, yuan)
        assert not matches(wan, f"{cents + 1}元")


def test_thousands_separators() -> None:
    rng = random.Random(5)
    for n in (rng.randrange(1000, 10**9) for _ in range(100)):
        assert one(f"共{n:,}人").value == n


# --- redaction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["比去年增收*万元", "共**次", "X名", "光荣在党**年", "****年以来", "**多车次**万人", "分**批"]
)
def test_redacted_figure(text: str) -> None:
    assert has_redacted_figure(text)
    assert extract_figures(text) == []


@pytest.mark.parametrize(
    "text", ["X村“党建＋人居环境”", "**党建", "**人民政府", "组织X支部", "QQ、微信工作群", "179.25万元"]
)
def test_not_a_redacted_figure(text: str) -> None:
    assert not has_redacted_figure(text)


def test_redacted_spans() -> None:
    text = "比去年增收*万元，共创收了*万余元"
    assert [text[s:e] for s, e in redacted_figure_spans(text)] == ["*万元", "*万余元"]


# --- the seeds -------------------------------------------------------------------------


def is_enumeration(text: str, f: Figure) -> bool:
    """1. / 1、 / （1） / 一是 / 第一: markers and ordinals, never figures."""
    before, after = text[f.start - 1 : f.start], text[f.end : f.end + 2]
    if f.unit == "" and re.match(r"[.．、][^0-9０-９]", after):
        return True
    if f.unit == "" and before in ("（", "(") and after[:1] in ("）", ")"):
        return True
    return before == "第" or re.match(r"[一二三四五六七八九十]+[是、]", f.raw) is not None


KNOWN = {
    "000": [("2000余米", 2000.0, "米"), ("5.3亩", 5.3, "亩"), ("23名", 23.0, "名"), ("20条", 20.0, "条")],
    "001": [("2022年度", 2022.0, "年"), ("26场次", 26.0, "场次"), ("三轮次", 3.0, "轮次")],
    "002": [("800平米", 800.0, "平方米"), ("179.25万元", 1792500.0, "元"), ("250余次", 250.0, "次")],
    "003": [("5.27万亩", 52700.0, "亩"), ("71.06％", 71.06, "%"), ("4223万", 42230000.0, "")],
    "004": [],
}


def _seeds() -> dict[str, str]:
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def test_seed_figures() -> None:
    seeds = _seeds()
    assert set(KNOWN) <= set(seeds)
    for key, text in seeds.items():
        figs = extract_figures(text)
        found = {(f.raw, f.value, f.unit) for f in figs}
        for known in KNOWN.get(key, []):
            assert known in found, (key, known)
        for f in figs:
            assert text[f.start : f.end] == f.raw
            assert not is_enumeration(text, f), (key, f)
            assert f.raw[0] not in "一第", (key, f)
        assert [f.start for f in figs] == sorted(f.start for f in figs)


def test_seed_004_is_all_redacted() -> None:
    text = _seeds()["004"]
    assert extract_figures(text) == []
    assert has_redacted_figure(text)


def test_seed_slogans_are_not_figures() -> None:
    for text in _seeds().values():
        for f in extract_figures(text):
            around = text[max(0, f.start - 1) : f.end + 2]
            assert not re.search("两个维护|两个确立|四个意识|四个自信|三会一课|八项规定|五位一体", around), f
