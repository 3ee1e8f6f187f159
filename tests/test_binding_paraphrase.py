"""Faithful paraphrases the binding must keep, each beside altered claims of the same shape it must
still catch (code only, no model). The kinds were found on the second held-out set
(``eval/judge/binding_heldout2.yaml``, retired since); the sentences here are written for these
tests, not taken from any labeled set.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.documents.load import load_document
from rag.grounding.binding import SourceText, bind_claim, worst_match
from rag.grounding.binding_rules import match_value
from rag.grounding.binding_words import measure_word_families, person_nouns
from rag.grounding.clauses import analyse
from rag.grounding.figures import extract_figures


def match_in(claim: str, text: str) -> str:
    return worst_match(bind_claim(claim, [SourceText("s", text)]))


def check(text: str, faithful: list[str], altered: list[tuple[str, str]]) -> None:
    for claim in faithful:
        assert match_in(claim, text) == "bound", (claim, bind_claim(claim, [SourceText("s", text)]))
    for claim, want in altered:
        assert match_in(claim, text) == want, (claim, bind_claim(claim, [SourceText("s", text)]))


def test_a_multiple_stated_as_a_change_is_the_same_multiple() -> None:
    text = "全镇新建蔬菜大棚120个，比上年翻了一番；改造农村公路18公里，比上年多了一倍。"
    check(
        text,
        [
            "全镇新建蔬菜大棚120个，是上一年的两倍。",
            "农村公路改造了18公里，是前一年的两倍。",  # 多了一倍 = 两倍
            "改造农村公路18公里，比上年翻了一番。",
            "蔬菜大棚新建120个，比上年增加了一倍。",  # 翻一番 = 增加一倍
        ],
        [
            ("全镇新建蔬菜大棚120个，是上一年的三倍。", "absent"),
            ("改造农村公路18公里，比上年增长了两倍。", "misbound"),  # 增长两倍 = 三倍
        ],
    )
    one = "全镇新建蔬菜大棚120个，比上年多了一倍；改造农村公路18公里。"
    assert match_in("改造农村公路18公里，是上一年的两倍。", one) == "misbound"  # another subject's
    assert [f.raw for f in extract_figures("比上年多了一倍")] == ["一倍"]


SHARES = (
    "全年教育支出3.2亿元，其中人员经费2.4亿元，占支出总额的74.6%。"
    "全镇耕地面积4.2万亩，其中高标准农田占比达到53.8%，旱地占比21.3%。"
)


def test_a_share_word_may_round_a_precise_percentage_on_its_side() -> None:
    check(
        SHARES,
        [
            "人员经费2.4亿元，约占四分之三。",
            "全镇耕地中，高标准农田超过一半，占53.8%。",
            "高标准农田占比过半。",
        ],
        [
            ("高标准农田不到一半。", "absent"),  # 不到 is the other side of 50 %
            ("高标准农田超过六成。", "absent"),
            ("人员经费2.4亿元，约占三分之二。", "absent"),  # 66.7 % is too far from 74.6 %
            ("全镇耕地中旱地超过一半。", "absent"),  # 53.8 % is 高标准农田's, not 旱地's
        ],
    )


def test_rounding_applies_to_share_words_only() -> None:
    claim, src = analyse("高标准农田占54%。")[0], analyse("高标准农田占比达到53.8%。")[0]
    assert match_value(claim, src) == ""  # a precise figure must be the source's
    word = analyse("高标准农田占比过半。")[0]
    assert match_value(word, src) == "rounded"
    assert [(f.value, f.unit) for f in extract_figures("约占四分之三")] == [(75.0, "%")]


def test_the_whole_of_a_share_named_with_zai_zhong() -> None:
    text = "全年一般公共预算支出18.6亿元，同比增长4.1%。民生支出15.2亿元，占比81.7%。"
    check(
        text,
        ["民生支出15.2亿元，在一般公共预算支出中超过八成。"],
        [
            ("民生支出15.2亿元，在政府性基金支出中超过八成。", "misbound"),  # a whole the source lacks
            ("一般公共预算支出18.6亿元，超过八成。", "absent"),  # rounds nothing of its own
            ("民生支出15.2亿元，在一般公共预算支出中超过九成。", "absent"),
        ],
    )
    assert analyse("在一般公共预算支出中超过八成")[0].share == "一般公共预算支出"


def test_an_earlier_level_is_the_start_of_a_change() -> None:
    text = "全年平均办件时长由5.2天缩短到2.8天，群众满意率98.6%。"
    check(
        text,
        ["平均办件时长降到了2.8天，之前是5.2天。", "平均办件时长缩短到2.8天，此前为5.2天。"],
        [
            ("平均办件时长为5.2天。", "misbound"),  # the start given as the level
            ("平均办件时长降到了5.2天，之前是2.8天。", "misbound"),  # swapped
        ],
    )


def test_higher_than_a_base_is_a_difference() -> None:
    text = "规上工业增加值同比增长8.1%，高于全省平均1.6个百分点。"
    check(
        text,
        [
            "规上工业增加值增速8.1%，比全省平均快1.6个百分点。",
            "规上工业增加值同比增长8.1%，比全省平均高1.6个百分点。",
            "规上工业增加值增长8.1%，跑赢全省平均1.6个百分点。",
        ],
        [
            ("规上工业增加值增速8.1%，比全省平均慢1.6个百分点。", "misbound"),
            ("规上工业增加值同比增长8.1%，低于全省平均1.6个百分点。", "misbound"),
            ("规上工业增加值增速8.1%，比全国平均快1.6个百分点。", "misbound"),  # another base
        ],
    )


def test_more_than_last_year_is_a_difference() -> None:
    text = "村集体经济收入达到52.3万元，比上年增加6.8万元。争取上级补助资金1.9亿元，比上年多争取3200万元。"
    check(
        text,
        [
            "村集体经济收入52.3万元，较上年多了6.8万元。",
            "上级补助资金争取到1.9亿元，比上年多了3200万元。",  # 争取到 + an amount is a result
        ],
        [
            ("村集体经济收入6.8万元。", "misbound"),  # the difference given as the level
            ("村集体经济收入52.3万元，较上年少了6.8万元。", "misbound"),
            ("上级补助资金比上年多争取1.9亿元。", "misbound"),  # the level given as the difference
        ],
    )
    assert analyse("力争到2025年建成示范村12个")[0].plan  # 争取/力争 + a year stays a target
    assert analyse("争取到2025年建成示范村12个")[0].plan


def test_plan_as_the_name_of_a_programme() -> None:
    text = "为8600名农村学生提供营养改善计划，补助标准每生每天5元。"
    check(
        text,
        ["营养改善计划覆盖8600名农村学生，补助标准为每生每天5元。"],
        [
            ("今年计划为8600名农村学生提供营养餐。", "misbound"),  # 计划 as a target
            ("营养改善计划覆盖8600名农村学生，补助标准为每生每天8元。", "absent"),
        ],
    )
    other = "为8600名农村学生提供营养餐。"  # the source names no 营养改善计划: 计划 stays a plan
    assert match_in("营养改善计划覆盖8600名农村学生。", other) == "misbound"


def test_the_noun_of_a_share_word_before_the_next_figure() -> None:
    text = "全县小规模学校多达48所，在校生不足50人的占其中的六成。"
    check(
        text,
        ["48所小规模学校里，六成学校的在校生不到50人。"],
        [
            ("48所小规模学校里，六成学校的在校生不到80人。", "absent"),
            ("48所小规模学校里，六成学校的在校生超过50人。", "misbound"),
            ("48所小规模学校里，四成学校的在校生不到50人。", "absent"),
        ],
    )
    six = next(o for o in analyse(text) if o.fig.raw == "六成")
    assert six.direction == "exact"  # 不足 qualifies 50人, not 六成


def test_a_total_named_with_zong() -> None:
    text = "全镇18个村的集体经济收入全部超过5万元，总收入达到426万元，同比增长12.4%。"
    check(
        text,
        ["18个村的集体经济收入加起来有426万元，比上年增长了12.4%。", "全镇村集体经济收入总共426万元。"],
        [
            ("18个村的集体经济收入加起来有5万元。", "misbound"),  # 超过5万元 is a bound for each
            ("18个村的集体经济收入加起来有462万元。", "absent"),
            ("18个村的集体经济收入都超过426万元。", "misbound"),
        ],
    )


def test_a_person_noun_restates_the_measure_word() -> None:
    text = "全县11个乡镇农经站平均只有2.6人。学校有党员教师35名。"
    check(
        text,
        ["全县11个乡镇农经站，平均每个站只有2.6名工作人员。", "11个乡镇农经站平均只有2.6名人员。"],
        [
            ("全县11个乡镇农经站，平均每个站只有2.6名党员。", "misbound"),  # 党员 names who they are
            ("全县11个乡镇农经站，平均每个站只有3.6名工作人员。", "absent"),
        ],
    )


def test_a_broken_word_list_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "binding.yaml"
    bad.write_text("person_nouns: {人员: 1}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="person_nouns"):
        person_nouns(bad)
    with pytest.raises(ValueError, match=r"missing\.yaml"):
        person_nouns(tmp_path / "missing.yaml")


@pytest.mark.parametrize("noun", ["党员", "教师", "学生", "群众"])
def test_person_nouns_are_only_generic_ones(noun: str) -> None:
    assert noun not in person_nouns()


def test_a_share_under_a_topic_figure_is_a_share_of_it() -> None:
    text = "全县小规模学校多达48所，在校生不足50人的占其中的六成。全县中心小学12所，寄宿生占比四成。"
    check(
        text,
        ["48所小规模学校里，六成学校的在校生不到50人。", "12所中心小学里，寄宿生占比四成。"],
        [
            ("12所中心小学里，六成学校的在校生不到50人。", "misbound"),  # 六成 is of the 48所
            ("12所中心小学里，在校生不足50人的占六成。", "misbound"),
        ],
    )


def test_a_ratio_named_only_by_its_whole_takes_the_figure_before_it() -> None:
    text = "到位内资52.4亿元，同比增长9.6%，完成年度目标的106%。工业投资完成31亿元，占固定资产投资的41%。"
    check(
        text,
        ["到位内资52.4亿元，完成年度目标的106%。", "工业投资完成31亿元，占固定资产投资的41%。"],
        [
            ("工业投资完成31亿元，完成年度目标的106%。", "misbound"),  # 106% is 到位内资's
            ("到位内资52.4亿元，占固定资产投资的41%。", "misbound"),
        ],
    )


def test_a_condition_of_a_part_is_no_statement_of_the_whole() -> None:
    text = (
        "全镇22个村的集体经济收入全部超过8万元，其中超过30万元的有5个村。"
        "全县教学点31个，其中学生不足10人的有14个。"
    )
    check(
        text,
        [
            "有5个村的集体经济收入超过30万元。",
            "集体经济收入超过30万元的村有5个。",
            "22个村的集体经济收入都超过了8万元。",  # 超过了 = 超过
            "学生不足10人的教学点有14个。",
        ],
        [
            ("全镇22个村的集体经济收入都在30万元以上。", "misbound"),  # 30万元 says which 5 villages
            ("全县31个教学点的学生都不足10人。", "misbound"),
            ("有5个村的集体经济收入超过50万元。", "absent"),
        ],
    )


def test_a_bound_before_a_noun_qualifies_it() -> None:
    text = "全年新签约项目46个，其中5000万元以上项目19个；新开工项目27个，总投资68亿元。"
    check(
        text,
        ["新签约的项目中，5000万元以上的有19个。", "5000万元以上的新签约项目有19个。"],
        [
            ("新签约的项目中，5000万元以上的有27个。", "misbound"),  # 27个 are the 新开工 ones
            ("新签约的项目中，5000万元以上的有46个。", "misbound"),
        ],
    )


def test_a_noun_found_nowhere_near_the_value_is_another_figures() -> None:
    text = "新建村级综合服务中心8个，惠及群众2.3万人。组建党员突击队12支，参与党员186名。"
    check(
        text,
        ["新建的8个村级综合服务中心让2.3万名群众受益。", "党员突击队12个，参加的党员有186人。"],
        [
            ("新建的8个村级综合服务中心让186名群众受益。", "misbound"),  # 186名 are 参与党员
            ("党员突击队12个，参加的党员有2.3万人。", "misbound"),  # 2.3万人 are 群众
        ],
    )


def test_the_noun_of_the_figure_before_you() -> None:
    text = "全县共有中小学86所，在校学生5.9万人，专任教师4120人。新引进亿元以上项目14个，总投资126亿元。"
    check(
        text,
        [
            "全县86所中小学有在校生5.9万人。",  # 中小学 is 86所's; 在校生 = 在校学生
            "全县中小学专任教师共有4120名。",
            "新引进的14个亿元以上项目总投资126亿元。",  # 总投资 is no part of 项目's name
        ],
        [
            ("全县86所中小学有专任教师5.9万人。", "misbound"),
            ("全县86所中小学有在校生4120人。", "misbound"),
            ("新引进的14个亿元以上项目总投资136亿元。", "absent"),
        ],
    )


def test_measure_words_of_one_family_match_where_the_noun_does() -> None:
    text = (
        "加装电梯46部，改造老旧小区29个。全年植树1.2万棵。查处违法建房68起，拆除违章建筑3栋。建立档案3260份。"
    )
    check(
        text,
        [
            "街道加装了46台电梯。",
            "违法建房查处了68件。",
            "建立档案3260册。",
            "全年植树1.2万株。",
            "拆除违章建筑3座。",
        ],
        [
            ("全年拆除违法建房68栋。", "absent"),  # cases are no buildings
            ("加装46套健身器材。", "absent"),  # the family matches, the noun does not
        ],
    )
    assert any({"台", "部"} <= f for f in measure_word_families())
    assert not any({"起", "栋"} <= f for f in measure_word_families())


def test_a_rate_named_with_its_subject_must_be_that_subjects() -> None:
    text = (
        "今年以来，累计化解信访积案47件，化解率92.2%。全镇有劳动力1.2万人。转移就业率达到65%。"
        "全县受理劳动争议案件268件，结案率95.5%。"
    )
    check(
        text,
        [
            "信访积案化解率92.2%。",
            "全镇劳动力转移就业率65%。",  # the subject stands in the sentence before
            "劳动争议案件结案率95.5%。",
        ],
        [
            ("劳动争议案件化解率92.2%。", "misbound"),  # 92.2% is 信访积案's
            ("信访积案结案率95.5%。", "misbound"),
        ],
    )


def test_the_noun_after_a_figure_ends_at_a_preposition() -> None:
    text = "開展“四下鄉”活動26場次，發放宣傳資料8000餘份，受益群眾1.1萬人次。"  # 繁體 reads as 简体
    check(
        text,
        ["1.1万人次群众从“四下乡”活动中受益。", "开展“四下乡”活动26场，发放宣传资料8000多份。"],
        [
            ("2.6万人次群众从“四下乡”活动中受益。", "absent"),
            ("“四下乡”活动发放宣传资料26场次。", "misbound"),
            ("群众从“四下乡”活动中受益8000余份。", "misbound"),  # 8000余份 are 宣传资料
        ],
    )


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"


def test_every_sentence_of_a_fixture_report_binds_to_its_own_report() -> None:
    # The most faithful claim there is: a sentence of the source itself. A rule that flags one of
    # these flags a faithful claim (speeches, 〔一〕 headings, 繁體, no line breaks, site noise …).
    flagged, checked = [], 0
    for path in sorted(FIXTURES.glob("*.txt")):
        sources = [SourceText(r.source, r.text, 0, r.index) for r in load_document(path).reports]
        for report in sources:
            for sentence in re.split(r"(?<=[。！？；])", report.text):
                if len(sentence.strip()) < 6 or not re.search(r"\d", sentence):
                    continue
                checked += 1
                if worst_match(bind_claim(sentence.strip(), sources)) != "bound":
                    flagged.append((path.name, sentence.strip()))
    assert checked > 300
    assert flagged == []
