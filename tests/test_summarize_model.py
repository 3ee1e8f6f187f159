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
# Key results of the five reports (amounts, areas, yields, counts that a leader asks about).
KEY_FIGURES = (
    "14个", "2210万元", "3.6km", "800棵", "938.47万元", "16.46km", "3325.458担", "69.73％", "433.95万元",
    "1.28万担", "71.06％", "728个", "3647.94亩", "5.27万亩", "1.52万吨", "270亩", "9.8万元", "16.2万元",
    "21人", "14名", "300余户", "5000余份", "36户", "5名", "12个", "200余篇", "30次",
)  # fmt: skip


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
    present = [f for f in KEY_FIGURES if f in data["brief_markdown"]]
    assert len(present) >= 17, present

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


# Five fixture reports in real-world styles (speech with site noise, 繁體, one line with ASCII
# punctuation, sections only by wording, a long speech), joined into one 汇编.
FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "reports"
FIXTURE_FILES = (
    "r01_speech_grain_bureau.txt",
    "r03_traditional_township_secretary.txt",
    "r13_one_line_forestry_deputy_director.txt",
    "r15_township_head_implicit_rural_revitalization.txt",
    "r26_long_speech_town_mayor_bracket.txt",
)


def test_brief_of_real_style_reports_lists_only_achievements(tmp_path: Path, monkeypatch) -> None:
    import yaml

    from rag.brief.summarize import summarize
    from rag.llm.factory import create_llm
    from rag.settings import Settings

    require("llama_cpp")
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(model_cache_dir()))
    expected = {e["file"]: e for e in yaml.safe_load((FIXTURE_DIR / "expected.yaml").read_text("utf-8"))}
    compilation = tmp_path / "汇编.txt"
    compilation.write_text(
        "\n\n".join((FIXTURE_DIR / f).read_text(encoding="utf-8").strip() for f in FIXTURE_FILES) + "\n",
        encoding="utf-8",
    )
    settings = Settings()
    start = time.perf_counter()
    brief = summarize(compilation, create_llm(settings), settings)
    wall = time.perf_counter() - start

    assert len(brief.reports) == len(FIXTURE_FILES)
    assert brief.figures_unsupported == 0
    for report, name in zip(brief.reports, FIXTURE_FILES, strict=True):
        want = expected[name]
        assert report.role == want["role"] and not report.label.startswith("第"), report.label
        shown = [i for i in report.items if i.key]
        assert shown, name
        for item in report.items:
            assert item.figures, item.quote  # every item is an achievement with its figure
            for junk in want["junk"]:
                if junk in item.quote:
                    assert item.tentative, (name, junk, item.quote)  # only a flagged forecast
        # Every key achievement is among the report's items (the JSON), and the brief itself
        # (five bullets a person at most, one per topic) shows several of them.
        quotes = [i.quote for i in report.items]
        assert all(any(a["figure"] in q for q in quotes) for a in want["achievements"]), name
        in_brief = [a for a in want["achievements"] if a["figure"] in brief.markdown]
        assert len(in_brief) >= 2, (name, [a["text"] for a in want["achievements"]])
    print(f"\nfixture 汇编 brief (1.5B): wall {wall:.1f}s, calls {brief.timing['calls']}")
