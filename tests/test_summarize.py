"""Summarizing a 汇编 with a scripted model: reports and roles, figure verification and repair,
exact spans, theme grouping, Markdown and .docx export, the CLI contract, progress."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docx
import pytest
import typer
from docx.oxml.ns import qn
from typer.testing import CliRunner

from rag.brief.markdown import SECTIONS
from rag.brief.schema import Brief
from rag.brief.summarize import ProgressEvent, SummarizeError, summarize, summarize_iter
from rag.cli.summarize import register
from rag.documents.load import load_document
from rag.documents.parse import parse_text
from rag.export import to_docx, write_brief
from rag.llm.base import LLM, Completion, last_user_text
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings
from tests.conftest import SEEDS

SEED = SEEDS / "003_a42557382749c262.txt"
ROLES = ["乡长", "副乡长", "副乡长", "组织部长", "宣传部长"]
_LINE = re.compile(r"^(\d+)\. (.+)$")


class EchoLLM(LLM):
    """Answers each numbered source line with an edited copy of it: a rewrite the test controls,
    never cut by max_tokens (ScriptedLLM counts characters as tokens; echoed sources are long)."""

    model_id = "echo"

    def __init__(self, edit=lambda line: line) -> None:
        self.edit = edit
        self.calls: list[list[dict]] = []

    def _reply(self, messages: list[dict]) -> str:
        self.calls.append(messages)
        lines = [m for line in last_user_text(messages).splitlines() if (m := _LINE.match(line))]
        return "\n".join(f"{m[1]}. {self.edit(m[2])}" for m in lines)

    def _complete(self, messages, *, max_tokens, temperature, stop) -> Completion:
        text = self._reply(messages)
        return Completion(
            text, self.model_id, sum(len(m["content"]) for m in messages), len(text), 0.0, None, "stop"
        )

    def _stream(self, messages, *, max_tokens, temperature, stop):
        yield self._reply(messages)

    def _yes_probability(self, messages: list[dict]) -> float:
        return 0.5


@pytest.fixture(scope="module")
def brief() -> Brief:
    return summarize(SEED, EchoLLM(), Settings())


def _items(b: Brief):
    return [(s, i) for s in b.reports for i in (*s.items, *s.problems, *s.plans, *s.skipped)]


def test_seed_compilation_yields_five_reports_with_roles(brief: Brief) -> None:
    assert [s.role for s in brief.reports] == ROLES
    assert [s.label for s in brief.reports] == ["乡长", "副乡长甲", "副乡长乙", "组织部长", "宣传部长"]
    assert all(s.key_items and s.problems and s.plans for s in brief.reports)
    assert brief.figures_unsupported == 0 and brief.figures_checked > 50
    assert brief.prompt_id == "summarize_item/default" and len(brief.prompt_hash) == 16


def test_every_quote_is_the_exact_report_span(brief: Brief) -> None:
    texts = [r.text for r in load_document(SEED).reports]
    for s, item in _items(brief):
        assert texts[s.index][item.start : item.end] == item.quote
        for f in item.figures:
            assert item.start <= f.start < f.end <= item.end


def test_invented_figure_is_caught_and_repaired_from_the_source() -> None:
    llm = EchoLLM(edit=lambda line: line.replace("938.47万元", "1938.47万元"))
    b = summarize(SEED, llm, Settings())
    item = next(i for s in b.reports for i in s.items if "沿江污水" in i.quote)
    assert item.status == "repaired" and "1938.47" in item.note
    assert "938.47万元" in item.text and "1938.47" not in item.text
    assert any(
        f.raw == "938.47万元" and item.quote[f.start - item.start : f.end - item.start] == "938.47万元"
        for f in item.figures
    )
    assert "1938.47" not in b.markdown
    assert b.rewrite_figures_unsupported == 1 and b.items_repaired == 1 and b.figures_unsupported == 0


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda line: line.replace("200余亩", "200亩"), "200亩"),  # approximation dropped
        (lambda line: line.replace("贝贝瓜120亩", "贝贝瓜120余亩"), "120余亩"),  # approximation added
        (lambda line: re.sub(r"\d", "", line) if "200余亩" in line else line, "全部数据"),  # figures lost
    ],
)
def test_changed_or_lost_figures_are_never_shipped(edit, reason: str) -> None:
    b = summarize(SEED, EchoLLM(edit=edit), Settings())
    item = next(i for s in b.reports for i in s.items if "200余亩" in i.quote and i.key)
    assert item.status == "repaired" and reason in item.note
    assert "200余亩" in item.text


def test_shifted_answers_are_not_pinned_on_the_wrong_item() -> None:
    class Shifted(EchoLLM):  # answers line n with line n+1: the small model skipped a number
        def _reply(self, messages: list[dict]) -> str:
            lines = super()._reply(messages).splitlines()
            return "\n".join(f"{n}. {line.split('. ', 1)[1]}" for n, line in enumerate(lines[1:], 1))

    b = summarize(SEED, Shifted(), Settings())
    assert all(i.status == "source" for s in b.reports for i in s.key_items)
    assert b.rewrite_figures_unsupported == 0 and b.figures_unsupported == 0


def test_a_reply_cut_by_max_tokens_loses_only_its_last_line() -> None:
    long = "\n".join(f"{n}. 共完成沿江污水治理项目2个，完成投资938.47万元" for n in range(1, 6)) * 3
    b = summarize(SEED, ScriptedLLM(default=long), Settings())  # every reply is cut (finish "length")
    assert b.figures_unsupported == 0
    assert all(i.status != "condensed" for s in b.reports for i in s.key_items if "沿江污水" not in i.quote)


def test_only_long_key_items_go_to_the_model_and_keep_their_figures(brief: Brief) -> None:
    key = [i for s in brief.reports for i in s.key_items]
    condensed = [i for i in key if i.status == "condensed"]
    assert condensed and all(i.figures and "【" not in i.text for i in condensed)  # echoed hints stripped
    assert {i.status for i in key if i not in condensed} == {"source"}
    assert all(len(i.text) <= 40 for i in key if i.status == "source")  # already bullet-short


def test_markdown_has_sections_citations_and_table(brief: Brief) -> None:
    md = brief.markdown
    for heading in ("总体情况", "主要做法和成效", "共性问题", "下步工作建议"):
        assert re.search(rf"^## .*{heading}", md, re.M), heading
    assert "| 职务 | 主要成效与数据 | 主要问题 | 下步重点 |" in md
    body = md.split("## 附")[0]
    bullets = [line for line in body.splitlines() if line.startswith("- ") and "·" in line]
    assert bullets and all(re.search(r"\[[^\]·]+·(履职|问题|打算) \d+-\d+\]", b) for b in bullets)
    theme_heads = re.findall(r"^### （.）(.+)$", md, re.M)
    assert len(theme_heads) >= 3 and "乡长" not in "".join(theme_heads)  # by theme, not by person


def test_problems_shared_by_several_people_come_first(brief: Brief) -> None:
    assert len(brief.problems[0].reports) >= 2
    assert [len(g.reports) for g in brief.problems] == sorted(
        (len(g.reports) for g in brief.problems), reverse=True
    )


def test_docx_opens_with_title_headings_table_and_fonts(brief: Brief, tmp_path: Path) -> None:
    path = to_docx(brief, tmp_path / "brief.docx")
    d = docx.Document(str(path))
    title = d.paragraphs[0]
    assert title.text == brief.title and title.alignment == 1
    fonts = title.runs[0]._r.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    headings = [p.text for p in d.paragraphs if p.style.name == "Heading 1"]
    assert headings[: len(SECTIONS)] == list(SECTIONS)
    table = d.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["职务", "主要成效与数据", "主要问题", "下步重点"]
    assert [r.cells[0].text for r in table.rows[1:]] == [s.label for s in brief.reports]
    assert "938.47万元" in "".join(c.text for r in table.rows for c in r.cells)


def test_write_brief_by_extension(brief: Brief, tmp_path: Path) -> None:
    assert write_brief(brief, tmp_path / "b.md").read_text(encoding="utf-8") == brief.markdown
    with pytest.raises(ValueError, match=r"\.docx 或 \.md"):
        write_brief(brief, tmp_path / "b.pdf")


def test_redacted_figures_are_skipped_and_names_never_shown() -> None:
    text = (
        "篇1：乡长2023年度述职报告\n一、履职情况\n投入资金**万元，新建广场2个。在X村建成示范点3个，带动农户120户。\n"
        "二、存在问题\n一是创新不足。\n三、下步打算\n一是加强学习。\n"
        "篇2：副乡长2023年度述职报告\n一、履职情况\n完成种植5.27万亩。\n二、存在问题\n一是创新不足。\n"
        "三、下步打算\n一是加强学习。\n"
    )
    reports = parse_text(text, source="mem.txt").reports
    b = summarize(reports, EchoLLM(), Settings())
    first = b.reports[0]
    # Only the clause whose figure is redacted is skipped; the rest of the sentence still counts.
    assert [i.quote for i in first.skipped] == ["投入资金**万元"]
    assert any(i.quote == "新建广场2个。" for i in first.items)
    shown = next(i for i in first.items if "示范点" in i.quote)
    assert shown.redacted and "某村" in shown.text and "X" not in shown.text
    assert "投入资金" not in b.markdown and "X村" not in b.markdown and "某村" in b.markdown
    assert any("隐去" in a for a in b.attention)


def test_not_a_compilation_is_a_clear_error(tmp_path: Path) -> None:
    single = tmp_path / "one.txt"
    single.write_text("乡长2023年度述职报告\n一、履职情况\n完成种植5.27万亩。\n", encoding="utf-8")
    with pytest.raises(SummarizeError, match="不是汇编"):
        summarize(single, EchoLLM(), Settings())


def test_long_reports_are_condensed_in_several_calls() -> None:
    llm = EchoLLM()
    # tiny context (≤ 300 chars per call), and every item over 10 characters is condensed
    b = summarize(SEED, llm, Settings(n_ctx=900), max_items=12, condense_over=10)
    assert len(llm.calls) > len(b.reports)
    assert any(s.calls > 1 for s in b.reports)
    assert b.figures_unsupported == 0
    assert sum(len(s.key_items) for s in b.reports) == sum(min(12, len(s.items)) for s in b.reports)


def test_concurrent_map_gives_the_same_brief(brief: Brief) -> None:
    parallel = summarize(SEED, EchoLLM(), Settings(), concurrency=4)
    assert parallel.timing["workers"] == 4

    def without_source(b: Brief) -> str:  # the two runs read the file by different paths
        return b.markdown.replace(b.source.replace("_", "\\_"), "").replace(b.source, "")

    assert without_source(parallel) == without_source(brief)


def test_local_model_is_never_called_concurrently() -> None:
    from rag.brief.map import workers
    from rag.llm.local import LocalLlamaLLM

    assert workers(LocalLlamaLLM(Settings()), 4) == 1  # constructing it does not load the model


def test_progress_per_report_and_iter_events() -> None:
    seen: list[tuple[str, int, int]] = []
    summarize(SEED, EchoLLM(), Settings(), progress=lambda *a: seen.append(a))
    reports = [d for stage, d, t in seen if stage == "reports"]
    assert reports == sorted(reports) and reports[-1] == 5 and seen[-1] == ("reduce", 1, 1)
    events = list(summarize_iter(SEED, EchoLLM(), Settings()))
    assert isinstance(events[-1], Brief)
    assert [e.done for e in events[:-1] if isinstance(e, ProgressEvent) and e.stage == "reports"][-1] == 5


def test_terse_variant_is_recorded(brief: Brief) -> None:
    b = summarize(SEED, EchoLLM(), Settings(), variant="terse")
    assert b.prompt_id == "summarize_item/terse" and b.prompt_hash != brief.prompt_hash


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr("rag.llm.factory.create_llm", lambda settings: EchoLLM())
    app = typer.Typer()
    app.callback()(lambda: None)  # a group, as in rag/cli/app.py
    register(app)
    return app


def test_cli_json_and_docx(cli: typer.Typer, tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["summarize", str(SEED), "--json", "--out", str(tmp_path / "b.docx")])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    for key in (
        "brief_markdown",
        "reports",
        "figures_checked",
        "figures_unsupported",
        "prompt_id",
        "prompt_hash",
        "model",
    ):
        assert key in data
    assert [r["role"] for r in data["reports"]] == ROLES and data["figures_unsupported"] == 0
    item = data["reports"][0]["items"][0]
    assert {"text", "figures", "quote", "start", "end"} <= set(item)
    assert docx.Document(str(tmp_path / "b.docx")).tables


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.txt", None, "不存在"),
        ("one.txt", "乡长2023年度述职报告\n一、履职情况\n完成种植5.27万亩。\n".encode(), "不是汇编"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "损坏"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_1(cli, tmp_path: Path, name: str, content, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = CliRunner().invoke(cli, ["summarize", str(path)])
    assert out.exit_code == 1
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("错误") and message in lines[0]
    assert "Traceback" not in out.output


def test_cli_rejects_unknown_output_format(cli, tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["summarize", str(SEED), "--out", str(tmp_path / "b.pdf")])
    assert out.exit_code == 1 and ".docx 或 .md" in out.stderr


def test_cli_indexed_reports_make_the_same_brief_as_the_file(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.index.index import Index

    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    Index(Settings()).ingest([SEEDS])
    from_index = CliRunner().invoke(cli, ["summarize", "--indexed", SEED.name, "--json"])
    assert from_index.exit_code == 0, from_index.output
    from_file = CliRunner().invoke(cli, ["summarize", str(SEED), "--json"])
    a, b = json.loads(from_index.stdout), json.loads(from_file.stdout)
    assert [r["role"] for r in a["reports"]] == ROLES and a["figures_unsupported"] == 0
    assert [[i["quote"] for i in r["items"]] for r in a["reports"]] == [
        [i["quote"] for i in r["items"]] for r in b["reports"]
    ]

    for args, message in (
        (["summarize"], "二者选一"),
        (["summarize", str(SEED), "--indexed", SEED.name], "二者选一"),
        (["summarize", "--indexed", "nope.txt"], "索引中没有文档"),
    ):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 1 and message in out.stderr and "Traceback" not in out.output
