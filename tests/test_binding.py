"""Figure binding: a figure is right only where the source gives it for the same thing (code only).

The sentences here are written for these tests (not taken from the labeled sets); the set tests
run the binding over the tuning sets (``eval/judge/binding_dev.yaml``, the two retired held-out
sets) and the seed set and pin the accuracy reached, so a rule change cannot silently lose it.
"""

from __future__ import annotations

import pytest

from eval.calibrate import (
    BINDING_DEV,
    BINDING_HELDOUT,
    BINDING_HELDOUT2,
    BINDING_HELDOUT3,
    BINDING_HELDOUT4,
    BINDING_HELDOUT5,
    LABELED,
    binding_only,
)
from rag.grounding.binding import SourceText, bind_claim, bind_figures, worst_match
from rag.grounding.clauses import analyse
from rag.grounding.figures import extract_figures

SOURCE = (
    "今年全镇新建村级文化广场6个、农家书屋14个，组织文艺演出32场次，观众达1.2万人次。"
    "全镇发展新型农业经营主体45家，其中家庭农场28家、专业合作社17家。"
    "预计全年农民人均可支配收入增长8.5%。全年接待游客约20万人次，比上年增长15%。"
    "森林覆盖率达到62.3%，比上年提高1.2个百分点。全镇共有党员860名，其中女党员210名。"
    "组建党员志愿服务队9支，参与群众1300余人。在全镇设立便民服务点26个，全部资产不足800万元。"
)
SRC = [SourceText("镇长述职.txt", SOURCE)]


def match(claim: str, context: str = "") -> str:
    return worst_match(bind_claim(claim, SRC, context=context))


@pytest.mark.parametrize(
    "claim",
    [
        "全镇新建6个村级文化广场。",  # the noun after the figure
        "全镇新建14个农家书屋和6个文化广场。",
        "组织文艺演出32次，观众1.2万人次。",  # 场次 ~ 次
        "全镇有女党员210名。",
        "全镇860名党员中女党员有210名。",
        "预计全年农民人均可支配收入将增长8.5%。",
        "全年接待游客20万人次，同比增长15%。",  # 约 may be left out; 同比 = 比上年
        "森林覆盖率比上年提高了1.2个百分点。",  # the subject of the previous clause
        "新型农业经营主体发展到45家。",
        "全镇组建了9个党员志愿服务队。",  # 支 ~ 个 when the noun matches
        "志愿服务队吸引群众参与，多达1300余人。",
        "全镇的全部资产总共不到800万元。",  # 不足 = 不到
    ],
)
def test_faithful_claims_are_bound(claim: str) -> None:
    assert match(claim) == "bound", bind_claim(claim, SRC)


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("全镇新建村级文化广场14个。", "农家书屋"),  # moved to another item of the list
        ("新建农家书屋6个、村级文化广场14个。", "swap"),
        ("全镇有家庭农场45家。", "the total given to a part"),
        ("全镇发展专业合作社28家。", "a sibling's figure"),
        ("全镇女党员860名。", "the total for the part"),
        ("全年农民人均可支配收入增长8.5%。", "预计 dropped"),
        ("全年接待游客20余万人次。", "约 → 余"),
        ("游客人数比上年下降15%。", "增长 → 下降"),
        ("森林覆盖率提高62.3%。", "a level told as a change"),
        ("参与群众1300人。", "余 dropped"),
        ("全部资产超过800万元。", "不足 → 超过"),
    ],
)
def test_altered_claims_are_misbound(claim: str, why: str) -> None:
    assert match(claim) == "misbound", (why, bind_claim(claim, SRC))


LISTS = (
    "全年受理和办结信访件分别为120件和115件。全镇累计发展党员45名，今年发展12名。"
    "每千人拥有执业医师2.8人。集体访、越级访批次同比分别下降40%和35%。"
)


@pytest.mark.parametrize(
    ("claim", "want"),
    [
        ("全年受理信访件120件。", "bound"),  # 分别: the n-th subject is the n-th figure's
        ("办结信访件115件。", "bound"),
        ("全年办结信访件120件。", "misbound"),
        ("集体访批次下降40%。", "bound"),
        ("越级访批次同比下降40%。", "misbound"),
        ("累计发展党员45名。", "bound"),
        ("今年新发展党员12名。", "bound"),
        ("今年发展党员45名。", "misbound"),  # 累计 told as one year's
        ("每千人执业医师2.8人。", "bound"),
        ("每万人拥有执业医师2.8人。", "misbound"),  # per thousand is not per ten thousand
    ],
)
def test_respectively_periods_and_rates(claim: str, want: str) -> None:
    assert worst_match(bind_claim(claim, [SourceText("s", LISTS)])) == want


def test_a_figure_found_nowhere_is_absent() -> None:
    (b,) = bind_claim("全镇新建农家书屋15个。", SRC)
    assert b.match == "absent" and b.source_clause == "" and b.reason


def test_binding_names_the_source_clause_with_offsets() -> None:
    (b,) = bind_claim("全镇新建村级文化广场14个。", SRC)
    assert b.match == "misbound" and "农家书屋14个" in b.source_clause and b.reason
    # the source clause shown is where the claim's subject stands, with the figure it has there
    assert SOURCE[b.start : b.end] == b.source_clause and SOURCE[b.figure_start : b.figure_end] == "6个"
    assert b.claim_clause == "全镇新建村级文化广场14个" and b.figure == "14个"
    assert set(b.to_json()) >= {"figure", "claim_clause", "source_clause", "source", "start", "end", "match"}
    (ok,) = bind_claim("农家书屋有14个。", [SourceText("s", SOURCE, offset=100, index=3)])
    assert ok.ok and ok.index == 3 and ok.figure_start - 100 == SOURCE.index("14个")
    assert ok.note().startswith("原文：")


def test_a_ratio_shows_its_subject_clause() -> None:
    (b,) = bind_claim("森林覆盖率比上年提高了1.2个百分点。", SRC)
    assert b.source_clause == "森林覆盖率达到62.3%，比上年提高1.2个百分点"


def test_a_short_answer_is_read_with_its_question() -> None:
    assert match("14个", context="全镇建了几个农家书屋？") == "bound"
    assert match("6个。", context="全镇建了几个农家书屋？") == "misbound"
    assert match("210名", context="女党员有多少名？") == "bound"
    assert match("860名", context="女党员有多少名？") == "misbound"
    # two questions, two figures, in order
    assert match("6个，14个。", context="新建了几个文化广场、几个农家书屋？") == "bound"
    assert match("14个，6个。", context="新建了几个文化广场、几个农家书屋？") == "misbound"
    (b,) = bind_claim("14个", SRC, context="全镇建了几个农家书屋？")
    assert b.claim_clause == "全镇建了14个农家书屋"  # the answer as read


def test_years_and_dates_match_anywhere() -> None:
    src = [SourceText("s", "2023年3月完成道路硬化5公里。")]
    assert [b.match for b in bind_claim("2023年完成道路硬化5公里。", src)] == ["bound", "bound"]
    assert [b.match for b in bind_claim("2022年完成道路硬化5公里。", src)] == ["absent", "bound"]


def test_percentage_words_are_figures() -> None:
    figs = {
        f.raw: (f.value, f.unit, f.approx)
        for f in extract_figures("约占三成，近六成，六成以上，过半，翻一番")
    }
    assert figs == {
        "三成": (30.0, "%", False),
        "近六成": (60.0, "%", True),
        "六成以上": (60.0, "%", True),
        "过半": (50.0, "%", True),
        "翻一番": (2.0, "倍", False),
    }
    assert extract_figures("三五成群，一成不变，两委班子成员") == []
    src = [SourceText("s", "全村耕地中流转的占了近四成。")]
    assert match_in("全村流转的耕地接近40%。", src) == "bound"
    assert match_in("全村流转的耕地约占两成。", src) == "absent"
    assert match_in("全村流转的耕地超过四成。", src) == "misbound"


def match_in(claim: str, src: list[SourceText]) -> str:
    return worst_match(bind_claim(claim, src))


def test_clause_analysis_reads_qualifiers() -> None:
    occ = {o.fig.raw: o for o in analyse("预计全年收入达到17800元，同比增长7.2%；比全县平均水平高11.3%。")}
    assert occ["17800元"].plan and occ["7.2%"].plan and not occ["11.3%"].plan
    assert (occ["7.2%"].change, occ["7.2%"].trend, occ["7.2%"].base) == ("by", "up", "上年")
    assert occ["7.2%"].inherited and "收入" in occ["7.2%"].inherited  # 同比增长 names nothing itself
    assert occ["11.3%"].base == "全县"
    directions = {
        o.fig.raw: o.direction for o in analyse("不足三成，260余人次，近3200人，约1800万元，低于85%。")
    }
    assert directions == {
        "不足三成": "upper",
        "260余人次": "lower",
        "近3200人": "upper",
        "约1800万元": "about",
        "85%": "upper",
    }


def test_bind_figures_pairs_each_figure_with_its_binding() -> None:
    pairs = bind_figures("新建农家书屋14个、村级文化广场6个。", SRC)
    assert [(f.raw, b.match) for f, b in pairs] == [("14个", "bound"), ("6个", "bound")]


# --- the labeled sets (code only; `rag eval judge` adds the judge) ---------------------------


def test_binding_accuracy_on_the_tuning_set_does_not_regress() -> None:
    result = binding_only(BINDING_DEV)
    assert result["n"] == 189
    # Reached when the rules were tuned: 189/189 (the 化解/成功调解 verb cases are now the code's).
    assert result["accuracy"] >= 0.994, {k: v for k, v in result.items() if k != "items"}
    assert result["false_reject_rate"] == 0.0
    assert result["false_accept_rate"] <= 0.01


def test_binding_accuracy_on_the_retired_held_out_set_does_not_regress() -> None:
    # The first held-out set, studied and tuned on since (a fresh blind set replaces it): 86/86.
    result = binding_only(BINDING_HELDOUT)
    assert result["n"] == 86
    assert result["accuracy"] >= 0.988, {k: v for k, v in result.items() if k != "items"}
    assert result["false_accept_rate"] == 0.0


def test_binding_accuracy_on_the_second_retired_held_out_set_does_not_regress() -> None:
    # The second held-out set, measured blind once (binding alone 0.890: 13/57 faithful claims
    # flagged, 3/89 altered ones passed), studied and tuned on since: 146/146.
    result = binding_only(BINDING_HELDOUT2)
    assert result["n"] == 146
    assert result["accuracy"] >= 0.993, {k: v for k, v in result.items() if k != "items"}
    assert result["false_accept_rate"] <= 0.012


def test_binding_accuracy_on_the_third_retired_held_out_set_does_not_regress() -> None:
    # The third held-out set, measured blind once (binding alone 0.920: 6/64 faithful claims
    # flagged, 7/99 altered ones passed), studied and tuned on since: 161/163 (p077, a 推动 target
    # stated as done, and p129, a noun borrowed from a figure two sentences off, still pass).
    result = binding_only(BINDING_HELDOUT3)
    assert result["n"] == 163
    assert result["accuracy"] >= 0.987, {k: v for k, v in result.items() if k != "items"}
    assert result["false_reject_rate"] == 0.0
    assert result["false_accept_rate"] <= 0.021


def test_binding_accuracy_on_the_fourth_retired_held_out_set_does_not_regress() -> None:
    # The fourth held-out set, measured blind once (binding alone 0.881: 12/70 faithful claims
    # flagged, 10/115 altered ones passed), studied and tuned on since: 175/185. Left: claims
    # that state a figure the source does not (a computed sum, a count of listed kinds), a part
    # stated as a share of a figure named elsewhere, discourse-level misattributions.
    result = binding_only(BINDING_HELDOUT4)
    assert result["n"] == 185
    assert result["accuracy"] >= 0.945, {k: v for k, v in result.items() if k != "items"}
    assert result["false_accept_rate"] <= 0.044
    assert result["false_reject_rate"] <= 0.072


def test_binding_accuracy_on_the_fifth_retired_held_out_set_does_not_regress() -> None:
    # The fifth held-out set, measured blind once (binding alone 0.889: 14/78 faithful claims
    # flagged, 7/111 altered ones passed), studied and tuned on since: 180/189. Left: a modifier
    # far from the figure telling two subjects apart (居民 vs 职工医保统筹基金支出), a rate's verb
    # shared by two rates of one clause, parts named only by what the total's verb did to them.
    result = binding_only(BINDING_HELDOUT5)
    assert result["n"] == 189
    assert result["accuracy"] >= 0.952, {k: v for k, v in result.items() if k != "items"}
    assert result["false_accept_rate"] <= 0.037
    assert result["false_reject_rate"] <= 0.065


def test_binding_keeps_every_supported_seed_claim_and_rejects_every_changed_figure() -> None:
    kinds = binding_only(LABELED)["by_kind"]
    assert kinds["supported"]["accuracy"] == 1.0  # no faithful seed claim is lost by the binding
    assert kinds["number"]["accuracy"] == 1.0


def test_measure_words_of_groups_and_people_are_interchangeable_only() -> None:
    src = [SourceText("s", "全年查处违法建房68起，拆除违章建筑3栋。组建巡逻队12支，吸纳队员86名。")]
    assert match_in("组建了12个巡逻队。", src) == "bound"  # 个 stands for any measure word
    assert match_in("巡逻队吸纳了86位队员。", src) == "bound"  # 名 ~ 位 ~ 人
    assert match_in("违法建房查处了68个。", src) == "bound"
    assert match_in("全年拆除违法建房68栋。", src) == "absent"  # 68 cases are no 68 buildings
    assert match_in("组建了12个违章建筑。", src) == "absent"  # 个 matches only with the noun


# --- kinds found on the retired held-out set (sentences written here, not taken from the sets) ---


def test_a_change_told_as_a_noun_is_the_same_change() -> None:
    src = [SourceText("s", "全年完成农业总产值2.4亿元，比上年增长6.8%。")]
    assert match_in("农业总产值达到2.4亿元，增幅为6.8%。", src) == "bound"
    assert match_in("农业总产值2.4亿元，同比增速达6.8%。", src) == "bound"
    assert match_in("农业总产值2.4亿元，降幅为6.8%。", src) == "misbound"  # the direction reversed
    (occ,) = [o for o in analyse("农业总产值增幅为6.8%。")]
    assert (occ.change, occ.trend) == ("by", "up")


def test_respectively_without_a_shared_noun() -> None:
    src = [SourceText("s", "全镇新增经营主体520户，其中公司86户、个体工商户410户、家庭农场24户。")]
    three = "新增的520户经营主体里，公司、个体工商户和家庭农场分别有{}户、{}户和{}户。"
    assert match_in(three.format(86, 410, 24), src) == "bound"
    assert match_in(three.format(410, 86, 24), src) == "misbound"
    # two items: 公司和个体工商户 could share 工商户 (as 受理和办结信访件 shares 信访件); the reading
    # without it binds
    assert match_in("公司和个体工商户分别有86户和410户。", src) == "bound"
    assert match_in("公司和个体工商户分别有410户和86户。", src) == "misbound"


def test_respectively_with_one_letter_items() -> None:
    src = [SourceText("s", "对全镇56家养殖场实行分级管理，其中甲级12家、乙级30家、丙级14家。")]
    claim = "全镇56家养殖场中甲、乙、丙级分别为{}家、{}家和{}家。"
    assert match_in(claim.format(12, 30, 14), src) == "bound"
    assert match_in(claim.format(30, 12, 14), src) == "misbound"


def test_the_whole_of_a_ratio_must_match() -> None:
    src = [SourceText("s", "全年受理投诉举报580件，其中消费投诉243件，占受理总数的41.9%。")]
    assert match_in("消费投诉243件，占受理总数的41.9%。", src) == "bound"
    assert match_in("消费投诉243件，占全部受理投诉总数的41.9%。", src) == "bound"  # adds only
    assert match_in("消费投诉243件，占办结总数的41.9%。", src) == "misbound"
    assert analyse("占办结总数的41.9%")[0].share == "办结总数"


def test_few_and_many_are_opposite_weighings() -> None:
    src = [SourceText("s", "村里外出务工的青壮年多达260人，留守的只有90人。")]
    assert match_in("村里外出务工的青壮年有260人。", src) == "bound"  # 多达 may be left out
    assert match_in("外出务工的青壮年高达260人。", src) == "bound"
    assert match_in("村里外出务工的青壮年仅有260人。", src) == "misbound"
    assert match_in("留守的多达90人。", src) == "misbound"


def test_a_qualifying_figure_of_another_kind_keeps_its_noun() -> None:
    # 60岁以上 qualifies 三成 in the source, not 380人
    src = [SourceText("s", "全村劳动力640人，其中外出务工的380人，60岁以上的占三成。")]
    assert match_in("全村外出务工的劳动力有380人。", src) == "bound"
    assert match_in("全村60岁以上的劳动力有380人。", src) == "misbound"


def test_a_verb_of_a_sibling_figure_is_not_taken() -> None:
    src = [SourceText("s", "全年调解矛盾纠纷152起，调解成功147起，调解成功率96.7%。")]
    assert match_in("全年调解矛盾纠纷152起。", src) == "bound"
    assert match_in("全年调解矛盾纠纷152起，其中调解成功147起。", src) == "bound"
    assert match_in("全年成功调解矛盾纠纷152起。", src) == "misbound"
    # the sibling's words as the claim's topic, far from its figure, take nothing
    src = [SourceText("s", "新建村级应急物资仓库2座，储备棉被、雨衣、水泵等物资3200件。")]
    assert match_in("新建的村级应急物资仓库储备了棉被、雨衣、水泵等物资3200件。", src) == "bound"


def test_a_year_dates_a_figure_to_that_year() -> None:
    src = [SourceText("s", "截至2023年底，全镇累计建成村级光伏电站23座。全年累计接待游客20万人次。")]
    assert match_in("截至2023年底，全镇累计建成村级光伏电站23座。", src) == "bound"
    assert match_in("2023年全镇新建村级光伏电站23座。", src) == "misbound"  # 累计 told as one year's
    assert match_in("今年接待游客20万人次。", src) == "bound"  # 全年累计 sums one year
    assert analyse("2023年新建电站23座。")[0].period == "year"
    assert analyse("到2023年建成电站23座。")[0].period == ""


def test_a_rate_belongs_to_the_figure_it_follows() -> None:
    src = [
        SourceText(
            "s",
            "全县城镇职工医保参保人数12.6万人，参保率95.1%；城乡居民医保参保人数41.2万人，参保率98.3%。"
            "新建养老服务中心3个。入住率达到72%。",
        )
    ]
    assert match_in("城乡居民医保参保人数41.2万人，参保率98.3%。", src) == "bound"
    (_, rate) = bind_claim("城乡居民医保参保人数41.2万人，参保率95.1%。", src)
    assert rate.match == "misbound" and "12.6万人" in rate.reason and "参保率95.1%" in rate.source_clause
    # the source gives the rate in a sentence of its own: nothing to contradict
    assert match_in("新建养老服务中心3个，入住率72%。", src) == "bound"
