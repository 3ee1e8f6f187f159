"""Drafting with the scripted fake LLM: placeholders for invented specifics, user facts
survive, exemplars of the right section type, house style, revision from history."""

from __future__ import annotations

import pytest

from rag.drafting.section import (
    DraftError,
    DraftRequest,
    DraftResult,
    draft,
    draft_stream,
    find_exemplars,
    house_style,
    outline,
)
from rag.grounding.draft_guard import guard_draft, placeholders_in
from rag.grounding.figures import extract_figures
from rag.index.index import Index
from rag.llm.fake import ScriptedLLM
from rag.retrieval import hybrid_search
from rag.settings import Settings
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    idx = Index(Settings(index_dir=tmp_path_factory.mktemp("draft") / "index", embedder="hash"))
    idx.ingest([SEEDS])
    return idx


REQ = DraftRequest(
    role="副乡长", section="存在问题", year=2024, topic="安全生产", facts=("全年开展安全生产检查26次",)
)


def test_invented_figure_becomes_placeholder_and_user_fact_survives(index: Index) -> None:
    llm = ScriptedLLM(
        default="一是安全生产责任压得不实。全年开展安全生产检查26次，但整改隐患仅45处，闭环不够。"
        "二是党员教育方式单一。"
    )
    result = draft(index, llm, REQ)
    assert "26次" in result.text
    assert "45处" not in result.text
    assert "【待补充：" in result.text
    labels = [p["label"] for p in result.placeholders]
    assert labels == placeholders_in(result.text)
    assert result.placeholders[0]["original"] == "45处" and "隐患" in labels[0]
    assert result.unsupported == ()
    out = result.to_json()
    for key in ("text", "citations", "placeholders", "unsupported", "prompt_id", "prompt_hash", "model"):
        assert key in out
    assert out["prompt_id"] == "draft/default" and out["model"] == "scripted"


def test_figure_copied_from_an_exemplar_is_flagged_with_its_origin(index: Index) -> None:
    exemplars = hybrid_search(index, "茶叶加工厂", k=3, where={"role": "镇党委书记"})
    borrowed = next(f for p in exemplars for f in extract_figures(p.chunk.text) if f.kind == "number")
    result = guard_draft(f"全乡完成{borrowed.raw}。", [], exemplars)
    assert borrowed.raw not in result.text
    assert result.placeholders[0].kind == "exemplar_figure" and result.placeholders[0].exemplar is not None


def test_exemplars_match_section_type_and_prefer_role(index: Index) -> None:
    exemplars = find_exemplars(index, REQ, k=3)
    assert len(exemplars) == 3
    assert all(p.chunk.section == "问题" for p in exemplars)
    assert exemplars[0].chunk.role == "副乡长"


def test_each_point_is_one_short_prompt_and_the_fact_is_written_by_code(index: Index) -> None:
    llm = ScriptedLLM(default="隐患整改闭环管理还不够到位。")
    result = draft(index, llm, REQ)
    # one short job per planned point, plus a continuation for a point short of its share
    assert len(llm.calls) == len(result.plan) + result.continued and len(result.plan) >= 3
    system, first = llm.calls[0][0]["content"], llm.calls[0][-1]["content"]
    assert "虽然全年开展安全生产检查26次，但" in first  # the fact, framed for 存在问题
    assert "不写任何数字" in system
    # exemplars teach the plan, never their words: no colleague's text in any prompt
    assert not any("<<<资料" in m["content"] for call in llm.calls for m in call)
    assert result.text.startswith("一是虽然全年开展安全生产检查26次，但隐患整改闭环管理还不够到位。")
    assert result.plan[0]["source"] == "fact" and result.facts_unused == ()


def test_house_style_follows_exemplars(index: Index) -> None:
    problems = find_exemplars(index, DraftRequest(role="支部书记", section="存在问题"), k=3)
    assert "一是" in house_style(problems)


def test_redaction_marks_never_become_facts(index: Index) -> None:
    llm = ScriptedLLM(default="一是在**村召开会议X次。")
    result = draft(index, llm, REQ)
    assert "*" not in result.text and "X" not in result.text
    assert {p["kind"] for p in result.placeholders} >= {"redaction"}


def test_revision_edits_previous_draft_from_history(index: Index) -> None:
    first = "一是安全生产检查26次，但隐患整改不彻底。二是党员教育方式单一。"
    history = [
        {"role": "user", "content": "写存在问题"},
        {"role": "assistant", "content": first},
    ]
    llm = ScriptedLLM(
        default="一是安全生产检查26次，整改不彻底。二是教育方式单一。三是意识形态工作抓得不紧。"
    )
    result = draft(index, llm, REQ, message="再精简一些，加一条关于意识形态的", history=history)
    user = llm.calls[-1][-1]["content"]
    assert first in user and "加一条关于意识形态的" in user
    assert result.prompt_id == "draft_revise/default"
    assert "三是意识形态工作抓得不紧" in result.text and "26次" in result.text


def test_stream_yields_pieces_then_result(index: Index) -> None:
    events = list(draft_stream(index, ScriptedLLM(default="一是问题一。二是问题二。", chunk_chars=2), REQ))
    pieces = [e for e in events if isinstance(e, str)]
    assert len(pieces) >= 3 and isinstance(events[-1], DraftResult)
    assert "".join(pieces).startswith("一是虽然全年开展安全生产检查26次，但")
    lines = events[-1].text.split("\n")
    # a point's own 一是/二是 list is folded into the point: one marker per line, in order
    assert lines[0] == "一是虽然全年开展安全生产检查26次，但问题一。问题二。"
    assert [line[:2] for line in lines] == [f"{n}是" for n in "一二三四五六七八九十"][: len(lines)]


def test_unknown_section_is_a_clear_error(index: Index) -> None:
    with pytest.raises(DraftError, match="不认识的部分"):
        draft(index, ScriptedLLM(), DraftRequest(role="乡长", section="花絮"))


def test_outline_has_the_skeleton_and_no_figures(index: Index) -> None:
    llm = ScriptedLLM(default="一、履职情况\n（一）加强学习3次\n二、存在问题及原因\n三、下步打算")
    result = outline(index, llm, DraftRequest(role="乡长", section="履职情况", year=2024))
    assert "一、履职情况" in result.text and "三、下步打算" in result.text
    assert "3次" not in result.text


def test_echoed_prompt_fences_are_removed(index: Index) -> None:
    echo = "<<<资料 1 开始>>>\n来源：乡长·问题\n责任落实不到位。\n<<<资料 1 结束>>>"
    result = draft(index, ScriptedLLM(default=echo), REQ)
    assert result.text.startswith("一是虽然全年开展安全生产检查26次，但责任落实不到位。")
    assert "<<<" not in result.text and "来源" not in result.text and result.placeholders == ()


def test_draft_exports_to_docx(tmp_path) -> None:
    import docx

    from rag.export import draft_to_docx

    text = "一是安全检查26次。\n二是【待补充：隐患整改数量】。"
    path = draft_to_docx("副乡长2024年述职报告（存在问题）", text, tmp_path / "d.docx")
    paragraphs = [p.text for p in docx.Document(str(path)).paragraphs if p.text]
    assert paragraphs == [
        "副乡长2024年述职报告（存在问题）",
        "一是安全检查26次。",
        "二是【待补充：隐患整改数量】。",
    ]


def test_placeholders_the_model_wrote_itself_are_listed_too(index: Index) -> None:
    llm = ScriptedLLM(default="一是全年开展检查【待补充：检查次数】，发现隐患45处。")
    result = draft(index, llm, REQ)
    kinds = {p["label"]: p["kind"] for p in result.placeholders}
    assert kinds["检查次数"] == "model"
    assert sorted(p["text"] for p in result.placeholders) == sorted(
        f"【待补充：{label}】" for label in placeholders_in(result.text)
    )


def test_round_bracket_gaps_become_facts_or_real_placeholders() -> None:
    facts = ["全年开展主题党日12次"]
    text = "带头学习。（待补充：全年开展主题党日12次）\n发展党员（待补充：发展党员人数）。"
    result = guard_draft(text, facts, [])
    assert result.text.startswith("带头学习。全年开展主题党日12次。\n")
    assert "【待补充：发展党员人数】" in result.text and "（待补充" not in result.text
    assert [p.kind for p in result.placeholders] == ["model"] and "12次" in result.from_facts
    assert guard_draft("工作扎实。（待补充：全年开展主题党日12次）", facts, []).text.endswith("12次。")


def test_a_label_never_carries_a_redaction_mark() -> None:
    result = guard_draft("**村党总支下辖党小组3个。", [], [])
    labels = [p.label for p in result.placeholders]
    assert "村党总支下辖党小组数量" in labels and not any("*" in label for label in labels)
