"""Issue 17's checks of a draft, with the scripted fake LLM: every fact used as given and framed for
its section, invented incidents and praise out, no long copy from one colleague's report (shared
boilerplate exempt), citations once per exemplar, length within the corpus' range, points on topic."""

from __future__ import annotations

import pytest

from rag.drafting.copying import Report, copied_runs, corpus_reports, drop_copied_clauses, longest_copy
from rag.drafting.facts import facts_unused
from rag.drafting.incidents import find_inventions, remove_inventions
from rag.drafting.plan import Point, fact_point, on_topic, plan_points, typical_points
from rag.drafting.repeats import drop_repeats, repeated_clauses
from rag.drafting.section import DraftRequest, draft, find_exemplars
from rag.drafting.style import STYLE_NUMBERED, section_profile
from rag.drafting.write import point_body
from rag.index.index import Index
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings
from tests.conftest import REPO, SEEDS

FIXTURES = REPO / "tests" / "fixtures" / "reports"
ISSUE = DraftRequest(
    role="副乡长",
    section="存在问题",
    year=2024,
    topic="安全生产",
    facts=("全年开展安全检查14次", "整改隐患37处"),
    length=300,
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    idx = Index(Settings(index_dir=tmp_path_factory.mktemp("checks") / "index", embedder="hash"))
    idx.ingest([SEEDS, FIXTURES])
    return idx


def _colleague_sentence(index: Index) -> str:
    """A clause of more than 20 characters that only one report of the corpus holds."""
    reports = corpus_reports(index)
    for r in reports:
        for clause in r.text.replace("\n", "。").replace("；", "。").split("。"):
            if 24 <= len(clause) <= 40 and "，" in clause and copied_runs(clause, reports):
                return clause
    raise AssertionError("no unique sentence in the corpus")


def test_the_issue_case_uses_both_facts_and_keeps_no_incident_nor_copy(index: Index) -> None:
    copied = _colleague_sentence(index)
    reply = f"隐患排查还不够深入细致，导致安全生产事故频发；{copied}。"
    result = draft(index, ScriptedLLM(default=reply), ISSUE)
    text = result.text
    assert "虽然全年开展安全检查14次，但" in text and "虽然整改隐患37处，但" in text
    assert result.facts_unused == ()
    assert "事故频发" not in text and {i["kind"] for i in result.inventions} == {"incident"}
    assert copied not in text and result.copies_removed
    assert result.longest_copy["chars"] <= 20
    assert result.length["in_range"]
    assert result.length["min"] == section_profile(index, "问题", "副乡长").floor
    out = result.to_json()
    assert out["facts_unused"] == [] and set(out["longest_copy"]) >= {"chars", "text", "source"}
    ids = [c["chunk_id"] for c in out["citations"]]
    assert len(ids) == len(set(ids))  # each exemplar listed once


def test_achievement_facts_are_context_of_a_problem_never_praise(index: Index) -> None:
    req = DraftRequest(
        role="组织委员",
        section="存在问题",
        year=2024,
        topic="党员教育",
        facts=("全年组织党员集中学习12次", "开展主题党日活动8次"),
    )
    llm = ScriptedLLM(default="有效提升了党员的理论水平，但党员教育的形式还比较单一，针对性不强。")
    result = draft(index, llm, req)
    assert result.text.startswith("一是虽然全年组织党员集中学习12次，但党员教育的形式还比较单一")
    assert "有效提升了" not in result.text and result.inventions[0]["kind"] == "praise"
    # the same words in 履职情况 are an achievement, which is what that section reports
    kept, found = remove_inventions("一是有效提升了党员的理论水平。", [], "履职")
    assert "有效提升了" in kept and found == []


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("一是隐患整改跟踪不及时，导致安全生产事故频发。", "一是隐患整改跟踪不及时。"),
        ("二是被县纪委约谈1次，受到党内警告处分。", "二是【待补充：如确有事故、问责等情况，请据实填写】。"),
        ("三是全年未发生安全事故，隐患整改还不彻底。", "三是隐患整改还不彻底。"),
        ("四是严防重大事故发生，坚决遏制事故。", "四是严防重大事故发生，坚决遏制事故。"),
        ("五是存在发生事故的风险。", "五是存在发生事故的风险。"),
    ],
)
def test_invented_incidents_and_outcomes_go_warnings_stay(text: str, kept: str) -> None:
    assert remove_inventions(text, ["全年开展安全检查14次"], "问题")[0] == kept
    assert bool(find_inventions(text, [], "问题")) == (text != kept)


def test_an_incident_the_user_stated_is_a_fact() -> None:
    facts = ["全年发生一般事故1起"]
    assert remove_inventions("一是全年发生一般事故1起，已妥善处置。", facts, "问题") == (
        "一是全年发生一般事故1起，已妥善处置。",
        [],
    )


def test_shared_boilerplate_is_exempt_and_a_single_reports_run_is_a_copy() -> None:
    shared = "深入学习贯彻习近平新时代中国特色社会主义思想和党的二十大精神"
    own = "对挂钩村及分管部门的党建工作指导力度不够，党建示范引领作用不够明显"
    reports = [
        Report("a.txt", 0, "甲", f"一年来，{shared}。{own}。"),
        Report("b.txt", 0, "乙", f"我始终{shared}，抓好落实。"),
    ]
    text = f"一是{shared}。二是{own}。"
    copy = longest_copy(text, reports)
    assert copy.chars == len(own) + 1 and copy.source == "a.txt"  # the run ends at its 。
    assert longest_copy(f"一是{shared}。", reports).chars <= 1  # boilerplate + 。 is no copy
    runs = copied_runs(text, reports)
    assert [r.text.rstrip("。") for r in runs] == [own]
    two = f"一是{shared}。\n二是要加强统筹协调，{own}。"
    trimmed, removed = drop_copied_clauses(two, copied_runs(two, reports))
    assert trimmed.split("\n")[1] == "二是要加强统筹协调。" and removed
    # the user's own words are never a copy, even where a report says the same
    assert longest_copy(f"一是{own}。", reports, facts=[own]).chars < 5


def test_boilerplate_exemption_reads_the_corpus(index: Index) -> None:
    reports = corpus_reports(index)
    phrase = "习近平新时代中国特色社会主义思想"
    assert sum(phrase in r.text for r in reports) >= 2
    assert longest_copy(f"一是深入学习{phrase}。", reports).chars < len(phrase)


def test_a_fact_misbound_or_missing_is_listed_unused() -> None:
    facts = ["全年开展安全检查14次", "整改隐患37处"]
    assert facts_unused(facts, "一是全年开展安全检查14次，但整改隐患14处。") == ["整改隐患37处"]
    assert facts_unused(facts, "一是开展安全检查14次。二是排查整改隐患37处。") == []


def test_a_revision_that_drops_a_fact_gets_a_point_for_it(index: Index) -> None:
    history = [
        {"role": "user", "content": "写存在问题"},
        {"role": "assistant", "content": "一是虽然全年开展安全检查14次，但隐患整改不彻底。\n二是形式单一。"},
    ]
    llm = ScriptedLLM().on("修改意见", "一是隐患整改不彻底。\n二是宣传教育形式单一。")
    llm.on("开头已写好", "隐患整改后复查不够。")
    result = draft(index, llm, ISSUE, message="再精简一些", history=history)
    assert result.prompt_id == "draft_revise/default"
    assert result.facts_unused == ()
    lines = result.text.split("\n")
    assert lines[-2:] == [
        "三是虽然全年开展安全检查14次，但隐患整改后复查不够。",
        "四是虽然整改隐患37处，但隐患整改后复查不够。",
    ]


def test_short_points_get_more_points_until_the_corpus_floor(index: Index) -> None:
    llm = ScriptedLLM(default="隐患排查整治还不够深入，闭环管理还不到位。")
    result = draft(index, llm, ISSUE)
    assert result.length["chars"] >= result.length["min"] and result.length["in_range"]
    assert len(result.plan) > 3 and len(llm.calls) == len(result.plan) + result.continued


def test_house_style_and_range_come_from_the_corpus(index: Index) -> None:
    village = section_profile(index, "履职", "村党总支书记")
    assert village.style == STYLE_NUMBERED and village.style_from == "role"
    problems = section_profile(index, "问题", "副乡长")
    assert problems.min_kind <= problems.floor <= problems.max_kind
    unknown = section_profile(index, "问题", "不存在的职务")
    assert unknown.min_role is None and unknown.floor == problems.min_kind and unknown.style_from == "kind"
    result = draft(
        index,
        ScriptedLLM(default="坚持把发展壮大村集体经济作为重要任务，盘活闲置资源，拓宽增收渠道。"),
        DraftRequest(role="村党总支书记", section="履职情况", topic="集体经济", facts=("发展党员2名",)),
    )
    assert result.text.startswith("（一）发展党员2名，") and "（二）" in result.text


def test_plan_drops_exemplar_points_off_the_topic(index: Index) -> None:
    exemplars = find_exemplars(index, ISSUE, k=3)
    headings = [h for _, h in typical_points(exemplars, "")]
    assert headings  # the exemplars have points …
    # … the ones off the topic go
    assert all(on_topic(h, "安全生产") for _, h in typical_points(exemplars, "安全生产"))
    plan = plan_points("问题", "安全生产", ISSUE.facts, exemplars, 4)
    assert [p.source for p in plan][:2] == ["fact", "fact"] and len(plan) == 4
    assert all("安全生产" in p.task for p in plan)


def test_point_body_cleans_what_a_small_model_adds() -> None:
    p = fact_point("问题", "党员教育", "开展主题党日活动8次")
    raw = "尽管开展主题党日活动8次，但党员教育工作还存在以下不足：一是形式单一；二是针对性不强。"
    assert point_body(p, raw, 150) == "虽然开展主题党日活动8次，但形式单一；针对性不强。"
    echo = "组织委员2024年述职报告“存在问题”部分：学习形式比较单一，播种面积2.1万亩。"
    assert point_body(Point("aspect", "x"), echo, 150) == "学习形式比较单一，播种面积2.1万亩。"
    echoed = "乡长“下步打算”：用一两句话写项目建设工作中“进一步压实工作责任”的具体表现，80字左右。"
    assert point_body(Point("aspect", "x"), echoed, 150) == ""  # the task read back is no point
    assert point_body(p, echoed, 150) == "虽然开展主题党日活动8次，但【待补充：具体表现】。"
    plan = fact_point("打算", "项目建设", "计划实施项目14个")
    assert plan.opening == "计划实施项目14个，"
    assert fact_point("打算", "党员教育", "全年组织党员集中学习12次").opening.startswith("在全年组织")


def test_repeated_clauses_exact_or_near_are_found_and_dropped_from_what_a_call_adds() -> None:
    text = "一是加强理论学习，提高政策理解能力，加强理论学习，提高政策理解能力。\n二是抓好落实，抓好落实。"
    # a set phrase shorter than MIN_CHARS (抓好落实) is no repeat for the check
    assert repeated_clauses(text) == ["加强理论学习", "提高政策理解能力"]
    assert repeated_clauses("一是宣传阵地管理还不够精细。\n二是网上舆论引导的方法还不多。") == []
    point = "缺乏深入理解、灵活运用马克思主义理论的能力。"
    added, removed = drop_repeats("未能深入理解马克思主义理论。对网上舆情研判还不够及时。", [point])
    assert added == "对网上舆情研判还不够及时。" and removed == ["未能深入理解马克思主义理论"]
    assert drop_repeats("问题一。", ["问题一。问题二。"]) == ("", ["问题一"])  # what a call adds is new


def test_a_short_point_gets_one_more_sentence_never_a_repeat(index: Index) -> None:
    more = "对网上舆情的研判处置还不够及时，阵地管理存在薄弱环节。"
    llm = ScriptedLLM(default="意识形态责任落实还不够到位。").on("再用", more)
    req = DraftRequest(role="宣传部长", section="存在问题", year=2024, topic="意识形态")
    result = draft(index, llm, req)
    assert result.continued > 0 and len(llm.calls) == len(result.plan) + result.continued
    assert result.text.count(more) == 1  # the same sentence again in a later point is a repeat
    assert all(not repeated_clauses(line) for line in result.text.split("\n"))
    assert result.repeats_removed and result.length["in_range"] is not None


def test_point_body_writes_in_the_first_person_and_drops_a_clause_cut_off() -> None:
    aspect = Point("aspect", "x")
    echo = "社区党委书记在2024年述职报告中提到，通过网格化管理提升了治理效能。"
    assert point_body(aspect, echo, 150, "社区党委书记") == "通过网格化管理提升了治理效能。"
    third = "2024年，副乡长在粮食生产中，采取了一系列措施。"
    assert point_body(aspect, third, 150, "副乡长") == "在粮食生产中，采取了一系列措施。"
    # the token limit cut the last clause (…，加): it goes, the sentence ends
    cut = "需要进一步提升理论学习和实践能力，加强理论学习，加"
    assert point_body(aspect, cut, 150) == "需要进一步提升理论学习和实践能力，加强理论学习。"
