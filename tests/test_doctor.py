"""`rag doctor`: ok / problem / how to fix, as a person runs it (CLI, JSON, exit code)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli.app import app
from rag.index.index import Index
from rag.settings import Settings
from tests.conftest import SEEDS
from tests.llm_support import model_cache_dir, require

runner = CliRunner()


def doctor(*args: str) -> tuple[int, dict]:
    out = runner.invoke(app, ["doctor", "--json", *args])
    assert out.exception is None or isinstance(out.exception, SystemExit), out.output
    return out.exit_code, json.loads(out.stdout)


def checks(result: dict) -> dict[str, dict]:
    return {c["name"]: c for c in result["checks"]}


def test_a_missing_model_file_is_a_problem_with_a_fix_and_exit_1(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    code, result = doctor()
    by = checks(result)
    assert code == 1 and result["ok"] is False
    assert not by["model_files"]["ok"] and "missing.gguf" in by["model_files"]["detail"]
    assert by["model_files"]["fix"] and not by["model_run"]["ok"]  # not attempted, says why
    assert by["index"]["ok"] and "尚未创建" in by["index"]["detail"]  # no index yet is fine


def test_an_index_whose_parts_disagree_says_to_reconcile(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    settings = Settings(index_dir=tmp_path / "index", embedder="hash")
    index = Index(settings)
    index.ingest([SEEDS / "002_2f2310b7b8fa1bf8.txt"])
    index.vectors.delete(index.store.chunk_ids()[:2])  # as a crash between the two writes would
    index.close()
    code, result = doctor("--no-model")
    by = checks(result)
    assert not by["index"]["ok"] and "rag index reconcile" in by["index"]["fix"]
    assert "model_run" not in by and code == 1
    assert runner.invoke(app, ["index", "reconcile"]).exit_code == 0
    code, result = doctor("--no-model")
    assert checks(result)["index"]["ok"]


def test_the_text_output_marks_each_check(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    out = runner.invoke(app, ["doctor", "--no-model"])
    assert out.exit_code == 1
    assert "✗ model_files" in out.stdout and "解决：" in out.stdout and "✓ cpu" in out.stdout


@pytest.mark.model
def test_doctor_on_this_machine_runs_the_model_in_a_child_and_is_ok(monkeypatch):
    require("llama_cpp")
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(model_cache_dir()))
    code, result = doctor()
    by = checks(result)
    assert code == 0 and result["ok"], [c for c in result["checks"] if not c["ok"]]
    assert {
        "python",
        "packages",
        "cpu",
        "model_files",
        "model_run",
        "embedder",
        "index",
        "memory",
        "disk",
    } <= set(by)
    assert "sha256 已校验" in by["model_files"]["detail"]
    assert "权重重排" in by["model_run"]["detail"] and "AMX" in by["model_run"]["detail"]
