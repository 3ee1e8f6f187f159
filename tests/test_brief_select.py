"""Brief selection: which figures are achievements, on sentences of every kind and on the
fixture corpus (tests/fixtures/reports/expected.yaml lists each report's key achievements and
the figures that must never be shown as one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rag.brief.extract import candidates, report_labels, unredact
from rag.brief.select import clause_items, is_forecast, sentence_excluded
from rag.documents.load import load_document
from rag.documents.parse import parse_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
EXPECTED = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
FORECAST_WORDS = ("预计", "預計", "计划", "計劃", "有望")


def spans(sentence: str) -> list[str]:
    return [sentence[i.start : i.end] for i in clause_items(sentence)]


@pytest.mark.parametrize(
    "sentence",
    [
        "再过3天，我到水利局任职就满两年了。",
        "我今年45岁，2001年参加工作，在基层干了22年。",
        "全县总人口38.6万人，辖11个乡镇、156个行政村，耕地面积41万亩。",
        "东坡村位于县城北部，全村有7个村民小组、528户1913人，其中脱贫户96户。",
        "下面，我从三个方面向大家汇报一年来的工作。",
        "年初提出了“五年建成省级文明乡镇”的目标要求。",
        "二是干部队伍老化，全乡机关干部中50岁以上的占了近一半。",
        "班子成员多达12人，有的站所副职多达5个。",
        "时间:2022-03-15  来源：xx网  阅读次数：88",
        "今年是建党100周年。",
        "全年发生森林火情3起。",
    ],
)
def test_sentences_that_state_no_achievement_give_no_item(sentence):
    assert spans(sentence) == []


def test_a_multi_figure_sentence_becomes_clause_items_with_exact_spans():
    sentence = (
        "全年新修机耕路5.2公里，硬化村道3.1公里，安装路灯120盏，新建文化广场2个，改造危房37户，"
        "发放救助金64.5万元。"
    )
    items = clause_items(sentence)
    assert len(items) >= 2 and all(len(i.figures) <= 3 for i in items)
    assert "".join(sentence[i.start : i.end] for i in items).rstrip("。") == sentence.rstrip("。")
    for item in items:
        for fig in item.figures:
            assert sentence[fig.start : fig.end] == fig.raw


def test_background_and_scope_clauses_are_cut_out_of_a_result_sentence():
    sentence = "对照县里交办的21件信访积案，逐案成立专班，全年化解积案19件，化解率90.5%。"
    assert spans(sentence) == ["逐案成立专班，全年化解积案19件，化解率90.5%。"]
    assert spans("推动全县64所学校全部建立家长学校，新成立学校党支部4个。") == ["新成立学校党支部4个。"]


def test_a_resolved_problem_is_an_achievement_and_an_open_one_is_not():
    assert spans("研究解决消防通道堵塞等突出问题15个。") == ["研究解决消防通道堵塞等突出问题15个。"]
    assert sentence_excluded("有4个村的集体经营性收入还不足3万元，发展后劲不足。") == "problem"
    assert spans("为困难群众代缴医保费用28.4万元。") == ["为困难群众代缴医保费用28.4万元。"]


def test_forecasts_are_flagged_and_a_past_plan_is_not_a_forecast():
    (item,) = clause_items("预计全年粮食总产量可达2.1万吨。")
    assert item.tentative
    done = clause_items("该项目列入了年度计划，并于当年9月前完成硬化道路3.5公里。")
    assert done and not any(i.tentative for i in done)
    assert is_forecast("计划明年新建大棚15个") and not is_forecast("列入年度计划")


def test_labels_fall_back_to_the_role_in_the_body_or_the_title_never_to_a_number():
    doc = parse_text(
        "关于2023年工作情况的述职报告\n去年5月我从东山乡调至西河镇工作。一、主要工作\n新建大棚12个。\n"
        "青龙村2023年述职报告\n一、主要工作\n新修水渠2公里。\n",
        source="t.txt",
    )
    labels = report_labels(doc.reports)
    assert all(not label.startswith("第") for label in labels), labels


def _displayed(report) -> list:
    return [c for c in candidates(report) if not c.redacted_figure]


@pytest.mark.parametrize("entry", EXPECTED, ids=[e["file"][:3] for e in EXPECTED])
def test_fixture_reports_give_no_junk_item_and_keep_their_key_achievements(entry):
    report = load_document(FIXTURES / entry["file"]).reports[0]
    shown = _displayed(report)
    for junk in entry["junk"]:
        for c in shown:
            text = unredact(c.quote)
            if junk in text:
                # Only a forecast may stay, and then flagged (计划/预计数).
                assert c.tentative and any(w in c.quote for w in FORECAST_WORDS), (junk, c.quote)
    for c in shown:
        assert any(f.kind in ("number", "percent") for f in c.figures), c.quote
    quotes = [c.quote for c in shown]
    missing = [
        a["text"]
        for a in entry["achievements"]
        if not any(a["figure"] in q and (a["text"] in q or q in a["text"]) for q in quotes)
    ]
    assert missing == []


def test_a_forecast_gets_its_own_item_after_results_already_achieved():
    sentence = "种植辣椒300亩，实现销售收入42万元，计划明年扩种至500亩，预计增收60万元。"
    items = clause_items(sentence)
    done = [sentence[i.start : i.end] for i in items if not i.tentative]
    assert done == ["种植辣椒300亩，实现销售收入42万元，"] or done == ["种植辣椒300亩，实现销售收入42万元"]
    assert any(i.tentative and "500亩" in sentence[i.start : i.end] for i in items)
