"""The factual-consistency checker with the scripted judge and the hashed embedder (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rag.cli.eval import register
from rag.documents.load import load_document
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
    assert data["counts"] == {"supported": 1, "unsupported": 0, "figure_mismatch": 1}


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
