"""End to end with the real models: e5 retrieval + the embedded Qwen2.5 1.5B, via the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.index.index import Index

pytestmark = pytest.mark.model


def test_rag_ask_json_answers_tea_factory_with_cited_quote(e5_seed_index: Index) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_LLM_")}
    env["RAG_INDEX_DIR"] = str(e5_seed_index.dir)
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ask", "化眉村的茶叶加工厂有多大？", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("answer", "citations", "unsupported", "prompt_id", "prompt_hash", "model"):
        assert key in out
    assert "800平米" in out["answer"] or "800平方米" in out["answer"], out["answer"]
    assert any("800平米" in c["quote"] for c in out["citations"]), out["citations"]
    for c in out["citations"]:
        for key in ("n", "chunk_id", "report_title", "source", "quote", "start", "end"):
            assert key in c
        text = e5_seed_index.store.report_text(c["source"], c["report_index"])
        assert text[c["start"] : c["end"]] == c["quote"]
    assert out["unsupported"] == []
    assert out["model"].startswith("qwen2.5-coder-1.5b") or "1.5b" in out["model"].lower()
