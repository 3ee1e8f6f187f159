"""Parsing the styles of real published reports (DESIGN.md "Real reports are not like the seeds").

Small invented texts, one style each: speech, 〔一〕 / (一) / 1.+(1) headings, bare headings, no
line breaks, fragments, role from the body, sections found by wording, placeholders.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.documents.chunking import chunk_report
from rag.documents.parse import parse_text
from rag.documents.reflow import reflow
from rag.grounding.figures import extract_figures, has_redacted_figure
from rag.schema import Report

FILLER = "按照年初确定的目标任务，我们抓住重点、补齐短板，推动各项工作落地见效，群众满意度持续提升。"


def parse(text: str) -> Report:
    doc = parse_text(text, source="t.txt")
    assert len(doc.reports) == 1, [r.title for r in doc.reports]
    return doc.reports[0]


def kinds(report: Report) -> list[str]:
    return [s.kind for s in report.sections]


def section_text(report: Report, kind: str) -> str:
    return "\n".join(report.text[s.start : s.end] for s in report.sections if s.kind == kind)


def assert_exact_slices(report: Report) -> None:
    for section in report.sections:
        assert 0 <= section.start < section.end <= len(report.text)
        if section.heading:
            assert report.text.startswith(section.heading, section.start)
        for sub in section.subsections:
            assert section.start <= sub.start < sub.end <= section.end
            assert report.text.startswith(sub.marker, sub.start)
    for chunk in chunk_report(report):
        assert report.text[chunk.start : chunk.end] == chunk.text


# ------------------------------------------------------------------- speech


def test_speech_opening_and_wrap_up() -> None:
    report = parse(
        "县农业农村局局长2022年述职报告\n"
        "同志们：\n"
        "再过几天，我到局里任职就满一年了。下面我讲三个方面：一是干了什么，二是有哪些短板，三是下一步怎么干。\n"
        "一、回顾一年来，主要做了三件事\n（一）抓粮食生产。全年落实播种面积5.2万亩。\n"
        "二、看清短板\n一是队伍年龄偏大。二是设施老化。\n"
        "三、下一步，重点抓好两件事\n一是补齐设施短板。二是充实队伍。\n"
        "同志们，任务艰巨，责任重大。我将和大家一道把工作干好。\n"
        "以上述职，请予评议。"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]
    assert section_text(report, "前言").startswith("同志们：")
    assert section_text(report, "结语").startswith("同志们，任务艰巨")  # the wrap-up joins the closing
    assert (report.role, report.year, report.level) == ("局长", 2022, "局")
    assert_exact_slices(report)


def test_speech_ending_with_thanks_is_the_closing() -> None:
    report = parse(
        "柳河村党总支书记2021年述职报告\n各位党员、同志们：\n今天我向大家汇报一年来的工作。\n"
        "一、工作情况\n全年新发展党员4名。\n二、存在问题\n合作社管理还不规范。\n三、明年打算\n再建大棚20个。\n"
        "同志们，村里的事就是大家的事。谢谢大家！"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]


# ----------------------------------------------------------- alternative headings


def test_square_bracket_and_ascii_paren_subsections() -> None:
    report = parse(
        "马头镇纪委书记2022年度述职述廉报告\n现将履职情况报告如下。\n"
        "一、履职情况\n〔一〕聚焦主责主业\n开展专项监督检查21次。\n〔二〕坚持严管厚爱\n立案11件。\n"
        "二、存在问题\n(一)基层监督力量薄弱。\n(二)执纪审查能力不足。\n"
        "三、下步打算\n1.建强监督队伍\n(1)选派干部跟班学习。\n(2)开展业务培训。\n"
        "四、个人廉洁自律情况\n本人严格遵守中央八项规定精神。\n以上报告，请予评议。"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "其他", "结语"]
    duty, problems, plans = report.sections[1:4]
    assert [s.marker for s in duty.subsections] == ["〔一〕", "〔二〕"]
    assert [s.heading for s in duty.subsections] == ["聚焦主责主业", "坚持严管厚爱"]
    assert [s.marker for s in problems.subsections] == ["(一)", "(二)"]
    assert [s.marker for s in plans.subsections] == ["1.", "(1)", "(2)"]
    assert_exact_slices(report)


def test_bracket_headings_as_the_top_level() -> None:
    report = parse(
        "某镇副镇长2023年述职报告\n现将履职情况报告如下。\n"
        "(一)履职情况\n1.抓信访。全年化解积案13件。\n2.抓综治。建立说事室17个。\n"
        "(二)存在问题\n调解员大多是兼职。\n(三)下步打算\n每年组织两轮次培训。\n以上汇报，请批评指正。"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]
    assert report.sections[1].heading == "(一)履职情况"
    assert [s.marker for s in report.sections[1].subsections] == ["1.", "2."]


def test_ascii_punctuation() -> None:
    report = parse(
        "龙潭乡副乡长2024年度述职报告\n2024年,我分管农业农村工作.现将有关情况报告如下:\n"
        "一、履职情况\n1.稳住粮食生产\n(1)落实播种面积5.72万亩.\n"
        "二、存在问题\n1.部分农户种粮积极性不高;\n三、下步打算\n1.力争复耕复种率达到95%以上;\n"
        "以上述职,不妥之处,敬请批评指正."
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]
    assert (report.role, report.year, report.level) == ("副乡长", 2024, "乡")


# ------------------------------------------------------------------ bare headings


def test_bare_headings_top_level_and_subsections() -> None:
    report = parse(
        "幸福里社区党委书记2023年述职报告\n社区基本情况\n社区现有居民4210户11860人。\n"
        "一年来的主要工作\n党建引领基层治理\n我们把党支部建在网格上。\n为民办事解难题\n全年办结诉求1298件。\n"
        "存在的不足\n一是工作人员身兼多职。二是居民参与不够。\n"
        "下一步打算\n一是推动社区减负增效。二是深化双报到。\n以上述职，请批评指正。"
    )
    assert kinds(report) == ["其他", "履职", "问题", "打算", "结语"]
    duty = report.sections[1]
    assert duty.heading == "一年来的主要工作"
    assert [(s.marker, s.heading) for s in duty.subsections] == [
        ("", "党建引领基层治理"),
        ("", "为民办事解难题"),
    ]
    assert report.level == "村"  # 社区 counts as 村
    assert_exact_slices(report)


def test_bare_subheadings_without_a_duty_heading_start_the_duty_part() -> None:
    report = parse(
        "花溪镇党委宣传委员2024年度述职报告\n今天的述职，我从三个方面向大家汇报。\n"
        "讲好一个故事\n全年刊发稿件36篇。\n守好一块阵地\n更新宣传栏48个。\n带好一支队伍\n培训196人次。\n"
        "不足之处\n精品力作还不多。\n努力方向\n每季度策划一个主题宣传。\n以上述职，请批评指正。"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]
    assert [s.heading for s in report.sections[1].subsections] == [
        "讲好一个故事",
        "守好一块阵地",
        "带好一支队伍",
    ]
    assert_exact_slices(report)


def test_address_and_short_sentences_are_no_bare_headings() -> None:
    report = parse(
        "某村党支部书记述职报告\n同志们：\n一年来我做了这些工作，请大家评议。\n"
        "一、工作情况\n全年发展党员2名。\n二、存在问题\n学习不够。\n三、下步打算\n加强学习。"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算"]


# ---------------------------------------------------------------- no line breaks


ONE_LINE = (
    "青山镇镇长2022年度安全生产工作述职报告2022年，在县委、县政府的领导下，我认真履行职责。"
    "现将履职情况报告如下：一、主要工作（一）压紧压实责任链条。签订安全生产责任书89份。"
    "（二）深入开展隐患排查整治。排查隐患486处，已整改478处。"
    "二、存在问题一是安全监管力量严重不足。二是部分企业主体责任落实不到位。"
    "三、下步打算一是充实监管力量。二是推行企业安全生产“明白卡”。"
    "以上述职，不妥之处，敬请批评指正。"
)


def test_one_line_report_gets_its_title_and_headings() -> None:
    report = parse(ONE_LINE)
    assert report.title == "青山镇镇长2022年度安全生产工作述职报告"
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]
    duty, problems, plans = report.sections[1:4]
    assert duty.heading == "一、主要工作"
    assert [s.heading for s in duty.subsections] == ["压紧压实责任链条", "深入开展隐患排查整治"]
    assert problems.heading == "二、存在问题"
    assert [s.marker for s in problems.subsections] == ["一是", "二是"]
    assert plans.heading == "三、下步打算"
    assert report.text[report.sections[-1].start :] == "以上述职，不妥之处，敬请批评指正。"
    assert (report.role, report.year, report.level) == ("镇长", 2022, "镇")
    assert_exact_slices(report)


def test_reflow_only_inserts_line_breaks() -> None:
    spaced = ONE_LINE.replace("述职报告2022年", "述职报告 2022年")
    for text in (ONE_LINE, spaced):
        out = reflow(text)
        assert out.count("\n") >= 8
        assert re.sub(r"\s", "", out) == re.sub(r"\s", "", text)


def test_reflow_leaves_ordinary_paragraphs_alone() -> None:
    text = (
        "镇长述职报告\n全年工作分为三类：一、安全生产；二、环境整治；三、民生实事。各项工作均按期完成。\n"
        "一是抓学习。二是抓落实。\n资金分为一、二、三类分别管理。"
    )
    assert reflow(text) == text


def test_one_line_report_without_headings_splits_by_sentence() -> None:
    body = FILLER * 6 + "全年新建村级活动场所3个，发展党员12名。"
    text = (
        "东山村党支部书记2023年述职报告\n"
        + body
        + "工作中还存在一些不足：一是学习不够深入；二是创新意识不强。"
        + "下一步，我将加强学习，力争村集体收入突破30万元。"
    )
    report = parse(text)
    assert kinds(report) == ["履职", "问题", "打算"]
    assert section_text(report, "问题").startswith("工作中还存在一些不足")
    assert section_text(report, "打算").startswith("下一步，我将")
    assert_exact_slices(report)


# ------------------------------------------------------------------- fragments


def test_fragment_continuing_from_the_previous_page() -> None:
    report = parse(
        "（接上页）三是抓实乡村振兴。作为乡党委书记，我把防止返贫作为底线任务，全年落实帮扶措施31户。\n"
        "（四）抓细安全稳定。化解矛盾纠纷138起。\n"
        "二、存在问题\n（一）茶叶产业小而散。\n三、下步打算\n（一）力争培育龙头企业1家。\n"
        "以上述职，不妥之处，敬请批评指正。"
    )
    assert kinds(report) == ["履职", "问题", "打算", "结语"]
    assert not report.text.startswith("（接上页）")
    assert (report.role, report.level) == ("乡党委书记", "乡")


def test_titled_report_does_not_start_past_one() -> None:
    report = parse("镇长述职报告\n前言一段。\n二、存在问题\n学习不够。\n三、下步打算\n加强学习。")
    assert kinds(report) == ["其他"]  # headings out of sequence stay body text, as before


@pytest.mark.parametrize(
    ("sentence", "role", "level"),
    [
        ("去年3月我从石门乡调至清河镇任党委书记，到任后走遍了全镇19个村。", "镇党委书记", "镇"),
        ("作为市农业农村局选派的驻村第一书记，我吃住在村。", "驻村第一书记", "村"),
        ("担任副镇长以来，我主要分管信访和综治工作。", "副镇长", "镇"),
        ("2021年我担任石桥村党支部书记，带领村民发展产业。", "村党支部书记", "村"),
    ],
)
def test_role_and_level_from_the_body(sentence: str, role: str, level: str) -> None:
    report = parse(
        sentence + "\n一、工作情况\n" + FILLER + "\n二、存在问题\n学习不够。\n三、下步打算\n加强学习。"
    )
    assert (report.role, report.level) == (role, level)


# ---------------------------------------------------------- sections by wording


def test_sections_by_wording_after_unnamed_headings() -> None:
    report = parse(
        "一、抓班子带队伍，凝聚干事合力\n全年新发展党员21名。\n"
        "二、抓民生补短板，增进群众福祉\n新修通村公路11.3公里。\n"
        "回过头来看，工作中还存在一些不足：一是产业结构偏重；二是村干部能力跟不上。\n"
        "下一步，我们将力争全年新签约亿元以上项目3个。"
    )
    assert kinds(report) == ["履职", "履职", "问题", "打算"]
    assert [s.marker for s in report.sections[2].subsections] == ["一是", "二是"]


def test_headless_report_gets_opening_duty_problems_and_plans() -> None:
    report = parse(
        "石桥村党支部书记2025年述职报告\n同志们：\n时间过得真快，我担任村党支部书记已经满三年了。\n"
        "先说钱袋子。全年村集体经营性收入达到53.8万元。\n再说路和水。新修产业路3.1公里。\n"
        "当然，我们的短板也很明显。会管理、懂市场的年轻人太少。\n"
        "明年，我想再办三件事：一是建直播基地；二是动员3名年轻人回村。\n"
        "同志们，村里的日子越过越好。谢谢大家！"
    )
    assert kinds(report) == ["前言", "履职", "问题", "打算", "结语"]
    assert section_text(report, "前言").startswith("同志们：\n时间过得真快")
    assert section_text(report, "履职").startswith("先说钱袋子")
    assert_exact_slices(report)


def test_headings_win_over_wording() -> None:
    report = parse(
        "镇长2023年述职报告\n一、履职情况\n下一步，我们还将继续推进。工作中还存在一些不足。\n"
        "二、存在问题\n学习不够。\n三、下步打算\n加强学习。"
    )
    assert kinds(report) == ["履职", "问题", "打算"]


def test_headless_text_without_such_wording_stays_one_section() -> None:
    report = parse("村委会工作总结\n今年我们修了路。\n也建了活动室。")
    assert kinds(report) == ["其他"]


# ---------------------------------------------------------------- placeholders


def test_placeholders_are_redactions_never_facts() -> None:
    report = parse(
        "xx乡党委组织委员20xx年度述职报告\n20xx年，在乡党委书记***同志的带领下，我认真履职。\n"
        "一、履职情况\n组织集中学习**次，发展党员**名，争取资金XX万元，赴XX县考察。\n"
        "二、存在问题\n学习不够。\n三、下步打算\n加强学习。"
    )
    assert report.year is None  # 20xx is no year
    assert report.role == "组织委员" and report.level == "乡"
    assert report.redaction_count == 8  # xx, 20xx ×2, ***, ** ×2, XX ×2: counted like ** and X
    assert extract_figures("20xx年，XX年度") == []
    duty = section_text(report, "履职")
    assert has_redacted_figure(duty)
    assert [f.raw for f in extract_figures(duty)] == []  # **次, **名, XX万元: no figure is read
    assert all(c.redacted for c in chunk_report(report) if c.section == "履职")


def test_a_compilation_with_a_one_line_report_splits_into_every_report():
    fixtures = Path(__file__).resolve().parent / "fixtures" / "reports"
    names = (
        "r01_speech_grain_bureau.txt",
        "r13_one_line_forestry_deputy_director.txt",
        "r15_township_head_implicit_rural_revitalization.txt",
    )
    text = "\n\n".join((fixtures / n).read_text(encoding="utf-8").strip() for n in names)
    doc = parse_text(text, source="汇编.txt")
    assert [r.role for r in doc.reports] == ["局长", "副局长", "乡长"]
    assert doc.reports[1].title == "县林业局副局长2020年述职报告"
