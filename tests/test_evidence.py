"""The evidence tables (送审包) of a brief and of a draft, read back from the .docx, .xlsx and
.csv; a source named by the name the user gave it; the CLI's --evidence and draft --out."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import docx
import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from rag.brief.evidence import COLUMNS, MATCH, MISBOUND, MISSING, brief_evidence, figure_verdicts
from rag.brief.schema import Brief, Item
from rag.brief.summarize import summarize
from rag.cli.summarize import register
from rag.deliver.draft_evidence import EXEMPLAR, PLACEHOLDER_KIND, PROSE, USER_FACT, draft_evidence
from rag.documents.load import load_document
from rag.export import (
    BRIEF_EVIDENCE_TITLE,
    DRAFT_EVIDENCE_TITLE,
    to_docx,
    write_brief_evidence,
    write_draft_package,
)
from rag.grounding.figures import extract_figures
from rag.settings import Settings
from tests.conftest import SEEDS
from tests.test_summarize import SEED, EchoLLM

NAME = "乡镇述职汇编2023.txt"
_MARKER = re.compile(r"\[([^\[\]·]+)·(履职|问题|打算) (\d+)-(\d+)\]")


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed compilation at a temporary path that means nothing to a reader."""
    path = tmp_path_factory.mktemp("gradio") / "a42557382749c262hash" / "upload_0.txt"
    path.parent.mkdir()
    shutil.copyfile(SEED, path)
    return path


@pytest.fixture(scope="module")
def brief(upload: Path) -> Brief:
    return summarize(upload, EchoLLM(), Settings(), source_name=NAME)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [r.text for r in load_document(SEED).reports]


def _markers(markdown: str) -> list[tuple[str, str, int, int]]:
    """Citation markers of the Markdown in reading order; the table's markers omit the person."""
    out = []
    for line in markdown.splitlines():
        label = line.split(" | ")[0].lstrip("| ").strip() if line.startswith("| ") else None
        for m in _MARKER.finditer(line):
            out.append((m[1], m[2], int(m[3]), int(m[4])))
        if label and label not in ("职务", "---"):
            out += [
                (label, s, int(a), int(b))
                for s, a, b in re.findall(r"\[(履职|问题|打算) (\d+)-(\d+)\]", line)
            ]
    return out


def test_the_brief_names_the_upload_by_its_own_name(brief: Brief, upload: Path, tmp_path: Path) -> None:
    assert brief.source == NAME and {s.source for s in brief.reports} == {NAME}
    assert f"来源：{NAME}（5篇）" in brief.markdown
    assert str(upload.parent) not in brief.markdown and "upload_0" not in brief.markdown
    text = "\n".join(p.text for p in docx.Document(str(to_docx(brief, tmp_path / "b.docx"))).paragraphs)
    assert f"（依据{NAME}，共5篇）" in text and f"（{NAME} 第1篇" in text and "upload_0" not in text


def test_one_row_per_cited_statement_in_reading_order(brief: Brief) -> None:
    rows = brief_evidence(brief)
    cited = [r for r in rows if not r.place.endswith(("主要问题", "下步重点"))]
    assert [(r.report, r.section.split(" · ")[0], r.start, r.end) for r in cited] == _markers(brief.markdown)
    # The table's 主要问题 / 下步重点 cells carry no marker: their figure-bearing entries are rows too.
    figured = [
        (s.label, i.start) for s in brief.reports for i in (*s.problems, *s.plans) if extract_figures(i.text)
    ]
    assert [(r.report, r.start) for r in rows if r not in cited] == figured


def test_every_quote_is_the_report_span_and_every_figure_is_checked(brief: Brief, texts: list[str]) -> None:
    rows = brief_evidence(brief)
    by_label = {s.label: s for s in brief.reports}
    figure_rows = 0
    for r in rows:
        text = texts[by_label[r.report].index]
        assert text[r.start : r.end] == r.quote
        assert r.source == NAME and r.report_index == by_label[r.report].index
        if r.figures:
            figure_rows += 1
        for f in r.figures:
            assert f.verdict == MATCH and r.start <= f.start < f.end <= r.end
            assert text[f.start : f.end] == f.source_raw
    # every figure-bearing bullet of 主要做法和成效 and of the table is a row with its figures checked
    shown = sum(len(g.refs) for g in brief.themes) + sum(min(3, len(s.key_items)) for s in brief.reports)
    assert figure_rows >= shown and all(r.verdict.startswith(MATCH) for r in rows if r.figures)
    repeated = next(r for r in rows if [f.raw for f in r.figures].count("3次") == 3)
    assert len({f.start for f in repeated.figures if f.raw == "3次"}) == 3  # each its own occurrence


def test_a_changed_figure_is_reported_not_found() -> None:
    quote = "完成投资938.47万元。"
    item = Item(kind="成效", text="完成投资938.47万元", quote=quote, start=100, end=100 + len(quote))
    (ok,) = figure_verdicts("完成投资938.47万元", item)
    assert (ok.verdict, ok.start, ok.source_raw) == (MATCH, 104, "938.47万元")
    (bad,) = figure_verdicts("完成投资980万元", item)
    assert bad.verdict == MISSING and bad.start is None


def test_a_figure_given_for_another_subject_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the check reports a figure as bound to another subject, the row carries the reason."""
    from dataclasses import dataclass

    from rag.brief import evidence

    @dataclass
    class Misbound:
        figure: str

        def note(self) -> str:
            return f"{self.figure}：原文中是示范岗的数"

    quote = "党员责任区112个、示范岗220个。"
    item = Item(kind="成效", text="责任区220个", quote=quote, start=0, end=len(quote))
    (fig,) = extract_figures("责任区220个")
    verdict = type("V", (), {"refs": (), "unsupported": (fig,), "misbound": (Misbound("220个"),)})
    monkeypatch.setattr(evidence, "check", lambda *a: verdict)
    (v,) = figure_verdicts("责任区220个", item)
    assert v.verdict == MISBOUND and "示范岗" in v.text()


def test_docx_xlsx_and_csv_hold_the_same_rows(brief: Brief, texts: list[str], tmp_path: Path) -> None:
    rows = brief_evidence(brief)
    d = docx.Document(str(to_docx(brief, tmp_path / "b.docx")))
    heading = next(p for p in d.paragraphs if p.text == BRIEF_EVIDENCE_TITLE)
    assert heading.style.name == "Heading 1" and heading.paragraph_format.page_break_before
    table = d.tables[-1]
    assert [c.text for c in table.rows[0].cells][-1] == "核对" and len(table.rows) == 1 + len(rows)
    assert [r.cells[3].text for r in table.rows[1:]] == [r.quote for r in rows]
    assert all(r.cells[-1].text == "" for r in table.rows[1:])

    sheet = openpyxl.load_workbook(write_brief_evidence(brief, tmp_path / "e.xlsx"))["数据核对表"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == COLUMNS and len(values) == 1 + len(rows)
    with (write_brief_evidence(brief, tmp_path / "e.csv")).open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    by_label = {s.label: s for s in brief.reports}
    for cells, line, row in zip(values[1:], lines, rows, strict=True):
        xlsx = dict(zip(COLUMNS, ("" if v is None else str(v) for v in cells), strict=True))
        assert xlsx == line  # the .csv is the same table
        start, end = map(int, line["起止"].split("-"))
        assert texts[by_label[row.report].index][start:end] == line["原句"] == row.quote
        assert line["来源文件"].startswith(NAME) and line["核对"] == ""
        assert line["绑定结论"] == row.verdict


# ------------------------------------------------------------------------------ drafts

CITATION = {
    "n": 1,
    "sentence": 1,
    "report_title": "副乡长2023年度抓基层党建工作述职报告",
    "source": "seeds/003_a42557382749c262.txt",
    "start": 2639,
    "end": 2650,
    "quote": "工作思路不广，创新不足",
}
PLACEHOLDERS = [{"label": "排查隐患数量", "original": "45处", "kind": "exemplar_figure", "exemplar": 1}]
DRAFT_TEXT = (
    "全年开展安全生产检查26次，但排查隐患【待补充：排查隐患数量】。工作思路不广，创新不足。要加强学习。"
)


def test_draft_sentences_name_their_source_and_open_placeholders() -> None:
    ev = draft_evidence(
        DRAFT_TEXT,
        facts=["全年开展安全生产检查26次"],
        year=2024,
        citations=[CITATION],
        placeholders=PLACEHOLDERS,
    )
    assert [r.kinds for r in ev.rows] == [(USER_FACT, PLACEHOLDER_KIND), (EXEMPLAR,), (PROSE,)]
    first, second, _ = ev.rows
    assert first.figures == ("26次 = 事实1",) and first.grounds == ("事实1：全年开展安全生产检查26次",)
    assert first.placeholders == ("排查隐患数量（模型原写“45处”）",)
    assert "seeds/003_a42557382749c262.txt 2639-2650" in second.grounds[0]
    (open_,) = ev.open_placeholders
    assert (open_.label, open_.sentence, open_.original, open_.exemplar) == ("排查隐患数量", 1, "45处", 1)
    assert open_.cells(1)["填写"] == "" and first.cells(1)["核对"] == ""


def test_draft_package_docx_xlsx_csv(tmp_path: Path) -> None:
    result = {
        "text": DRAFT_TEXT,
        "request": {
            "role": "副乡长",
            "section": "存在问题",
            "year": 2024,
            "facts": ["全年开展安全生产检查26次"],
        },
        "citations": [CITATION],
        "placeholders": PLACEHOLDERS,
    }
    files = write_draft_package(result, tmp_path)
    assert files["docx"].name == "副乡长2024年述职报告（存在问题）.docx"
    d = docx.Document(str(files["docx"]))
    assert DRAFT_EVIDENCE_TITLE in [p.text for p in d.paragraphs]
    sentences, placeholders = d.tables
    assert [r.cells[1].text for r in sentences.rows[1:]] == [
        "全年开展安全生产检查26次，但排查隐患【待补充：排查隐患数量】。",
        "工作思路不广，创新不足。",
        "要加强学习。",
    ]
    assert [r.cells[1].text for r in placeholders.rows[1:]] == ["排查隐患数量"]
    book = openpyxl.load_workbook(files["xlsx"])
    assert book.sheetnames == ["起草依据", "待补充", "说明"]
    assert book["待补充"]["B2"].value == "排查隐患数量" and book["待补充"]["D2"].value == "45处"
    with files["csv"].open(encoding="utf-8-sig", newline="") as f:
        assert [row["来源类型"] for row in csv.DictReader(f)] == ["用户事实、待补充", "范文句式", "行文"]


# -------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr("rag.llm.factory.create_llm", lambda settings: EchoLLM())
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def test_cli_writes_the_evidence_table_and_names_missing_fonts(cli, tmp_path: Path) -> None:
    out = CliRunner().invoke(
        cli,
        ["summarize", str(SEED), "--out", str(tmp_path / "b.docx"), "--evidence", str(tmp_path / "e.csv")],
    )
    assert out.exit_code == 0, out.output
    assert "已写入核对表" in out.stderr and (tmp_path / "e.csv").stat().st_size > 0
    from rag.deliver.fonts import font_report

    if font_report().missing:
        assert "本机缺少字体" in out.stderr and "授权" in out.stderr
    bad = CliRunner().invoke(cli, ["summarize", str(SEED), "--evidence", str(tmp_path / "e.pdf")])
    assert bad.exit_code == 1 and ".xlsx 或 .csv" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_rag_draft_out_and_evidence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag.cli.app import app
    from rag.index.index import Index
    from rag.llm.fake import ScriptedLLM

    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    Index(Settings()).ingest([SEEDS])
    reply = "一是全年开展安全生产检查26次，但排查隐患45处，整改不够彻底。二是党员教育方式单一。"
    monkeypatch.setattr("rag.llm.factory.create_llm", lambda settings: ScriptedLLM(default=reply))
    args = [
        "draft",
        "--role",
        "副乡长",
        "--section",
        "存在问题",
        "--year",
        "2024",
        "--fact",
        "全年开展安全生产检查26次",
    ]
    out = CliRunner().invoke(
        app, [*args, "--out", str(tmp_path / "d.docx"), "--evidence", str(tmp_path / "d.xlsx")]
    )
    assert out.exit_code == 0, out.output
    # The scripted reply is written once per planned point: 45处 (not a user fact) becomes a
    # placeholder wherever it lands, and the count the CLI prints is the document's.
    shown = re.search(r"待补充 (\d+) 处", out.stderr)
    d = docx.Document(str(tmp_path / "d.docx"))
    assert d.paragraphs[0].text == "副乡长2024年述职报告（存在问题）"
    body = "\n".join(p.text for p in d.paragraphs)
    marks = body.count("【待补充") - body.count("【待补充：…】")  # the table's legend shows the form
    assert shown and int(shown[1]) == marks >= 1, (out.stderr, body)
    assert "26次" in body and "45处" not in body
    rows = list(openpyxl.load_workbook(tmp_path / "d.xlsx")["起草依据"].iter_rows(values_only=True))
    assert any("用户事实" in r[2] and "待补充" in r[2] and "45处" in (r[5] or "") for r in rows[1:]), rows
    bad = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "d.pdf")])
    assert bad.exit_code == 1 and "只能写入 .docx" in bad.stderr
