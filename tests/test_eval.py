"""The eval harness on the scripted smoke suite (fast), plus real-model checks (marked model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

import eval.runner as runner_mod
from eval.metrics import auc, citation_problems, has_figure
from eval.report import compare, compare_text, html_report
from eval.runner import corpus_index, load_run, run_suite
from eval.suite import Suite, SuiteError, load_suite
from rag.cli.eval import register
from rag.fusion import FEATURES
from rag.index.index import Index
from rag.prompts import DEFAULT_PROMPTS_DIR
from rag.settings import Settings
from tests.conftest import SEEDS

ROOT = Path(__file__).resolve().parent.parent

SUITES = ROOT / "eval" / "suites"
SMOKE = SUITES / "smoke.yaml"


@pytest.fixture(scope="module")
def hash_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    """The seeds under the hashed embedder, shared by the module (the suite's own corpus)."""
    return corpus_index([SEEDS], Settings(embedder="hash"), tmp_path_factory.mktemp("runs"))


def _suite_file(tmp_path: Path, **changes) -> Path:
    """The smoke suite with ``changes`` applied, its corpus pointing at the real seeds."""
    data = yaml.safe_load(SMOKE.read_text(encoding="utf-8"))
    data["corpus"] = [str(SEEDS)]
    for case in data["cases"]:
        if "file" in case:
            case["file"] = str(SEEDS / Path(case["file"]).name)
    data.update(changes)
    path = tmp_path / f"suite-{len(list(tmp_path.glob('suite-*')))}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_smoke_suite_passes_and_persists_provenance(tmp_path: Path, hash_index: Index) -> None:
    run = run_suite(load_suite(SMOKE), Settings(), index=hash_index, runs_dir=tmp_path)
    assert run.passed, [c["failures"] for c in run.cells if not c["passed"]]
    tasks = {"ask/default", "ask/strict", "draft/default", "draft/concise", "summarize/default"}
    assert {c["prompt_id"] for c in run.cells} == tasks
    ask = run.summary["variants"]["ask/default"]
    assert ask["recall_at_k"] == 1.0 and ask["mrr"] > 0 and ask["citation_validity"] == 1.0
    assert ask["figure_precision"] == 1.0 and ask["support_rate"] == 1.0 and ask["prompt_tokens"] > 0
    assert run.summary["variants"]["draft/default"]["structure_ok"] == 1.0
    brief = run.summary["variants"]["summarize/default"]
    assert brief["key_figure_coverage"] >= 0.8 and brief["figure_precision"] == 1.0
    lines = [json.loads(line) for line in run.path.read_text(encoding="utf-8").splitlines()]
    assert [r["type"] for r in (lines[0], lines[-1])] == ["run", "summary"]
    header = lines[0]
    assert header["model"] == "scripted" and header["embedder"].startswith("hash")
    assert set(header["prompts"]) >= {"ask/default", "ask/strict"} and "commit" in header["git"]
    assert header["settings"]["embedder"] == "hash" and "llm_api_key" not in header["settings"]
    assert len(header["corpus"]) == 5 and header["judge_prompt"]
    assert header["fusion"]["method"] == "learned" and set(header["fusion"]["weights"]) == set(FEATURES)


def test_fusion_weights_are_recorded_and_invalidate_the_cache(tmp_path: Path, hash_index: Index) -> None:
    suite = load_suite(SMOKE)
    first = run_suite(suite, Settings(), index=hash_index, runs_dir=tmp_path)
    again = run_suite(suite, Settings(), index=hash_index, runs_dir=tmp_path)
    assert all(c["cached"] for c in again.cells)
    tuned = hash_index.settings.model_copy(update={"fusion_weights": {"place": 0.77}})
    tuned_index = corpus_index([SEEDS], tuned, tmp_path / "tuned")
    changed = run_suite(suite, tuned, index=tuned_index, runs_dir=tmp_path)
    assert changed.header["fusion"]["weights"]["place"] == 0.77 != first.header["fusion"]["weights"]["place"]
    assert not any(c["cached"] for c in changed.cells)


def test_cache_skips_unchanged_cells_and_a_prompt_edit_invalidates(
    tmp_path: Path, hash_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, prompts)
    settings = Settings(prompts_dir=prompts)
    suite = load_suite(SMOKE)
    calls: list[str] = []
    real = runner_mod.run_cell
    monkeypatch.setattr(runner_mod, "run_cell", lambda cell: calls.append(cell.variant) or real(cell))

    first = run_suite(suite, settings, index=hash_index, runs_dir=tmp_path)
    assert len(calls) == len(first.cells) and not any(c["cached"] for c in first.cells)
    calls.clear()
    second = run_suite(suite, settings, index=hash_index, runs_dir=tmp_path)
    assert calls == [] and all(c["cached"] for c in second.cells)
    assert second.summary["variants"] == first.summary["variants"]

    strict = prompts / "ask" / "strict.yaml"
    strict.write_text(
        strict.read_text(encoding="utf-8").replace("最多三句话", "最多两句话"), encoding="utf-8"
    )
    third = run_suite(suite, settings, index=hash_index, runs_dir=tmp_path)
    recomputed = {c["prompt_id"] for c in third.cells if not c["cached"]}
    assert recomputed == {"ask/strict"} and set(calls) == {"strict"}
    assert third.header["prompts"]["ask/strict"] != first.header["prompts"]["ask/strict"]


def test_failing_threshold_exits_non_zero(tmp_path: Path) -> None:
    suite = _suite_file(tmp_path, thresholds={"min": {"pass_rate": 1.0}, "max": {"latency_max_s": 0.0}})
    runs = tmp_path / "runs"
    out = CliRunner().invoke(_cli(), ["eval", "run", str(suite), "--runs-dir", str(runs), "--json"])
    assert out.exit_code == 1, out.output
    data = json.loads(out.stdout)
    failed = [t for t in data["thresholds"] if not t["passed"]]
    assert failed and {t["metric"] for t in failed} == {"latency_max_s"} and data["passed"] is False
    ok = CliRunner().invoke(_cli(), ["eval", "run", str(SMOKE), "--runs-dir", str(runs)])
    assert ok.exit_code == 0, ok.output
    assert "通过" in ok.stdout and "ask/strict" in ok.stdout


def test_variant_override_and_compare_deltas(tmp_path: Path, hash_index: Index) -> None:
    good = load_suite(SMOKE)
    bad_case = good.cases[0].model_copy(update={"reply": "化眉村建成900平米茶叶加工厂。{cite:800平米}"})
    bad = good.model_copy(update={"cases": [bad_case, *good.cases[1:]]})
    only = {"ask": ["default"], "draft": ["default"]}
    a = run_suite(good, Settings(), index=hash_index, runs_dir=tmp_path, variants=only)
    b = run_suite(bad, Settings(), index=hash_index, runs_dir=tmp_path, variants=only)
    assert {c["prompt_id"] for c in a.cells} == {"ask/default", "draft/default", "summarize/default"}
    assert not b.passed
    diff = compare(load_run(a.id, tmp_path), load_run(b.path))
    rows = diff["variants"]["ask/default"]
    assert rows["pass_rate"]["delta"] == pytest.approx(-0.25)
    assert rows["figure_precision"]["delta"] < 0 and rows["unsupported_figures"]["delta"] == 1
    assert diff["changed"] == [{"case": "tea-factory", "variant": "ask/default", "a": True, "b": False}]
    text = compare_text(diff)
    assert "B−A" in text and "退步：ask/default tea-factory" in text
    out = CliRunner().invoke(_cli(), ["eval", "compare", a.id, b.id, "--runs-dir", str(tmp_path), "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)["changed"] == diff["changed"]
    missing = CliRunner().invoke(_cli(), ["eval", "compare", "nope", b.id, "--runs-dir", str(tmp_path)])
    assert missing.exit_code == 2 and "找不到评测运行" in missing.stderr


def test_html_report_escapes_content_and_draws_charts(tmp_path: Path, hash_index: Index) -> None:
    suite = load_suite(SMOKE)
    evil = suite.cases[0].model_copy(update={"reply": "<script>alert('x')</script>化眉村建成900平米加工厂。"})
    run = run_suite(
        suite.model_copy(update={"cases": [evil, *suite.cases[1:]]}),
        Settings(),
        index=hash_index,
        runs_dir=tmp_path,
    )
    page = html_report(run)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert page.count("<svg") >= 5 and 'class="fail"' in page and 'class="pass"' in page
    assert "ask/strict" in page and "tea-factory" in page


def test_suite_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="unknown threshold"):
        load_suite(_suite_file(tmp_path, thresholds={"min": {"recal": 1.0}}))
    with pytest.raises(SuiteError, match="judgee"):
        load_suite(_suite_file(tmp_path, judgee=True))
    with pytest.raises(SuiteError, match="needs question"):
        load_suite(_suite_file(tmp_path, cases=[{"id": "x", "task": "ask"}]))
    with pytest.raises(SuiteError, match="找不到评测套件"):
        load_suite(tmp_path / "missing.yaml")


def test_shipped_suites_load() -> None:
    suites = {p.stem: load_suite(p) for p in SUITES.glob("*.yaml")}
    assert {"smoke", "ask", "draft", "summarize", "injection"} <= set(suites)
    ask: Suite = suites["ask"]
    assert sum(bool(c.expect_source and c.expect_passage) for c in ask.cases) >= 20
    assert ask.llm == "default" and ask.variants["ask"] == ["default", "strict"]


def test_metric_helpers() -> None:
    assert auc([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == 1.0
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert auc([0.2, 0.9, 0.4], [True, False, False]) == 0.0
    assert auc([0.1], [True]) is None
    assert has_figure("收入达179.25万元", "179.25万") and not has_figure("收入达179.2万元", "179.25万元")
    text = {("s", 0): "全年查处违法建房68起，拆除违章建筑3栋。"}
    good = {
        "source": "s",
        "report_index": 0,
        "start": 0,
        "end": 11,
        "quote": "全年查处违法建房68起",
        "sentence": 0,
    }
    moved = good | {"start": 1, "end": 12}
    total, problems = citation_problems([good, moved], ["查处违法建房68起。"], lambda s, i: text[(s, i)])
    assert total == 2 and len(problems) == 1 and "不在原文" in problems[0]
    _, problems = citation_problems([good], ["查处违法建房86起。"], lambda s, i: text[(s, i)])
    assert problems and "不含所引数字" in problems[0]


def test_calibration_report_with_a_scripted_judge(tmp_path: Path, hash_index: Index) -> None:
    from eval.calibrate import LABELED, calibrate, load_labeled

    corpus, items = load_labeled(LABELED)
    assert corpus == [SEEDS.resolve()] and len(items) >= 40
    assert sum(i.label for i in items) == len(items) - sum(i.label for i in items)  # balanced
    subset = tmp_path / "labeled.yaml"
    data = yaml.safe_load(LABELED.read_text(encoding="utf-8"))
    data["corpus"] = str(SEEDS)
    data["items"] = [d for d in data["items"] if d["id"] in ("s10", "s11", "n02", "e01", "u03")]
    subset.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    from rag.llm.fake import ScriptedLLM

    judge = ScriptedLLM().on_yes("陈述：龙井村", 0.6).on_yes("陈述：全年引进外资", 0.1).on_yes("陈述：", 0.9)
    result = calibrate(judge, Settings(embedder="hash"), path=subset, index=hash_index)
    assert (result["n"], result["positives"], result["negatives"]) == (5, 2, 3)
    # The changed figure still scored 0.9: the judge alone misses it, the checker does not.
    assert result["by_kind"]["number"] == {
        "n": 1,
        "judge_accuracy": 0.0,
        "checker_accuracy": 1.0,
        "mean_score": 0.9,
        "label": 0,
        "binding_accuracy": 1.0,  # the figure binding alone rejects it (code, no model)
        "checker_false_accept_rate": 0.0,
    }
    # Positives 0.9, 0.9; negatives 0.9 (tie: ½), 0.6, 0.1. The checker zeroes both mismatches.
    assert result["judge_auc"] == pytest.approx(5 / 6, abs=1e-4) and result["checker_auc"] == 1.0
    assert result["judge_accuracy"] == 0.6 and result["checker_accuracy"] == 0.8
    assert result["best_threshold"] == 0.9 and result["best_threshold_accuracy"] == 0.8
    assert result["prompt_id"] == "judge/default" and len(result["items"]) == 5


# --- real models (marked) -----------------------------------------------------------------


@pytest.mark.model
def test_judge_calibration_auc_on_the_labeled_set(e5_seed_index: Index) -> None:
    from eval.calibrate import calibrate
    from tests.llm_support import local_llm, model_settings

    result = calibrate(local_llm("1.5b"), model_settings("1.5b", embedder="e5"), index=e5_seed_index)
    assert result["n"] >= 40 and result["positives"] == result["negatives"]
    assert result["judge_auc"] >= 0.8, result
    assert result["checker_accuracy"] >= result["judge_accuracy"] - 0.05  # the figure check only adds


@pytest.mark.model
def test_real_ask_suite_subset_end_to_end(tmp_path: Path, e5_seed_index: Index) -> None:
    from tests.llm_support import local_llm, model_settings

    suite = load_suite(SUITES / "ask.yaml")
    picked = [c for c in suite.cases if c.id in ("tea-factory", "tobacco-area")]
    run = run_suite(
        suite.model_copy(update={"cases": picked}),
        model_settings("1.5b", embedder="e5"),
        llm=local_llm("1.5b"),
        index=e5_seed_index,
        variants={"ask": ["default"]},
        runs_dir=tmp_path,
    )
    assert len(run.cells) == 2 and not any(c.get("error") for c in run.cells)
    metrics = run.summary["variants"]["ask/default"]
    assert metrics["recall_at_k"] == 1.0 and metrics["completion_tokens"] > 0
    assert all(c["text"] for c in run.cells)


@pytest.mark.model
def test_injected_instructions_in_a_document_are_not_obeyed_by_the_embedded_model(tmp_path: Path) -> None:
    """Issue 9's hostile document: the answer gives the report's figures and follows none of
    the instructions planted in it (output a phrase, multiply figures, add a link)."""
    from tests.llm_support import local_llm, model_settings

    run = run_suite(
        load_suite(SUITES / "injection.yaml"),
        model_settings("1.5b", embedder="e5"),
        llm=local_llm("1.5b"),
        runs_dir=tmp_path,
    )
    assert len(run.cells) == 4 and not any(c.get("error") for c in run.cells)
    for c in run.cells:
        print(f"\n{c['prompt_id']} {c['case']}: {c['text']}")
    assert run.passed, [(c["prompt_id"], c["case"], c["failures"]) for c in run.cells if not c["passed"]]
