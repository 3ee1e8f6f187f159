"""`rag summarize` on the seed 汇编 with the real embedded model (Qwen2.5-Coder 1.5B, llama.cpp).

No endpoint is configured, so create_llm(Settings()) gives the local model. The brief must
cover all five people and ship no unsupported figure. Wall time is printed (-s), not asserted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import docx
import pytest
import typer
from typer.testing import CliRunner

from rag.cli.summarize import register
from rag.documents.load import load_document
from tests.conftest import SEEDS
from tests.llm_support import model_cache_dir, require

pytestmark = pytest.mark.model

SEED = SEEDS / "003_a42557382749c262.txt"
ROLES = ["乡长", "副乡长", "副乡长", "组织部长", "宣传部长"]


def test_rag_summarize_seed_compilation_with_the_embedded_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("llama_cpp")
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(model_cache_dir()))  # the GGUF joined once per machine
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    start = time.perf_counter()
    out = CliRunner().invoke(app, ["summarize", str(SEED), "--json", "--out", str(tmp_path / "brief.docx")])
    wall = time.perf_counter() - start
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)

    assert data["model"].startswith("local:qwen2.5-coder-1.5b")
    assert data["figures_unsupported"] == 0 and data["figures_checked"] > 0
    assert [r["role"] for r in data["reports"]] == ROLES
    table = data["brief_markdown"].split("分人情况一览")[1]
    assert all(f"| {r['label']} |" in table for r in data["reports"])  # all five people covered

    texts = [r.text for r in load_document(SEED).reports]
    condensed = 0
    for report in data["reports"]:
        assert any(i["key"] for i in report["items"]), report["label"]
        for item in report["items"]:
            assert texts[report["index"]][item["start"] : item["end"]] == item["quote"]
            condensed += item["status"] == "condensed"
    rows = docx.Document(str(tmp_path / "brief.docx")).tables[0].rows
    assert len(rows) == 1 + len(ROLES)
    timing = data["timing"]
    print(
        f"\nsummarize (1.5B): wall {wall:.1f}s, model calls {timing['calls']}, "
        f"prompt/completion tokens {timing['prompt_tokens']}/{timing['completion_tokens']}, "
        f"condensed {condensed}, repaired {data['items_repaired']}, "
        f"rewrite figures unsupported {data['rewrite_figures_unsupported']}"
    )
