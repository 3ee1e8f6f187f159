"""The site-noise filter (rag.documents.noise): page furniture goes, report sentences stay."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rag.documents.clean import clean_text
from rag.documents.load import load_document
from rag.documents.noise import is_noise_line, strip_site_noise, strip_title_suffix

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
ENTRIES = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))
# The junk strings of expected.yaml that are site noise: none may survive the filter.
NOISE_JUNK = {
    "2021-08-31",
    "2020-01-06",
    "2022-12-28",
    "阅读次数：123",
    "资源描述：",
    "阅读次数：356",
    "xx文秘网",
    "1、2、3、",
    "【下载】",
    "xx范文网",
    "字数约1600字",
    "第2页",
    "阅读次数：2089",
    "_述职报告",
    "（接上页）",
    "上一篇：",
    "下一篇：",
}


@pytest.mark.parametrize(
    "line",
    [
        "时间:2021-08-31  来源：xx政务网  阅读次数：123",
        "时间：2022-12-28 来源：xx范文网",
        "资源描述：南岭乡党委宣传委员2019年度述职报告，供各地在撰写述职报告时参考使用。",
        "【下载】 【打印】 【关闭窗口】",
        "【下载】 阅读次数：2089",
        "上一篇：镇长述职报告范文  下一篇：村党支部书记述职报告",
        "下一篇：村党支部书记述职报告",
        "发布时间：2023-01-05 10:21  浏览次数：88",
        "- 3 -",
        "第2页 共5页",
        "【下載】 【打印】 閱讀次數：45",  # 繁體 pages too
    ],
)
def test_noise_lines_are_recognised(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "时间：2023年3月至12月",  # a report's own line: no site field
        "资金来源：县财政拨款和社会捐助。",
        "来源于群众的意见建议73条已办结69条。",
        "一、履职情况",
        "同志们：",
        "【典型案例】村里建起了合作社。",
        "以上述职，请予评议。",
    ],
)
def test_report_lines_are_kept(line: str) -> None:
    assert not is_noise_line(line)
    assert strip_site_noise(line) == line


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("县粮食和物资储备局局长2021年述职报告(4)", "县粮食和物资储备局局长2021年述职报告"),
        ("南岭乡党委宣传委员2019年度述职报告（2）", "南岭乡党委宣传委员2019年度述职报告"),
        ("副乡长2022年分管教育卫生工作述职报告_述职报告", "副乡长2022年分管教育卫生工作述职报告"),
        ("镇长2023年述职报告-xx范文网", "镇长2023年述职报告"),
        ("镇长2023年述职报告（征求意见稿）", "镇长2023年述职报告（征求意见稿）"),
        ("现将有关情况报告如下：(1)", "现将有关情况报告如下：(1)"),
        ("白沙鄉黨委書記2020年度述職報告(3)", "白沙鄉黨委書記2020年度述職報告"),
    ],
)
def test_title_suffixes(line: str, title: str) -> None:
    assert strip_title_suffix(line) == title


def test_spliced_pagination_and_quote_artifacts() -> None:
    text = (
        "完成了1、2、3、全年宣传思想工作的各项任务。\n"
        "完成适龄儿童免疫接种 第2页 4312剂次。\n"
        "（接上页）三是抓实乡村振兴有效衔接。\n"
        "“南岭脐橙节〞相关报道被采用，〝能写会拍〞的人才缺乏。"
    )
    assert strip_site_noise(text) == (
        "完成了全年宣传思想工作的各项任务。\n"
        "完成适龄儿童免疫接种4312剂次。\n"
        "三是抓实乡村振兴有效衔接。\n"
        "“南岭脐橙节”相关报道被采用，“能写会拍”的人才缺乏。"
    )


@pytest.mark.parametrize(
    "sentence",
    [
        "完成了1、2、3号井的清淤。",  # a list of numbers with its noun
        "第1、2、3、4名分别是谁。",
        "7、8号沟全部疏通。",
        "详见附件第2页的表格。",  # no space around: part of the sentence
        "共有1、2两个组。",
    ],
)
def test_number_lists_in_sentences_are_kept(sentence: str) -> None:
    assert strip_site_noise(sentence) == sentence


@pytest.mark.parametrize("path", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seeds_are_untouched(path: Path) -> None:
    cleaned = clean_text(path.read_text(encoding="utf-8"))
    assert strip_site_noise(cleaned) == cleaned


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"][:3] for e in ENTRIES])
def test_fixture_sentences_survive_and_noise_goes(entry: dict) -> None:
    raw = (FIXTURES / entry["file"]).read_text(encoding="utf-8")
    filtered = strip_site_noise(clean_text(raw))
    report_text = load_document(FIXTURES / entry["file"]).reports[0].text
    kept = [a["text"] for a in entry["achievements"]] + entry["problems"] + entry["plans"]
    assert [s for s in kept if s not in filtered or s not in report_text] == []
    assert [j for j in entry["junk"] if j in NOISE_JUNK and j in filtered] == []
    # Every other junk string is report text (a forecast, a background figure): it stays.
    assert [j for j in entry["junk"] if j not in NOISE_JUNK and j not in filtered] == []


def test_traditional_pagination_and_overlapping_cuts() -> None:
    assert strip_site_noise("（接上頁） 第3頁 三是抓實鄉村振興。") == "三是抓實鄉村振興。"
    assert strip_site_noise("完成了1、2、3、全年各項任務。") == "完成了全年各項任務。"


def test_only_noise_left_is_an_empty_text() -> None:
    assert strip_site_noise("【下载】 【打印】\n上一篇：xx\n时间:2021-08-31  来源：xx网") == ""
