"""The `rag` command contract: ingest / index info / search / remove, exit codes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli.app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBEDDER", "hash")


def test_ingest_info_search_remove(seeds_copy: Path, tmp_path: Path) -> None:
    out = runner.invoke(app, ["ingest", str(seeds_copy), "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)
    assert summary["added"] == 5 and summary["reports"] == 9 and summary["errors"] == 0

    info = json.loads(runner.invoke(app, ["index", "info", "--json"]).stdout)
    assert info["documents"] == 5 and info["reports"] == 9 and info["chunks"] == summary["chunks"]
    assert info["embedder"].startswith("hash/")
    assert info["index_dir"] == str((tmp_path / "index").resolve())

    again = json.loads(runner.invoke(app, ["ingest", str(seeds_copy), "--json"]).stdout)
    assert again["unchanged"] == 5 and again["chunks"] == 0

    out = runner.invoke(app, ["search", "茶叶加工厂", "-k", "2", "--where", "role=镇党委书记", "--json"])
    assert out.exit_code == 0, out.output
    hits = json.loads(out.stdout)
    assert len(hits) == 2 and all(h["role"] == "镇党委书记" for h in hits)

    out = runner.invoke(app, ["remove", "002_2f2310b7b8fa1bf8.txt"])
    assert out.exit_code == 0 and "已删除" in out.stdout
    info = json.loads(runner.invoke(app, ["index", "info", "--json"]).stdout)
    assert info["documents"] == 4


def test_nothing_ingestable_exits_nonzero_with_one_line_per_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    out = runner.invoke(app, ["ingest", str(bad), str(tmp_path / "nope.docx")])
    assert out.exit_code == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("错误")]
    assert len(errors) == 2
    assert "bad.txt" in errors[0] and "nope.docx" in errors[1]
    assert "Traceback" not in out.output


def test_bad_search_arguments_are_clear(seeds_copy: Path) -> None:
    runner.invoke(app, ["ingest", str(seeds_copy)])
    for args, message in [
        (["search", "问题", "-k", "0"], "-k"),
        (["search", "   "], "查询为空"),
        (["search", "问题", "--where", "role"], "key=value"),
        (["search", "问题", "--where", "year=abc"], "整数"),
        (["remove", "nothing.txt"], "没有文档"),
    ]:
        out = runner.invoke(app, args)
        assert out.exit_code == 1, args
        assert message in out.stderr and "Traceback" not in out.output


def test_index_dir_env_is_honoured_in_a_fresh_process(seeds_copy: Path, tmp_path: Path) -> None:
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "elsewhere"), "RAG_EMBEDDER": "hash"}
    cmd = [sys.executable, "-m", "rag.cli"]
    subprocess.run(
        [*cmd, "ingest", str(seeds_copy / "002_2f2310b7b8fa1bf8.txt")],
        env=env,
        check=True,
        capture_output=True,
    )
    proc = subprocess.run(
        [*cmd, "search", "化眉村茶叶加工厂", "--json", "-k", "1"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "800平米" in json.loads(proc.stdout)[0]["text"]
    assert (tmp_path / "elsewhere" / "store.sqlite").exists()
    assert not (tmp_path / "index").exists()
