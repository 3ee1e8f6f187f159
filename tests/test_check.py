"""The factual-consistency checker with the scripted judge and the hashed embedder (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rag.cli.eval import register
from rag.documents.load import load_document
from rag.documents.parse import parse_text
from rag.grounding.check import CheckResult, check_text
from rag.grounding.judge import judge_messages, judge_prompt
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings
from tests.conftest import SEEDS

TOWN = SEEDS / "002_2f2310b7b8fa1bf8.txt"  # 镇党委书记2022年述职报告: 800平米, 179.25万元, 68起


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "unused", embedder="hash")


def _judge() -> ScriptedLLM:
    # Rules match the whole judge prompt (evidence too), so they key on the claim line.
    return (
        ScriptedLLM()
        .on_yes("陈述：龙井村", 0.1)
        .on_yes("陈述：化眉村", 0.92)
        .on_yes("陈述：全镇村集体经济", 0.9)
    )


def test_changed_figure_is_a_figure_mismatch(settings: Settings) -> None:
    result = check_text("全镇村集体经济总收入达279.25万元。", [TOWN], _judge(), settings)
    (s,) = result.sentences
    assert s.verdict == "figure_mismatch"  # the judge said 0.9: the figure check overrides it
    assert [(f.raw, f.found) for f in s.figures] == [("279.25万元", False)]
    assert "179.25万元" in s.evidence.quote  # the evidence shows what the source says
    assert result.figure_precision == 0.0 and result.support_rate == 0.0


def test_supported_sentence_with_exact_evidence_offsets(settings: Settings) -> None:
    result = check_text("化眉村完成800平米茶叶加工厂建设。", [TOWN], _judge(), settings)
    (s,) = result.sentences
    assert s.verdict == "supported" and s.score == pytest.approx(0.92)
    assert s.figures[0].found and s.figures[0].value == 800.0
    report = load_document(TOWN).reports[0]
    ev = s.evidence
    assert report.text[ev.start : ev.end] == ev.quote and "800平米" in ev.quote
    f = s.figures[0]
    assert report.text[f.start : f.end] == "800平米"
    assert result.judge == "llm" and result.prompt_id == "judge/default" and len(result.prompt_hash) == 16


def test_low_judge_score_is_unsupported_even_with_found_figures(settings: Settings) -> None:
    result = check_text("龙井村完成800平米茶叶加工厂建设。", [TOWN], _judge(), settings)
    (s,) = result.sentences
    assert s.figures[0].found and s.verdict == "unsupported" and s.score == pytest.approx(0.1)


def test_judge_reads_the_evidence_sentence_title_and_claim(settings: Settings) -> None:
    llm = _judge()
    check_text("化眉村完成800平米茶叶加工厂建设。", [TOWN], llm, settings)
    user = llm.calls[-1][-1]["content"]
    assert "镇党委书记2022年述职报告" in user and "陈述：化眉村完成800平米茶叶加工厂建设。" in user
    assert "化眉村完成800平米茶叶加工厂建设，" in user  # the source's own wording
    messages = judge_messages(judge_prompt(), "资料正文", "陈述正文", title="某报告")
    assert messages[0]["role"] == "system" and "（某报告）资料正文" in messages[-1]["content"]


def test_json_shape_and_skipped_fragments(settings: Settings) -> None:
    text = "一、\n化眉村完成800平米茶叶加工厂建设。[1]\n全镇村集体经济总收入达279.25万元。"
    data = check_text(text, [TOWN], _judge(), settings).to_json()
    json.dumps(data, ensure_ascii=False)
    assert data["skipped"] == 1  # "一、" is no claim
    assert [s["verdict"] for s in data["sentences"]] == ["supported", "figure_mismatch"]
    first = data["sentences"][0]
    assert first["text"] == "化眉村完成800平米茶叶加工厂建设。"  # citation marker stripped
    assert set(first) >= {"text", "verdict", "score", "figures", "evidence"}
    assert {"value", "found"} <= set(first["figures"][0])
    assert {"quote", "start", "end", "source", "report_index"} <= set(first["evidence"])
    assert data["support_rate"] == 0.5 and data["figure_precision"] == 0.5
    assert data["counts"] == {"supported": 1, "unsupported": 0, "figure_misbound": 0, "figure_mismatch": 1}


def test_overlap_mode_needs_no_model_and_accepts_text_sources(settings: Settings) -> None:
    sources = ["2023年全乡投入资金179.25万元，新建村级文化广场800平米。", "组织文艺演出26场次。"]
    result = check_text("新建村级文化广场800平米。组织文艺演出36场次。", sources, None, settings)
    assert result.judge == "overlap" and result.model is None
    assert [s.verdict for s in result.sentences] == ["supported", "figure_mismatch"]
    assert result.sentences[0].evidence.source == "text-1"
    assert isinstance(result, CheckResult) and result.figures_checked == 2


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_cli_check_json_and_text(tmp_path: Path) -> None:
    claim = tmp_path / "claim.txt"
    claim.write_text("全年查处违法建房86起。化眉村完成800平米茶叶加工厂建设。", encoding="utf-8")
    runner = CliRunner()
    env = {"RAG_EMBEDDER": "hash"}
    args = ["check", "--source", str(TOWN), "--text", str(claim), "--no-judge"]
    out = runner.invoke(_cli(), [*args, "--json"], env=env)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["sentences"][0]["verdict"] == "figure_mismatch" and data["figure_precision"] == 0.5
    text = runner.invoke(_cli(), args, env=env)
    assert text.exit_code == 0 and "86起 不见于任何资料" in text.stdout and "数字精确率 50%" in text.stdout


def test_cli_check_missing_text_file_is_a_clear_error(tmp_path: Path) -> None:
    out = CliRunner().invoke(
        _cli(), ["check", "--source", str(TOWN), "--text", str(tmp_path / "nope.txt"), "--no-judge"]
    )
    assert out.exit_code == 2 and "无法读取" in out.stderr


# --- figure binding: what each figure measures -------------------------------------------------

LIST_SOURCE = "东湖村2024年工作总结\n全村新修机耕道3.5公里、排灌渠6.8公里，预计年底前建成冷库2座。"


def test_json_has_a_binding_per_figure_and_the_misbound_verdict(settings: Settings) -> None:
    text = "全村新修排灌渠3.5公里。全村新修了3.5公里机耕道。年底前已建成冷库2座。全村新修排灌渠9公里。"
    data = check_text(text, [LIST_SOURCE], None, settings).to_json()
    verdicts = [s["verdict"] for s in data["sentences"]]
    assert verdicts[0] == "figure_misbound"  # 3.5公里 is the 机耕道's, not the 排灌渠's
    assert verdicts[1] != "figure_misbound" and data["sentences"][1]["figures"][0]["found"]
    assert verdicts[2] == "figure_misbound"  # 预计 … 建成 is a target, not a result
    assert verdicts[3] == "figure_mismatch"
    b = data["sentences"][0]["figures"][0]["binding"]
    assert {"figure", "claim_clause", "source_clause", "source", "start", "end", "match"} <= set(b)
    assert (
        b["match"] == "misbound" and b["figure"] == "3.5公里" and b["claim_clause"] == "全村新修排灌渠3.5公里"
    )
    assert b["source_clause"] == "全村新修机耕道3.5公里、排灌渠6.8公里" and b["source"] == "text-1"
    report = parse_text(LIST_SOURCE, source="text-1").reports[0]
    assert report.text[b["start"] : b["end"]] == b["source_clause"]
    assert data["sentences"][1]["figures"][0]["binding"]["match"] == "bound"
    assert data["sentences"][3]["figures"][0]["binding"]["match"] == "absent"
    assert data["counts"]["figure_misbound"] == 2 and data["figures_misbound"] == 2
    assert data["figures_found"] == 1  # only the bound figure counts as found


def test_sentence_verdict_is_its_worst_clause(settings: Settings) -> None:
    data = check_text("全村新修机耕道3.5公里，排灌渠3.5公里。", [LIST_SOURCE], None, settings).to_json()
    (s,) = data["sentences"]  # one entry per input sentence
    assert [f["binding"]["match"] for f in s["figures"]] == ["bound", "misbound"]
    assert s["verdict"] == "figure_misbound"


def test_the_judge_is_not_asked_when_the_figures_decide(settings: Settings) -> None:
    llm = ScriptedLLM().on_yes("陈述：", 0.9)
    result = check_text("全村新修排灌渠3.5公里。全村新修机耕道3.5公里。", [LIST_SOURCE], llm, settings)
    assert [s.verdict for s in result.sentences] == ["figure_misbound", "supported"]
    assert len(llm.calls) == 1  # only the sentence whose figures are bound went to the judge
    user = llm.calls[0][-1]["content"]
    assert "全村新修机耕道3.5公里、排灌渠6.8公里" in user  # the bound source sentence is the evidence


def test_cli_check_prints_the_source_clause(tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text(LIST_SOURCE, encoding="utf-8")
    claim = tmp_path / "claim.txt"
    claim.write_text("全村新修排灌渠3.5公里。", encoding="utf-8")
    args = ["check", "--source", str(source), "--text", str(claim), "--no-judge"]
    out = CliRunner().invoke(_cli(), args, env={"RAG_EMBEDDER": "hash"})
    assert out.exit_code == 0, out.output
    assert "≠" in out.stdout and "所指不符" in out.stdout
    assert "原文：全村新修机耕道3.5公里、排灌渠6.8公里" in out.stdout
    data = json.loads(CliRunner().invoke(_cli(), [*args, "--json"], env={"RAG_EMBEDDER": "hash"}).stdout)
    assert data["sentences"][0]["verdict"] == "figure_misbound"


def test_ui_check_output_shows_the_same_binding(settings: Settings) -> None:
    from ui.tab_check import check_html

    data = check_text("全村新修排灌渠3.5公里。<b>x</b>", [LIST_SOURCE], None, settings).to_json()
    page = check_html(data)
    assert "数字所指不符" in page and "原文：全村新修机耕道3.5公里、排灌渠6.8公里" in page
    assert "<b>x</b>" not in page  # user text is escaped


@pytest.mark.model
def test_embedded_judge_with_the_binding_on_seed_claims() -> None:
    from tests.llm_support import local_llm, model_settings

    llm = local_llm("1.5b")
    settings = model_settings("1.5b", embedder="hash")
    text = "化眉村完成800平米茶叶加工厂建设。全年拆除违法建房68栋，查处违章建筑3起。"
    result = check_text(text, [TOWN], llm, settings)
    good, swapped = result.sentences
    assert good.verdict == "supported" and good.score >= 0.5, good
    assert good.figures[0].binding.match == "bound" and "800平米" in good.figures[0].binding.source_clause
    # 68 is the count of 违法建房 cases (起), 3 that of demolished buildings (栋): both figures are
    # misbound, and the judge is not asked about it.
    assert swapped.verdict in ("figure_misbound", "figure_mismatch") and swapped.score == 0.0
    assert result.judge == "llm"
