"""Whole reports (rag/drafting/report.py): every section of the outline in order with its own
facts, the closing line, the .docx with every heading and the evidence of every section, the
facts file of `rag draft --whole`, and POST /api/draft/report. Scripted model: plumbing, fast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.drafting.report import (
    CANONICAL_SECTIONS,
    DEFAULT_CLOSING,
    ReportRequest,
    ReportResult,
    SectionPlan,
    SectionStarted,
    draft_report,
    load_facts_file,
    ordered_outline,
    report_stream,
    section_body,
)
from rag.drafting.section import DraftError
from rag.index.index import Index
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings
from tests.conftest import SEEDS

REPLY = "一是理论学习不够深入，学用结合不紧。二是工作方法创新不足。"
FACTS = {
    "履职情况": ["全年组织党员集中学习12次"],
    "存在问题": ["全年开展安全检查14次", "整改隐患37处"],
    "下步打算": ["力争新建蔬菜大棚20个"],
}


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    index = Index(Settings(index_dir=tmp_path_factory.mktemp("report") / "index", embedder="hash"))
    index.ingest([SEEDS])
    return index


def _request(**kw) -> ReportRequest:
    return ReportRequest(role="副乡长", year=2024, sections=ordered_outline(None, FACTS), **kw)


def _docx_paragraphs(path: Path) -> list[tuple[str, str]]:
    import docx

    return [(p.style.name, p.text) for p in docx.Document(str(path)).paragraphs if p.text.strip()]


def test_sections_in_order_each_with_its_own_facts_then_the_closing(seed_index: Index) -> None:
    llm = ScriptedLLM(default=REPLY)
    events = list(report_stream(seed_index, llm, _request()))
    started = [e for e in events if isinstance(e, SectionStarted)]
    assert [e.section for e in started] == list(CANONICAL_SECTIONS)
    assert [e.heading for e in started] == ["一、履职情况", "二、存在问题", "三、原因分析", "四、下步打算"]
    # Each section's result follows its own start, in order; the report comes last.
    kinds = [type(e).__name__ for e in events if not isinstance(e, str)]
    assert kinds == ["SectionStarted", "DraftResult"] * 4 + ["ReportResult"]
    report = events[-1]
    assert isinstance(report, ReportResult)
    for result, section in zip(report.sections, CANONICAL_SECTIONS, strict=True):
        assert result.request.section == section
        assert result.request.facts == tuple(FACTS.get(section, ()))
        assert result.request.role == "副乡长" and result.request.year == 2024

    text = report.text
    lines = text.splitlines()
    positions = [lines.index(h) for h in ("一、履职情况", "二、存在问题", "三、原因分析", "四、下步打算")]
    assert positions == sorted(positions)
    assert lines[-2:] == [DEFAULT_CLOSING, "述职人：【待补充：述职人姓名】"]
    assert report.title == "副乡长2024年述职报告"
    data = report.to_json()
    assert [s["section"] for s in data["sections"]] == list(CANONICAL_SECTIONS)
    assert data["placeholders"][-1]["section"] == "结尾"  # the signature is still open
    json.dumps(data, ensure_ascii=False)  # the API's and the CLI's --json shape


def test_each_section_prompt_carries_only_that_sections_facts(seed_index: Index) -> None:
    llm = ScriptedLLM(default=REPLY)
    calls_at: list[int] = []
    for event in report_stream(seed_index, llm, _request()):
        if isinstance(event, SectionStarted | ReportResult):
            calls_at.append(len(llm.calls))
    for n, section in enumerate(CANONICAL_SECTIONS):
        prompts = "\n".join(m["content"] for call in llm.calls[calls_at[n] : calls_at[n + 1]] for m in call)
        assert prompts, f"no model call for {section}"
        assert all(f in prompts for f in FACTS.get(section, ()))
        others = [f for s, fs in FACTS.items() if s != section for f in fs]
        assert not any(f in prompts for f in others), section


def test_a_figure_of_another_section_becomes_a_placeholder(seed_index: Index) -> None:
    """Facts are per section: 14次 is the 存在问题 fact and is no evidence for 原因分析."""
    llm = ScriptedLLM(default="一是安全意识不强，全年开展安全检查14次。")
    report = draft_report(seed_index, llm, _request(name="张三"))
    bodies = dict(zip(CANONICAL_SECTIONS, report.bodies(), strict=True))
    assert "14次" in bodies["存在问题"]
    assert "14次" not in bodies["原因分析"] and "【待补充" in bodies["原因分析"]
    assert report.text.splitlines()[-1] == "述职人：张三"
    assert all(p["section"] != "结尾" for p in report.to_json()["placeholders"])


def test_facts_unused_and_citations_are_gathered_per_section_once_each(seed_index: Index) -> None:
    from dataclasses import replace

    report = draft_report(seed_index, ScriptedLLM(default=REPLY), _request())
    sections = list(report.sections)
    sections[1] = replace(sections[1], facts_unused=("整改隐患37处",))  # as the engine reports it
    data = replace(report, sections=tuple(sections)).to_json()
    assert data["facts_unused"] == [{"section": "存在问题", "fact": "整改隐患37处"}]
    assert data["sections"][1]["facts_unused"] == ["整改隐患37处"]

    def span(c: dict) -> tuple:
        return c["source"], c["report_index"], c["start"], c["end"]

    per_section = [(s["section"], span(c)) for s in data["sections"] for c in s["citations"]]
    assert per_section, "the scripted reply reuses exemplar phrasing: there is something to cite"
    combined = {span(c): c for c in data["citations"]}
    assert len(combined) == len(data["citations"]) == len({sp for _, sp in per_section})  # each span once
    for section, sp in per_section:
        assert section in combined[sp]["sections"]
    by_report = {(c["source"], c["report_index"]): c["n"] for c in data["citations"]}
    assert sorted(set(by_report.values())) == list(range(1, len(by_report) + 1))  # one number per exemplar


def test_docx_has_every_heading_the_closing_and_evidence_of_every_section(
    seed_index: Index, tmp_path: Path
) -> None:
    from rag.export import write_report_package

    report = draft_report(seed_index, ScriptedLLM(default=REPLY), _request())
    files = write_report_package(report.to_json(), tmp_path)
    paragraphs = _docx_paragraphs(files["docx"])
    texts = [t for _, t in paragraphs]
    assert texts[0] == "副乡长2024年述职报告"
    for h in ("一、履职情况", "二、存在问题", "三、原因分析", "四、下步打算"):
        assert ("Heading 1", h) in paragraphs
    assert DEFAULT_CLOSING in texts and "述职人：【待补充：述职人姓名】" in texts
    assert texts.index(DEFAULT_CLOSING) > texts.index("四、下步打算")
    import docx

    tables = docx.Document(str(files["docx"])).tables
    header = [c.text for c in tables[0].rows[0].cells]
    assert header[:3] == ["序号", "部分", "草稿句子"]
    parts = {row.cells[1].text for row in tables[0].rows[1:]}
    assert parts == set(CANONICAL_SECTIONS)  # every section's sentences are in the evidence
    csv_text = files["csv"].read_text(encoding="utf-8-sig")
    assert all(s in csv_text for s in CANONICAL_SECTIONS)


def test_section_body_drops_a_repeated_heading_and_demotes_level_one_lines() -> None:
    assert section_body("二、存在问题\n一是学习不够。", "存在问题") == "一是学习不够。"
    assert section_body("存在的问题：\n一是学习不够。", "存在问题") == "一是学习不够。"
    assert section_body("一、学习不够深入\n内容。", "存在问题") == "（一）学习不够深入\n内容。"


def test_bad_outlines_are_clear_errors_before_any_model_call(seed_index: Index) -> None:
    llm = ScriptedLLM(default=REPLY)
    bad = [
        (ReportRequest(role="副乡长", sections=()), "提纲为空"),
        (ReportRequest(role="", sections=(SectionPlan("存在问题"),)), "请填写职务"),
        (ReportRequest(role="副乡长", sections=(SectionPlan("存在问题"), SectionPlan("问题"))), "同一部分"),
        (ReportRequest(role="副乡长", sections=(SectionPlan("花絮"),)), "不认识的部分"),
    ]
    for req, message in bad:
        with pytest.raises(DraftError, match=message):
            list(report_stream(seed_index, llm, req))
    assert llm.calls == []
    with pytest.raises(DraftError, match="提纲里没有这一部分"):
        ordered_outline(["履职情况", "存在问题"], {"下步打算": ["新建大棚20个"]})


def test_facts_files_in_lines_yaml_and_json(tmp_path: Path) -> None:
    lines = tmp_path / "facts.txt"
    lines.write_text(
        "# 我的事实\n存在问题：全年开展安全检查14次\n存在问题: 整改隐患37处\n\n下步打算：投资：1200万元\n",
        encoding="utf-8",
    )
    facts, topics = load_facts_file(lines)
    assert facts == {"存在问题": ["全年开展安全检查14次", "整改隐患37处"], "下步打算": ["投资：1200万元"]}
    yaml_file = tmp_path / "facts.yaml"
    yaml_file.write_text(
        "履职情况:\n  - 全年组织党员集中学习12次\n存在问题:\n  facts: [整改隐患37处]\n  topic: 安全生产\n",
        encoding="utf-8",
    )
    facts, topics = load_facts_file(yaml_file)
    assert facts == {"履职情况": ["全年组织党员集中学习12次"], "存在问题": ["整改隐患37处"]}
    plans = ordered_outline(None, facts, topics)
    assert [(p.section, p.facts, p.topic) for p in plans][:2] == [
        ("履职情况", ("全年组织党员集中学习12次",), ""),
        ("存在问题", ("整改隐患37处",), "安全生产"),
    ]
    json_file = tmp_path / "facts.json"
    json_file.write_text(json.dumps({"问题": "整改隐患37处"}, ensure_ascii=False), encoding="utf-8")
    assert ordered_outline(None, load_facts_file(json_file)[0])[1].facts == ("整改隐患37处",)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("f.txt", "全年开展安全检查14次\n", "第1行"),
        ("f.txt", "存在问题：a\n花絮：b\n", "第2行"),
        ("f.yaml", "存在问题: [a\n", "不是有效的 YAML"),
        ("f.yaml", "- 整改隐患37处\n", "映射"),
        ("f.yaml", "花絮: [a]\n", "不是已知部分"),
        ("f.yaml", "存在问题: {facts: {a: 1}}\n", "文字列表"),
        ("f.json", "{存在问题", "不是有效的 JSON"),
    ],
)
def test_bad_facts_files_say_which_file_and_what_is_wrong(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DraftError, match=message) as info:
        load_facts_file(path)
    assert str(path) in str(info.value)


def test_unreadable_facts_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("存在问题：整改隐患37处".encode("gbk"))
    with pytest.raises(DraftError, match="UTF-8"):
        load_facts_file(path)
    with pytest.raises(DraftError, match="无法读取"):
        load_facts_file(tmp_path / "missing.txt")


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from rag.cli.app import app

    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    Index(Settings()).ingest([SEEDS])
    llm = ScriptedLLM(default=REPLY)
    monkeypatch.setattr("rag.llm.factory.create_llm", lambda settings: llm)
    return app, llm


def test_cli_whole_report_with_a_facts_file_and_docx(cli, tmp_path: Path) -> None:
    app, _ = cli
    facts = tmp_path / "facts.txt"
    facts.write_text("存在问题：整改隐患37处\n下步打算：力争新建蔬菜大棚20个\n", encoding="utf-8")
    out = tmp_path / "报告.docx"
    args = ["draft", "--whole", "--role", "副乡长", "--year", "2024", "--facts-file", str(facts)]
    result = CliRunner().invoke(app, [*args, "--name", "李四", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [s["section"] for s in data["sections"]] == list(CANONICAL_SECTIONS)
    assert data["sections"][1]["request"]["facts"] == ["整改隐患37处"]
    assert data["text"].endswith(f"{DEFAULT_CLOSING}\n述职人：李四")
    assert ("Heading 1", "四、下步打算") in _docx_paragraphs(out)

    plain = CliRunner().invoke(app, [*args, "--sections", "存在问题,下步打算"])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.startswith("副乡长2024年述职报告\n一、存在问题\n")
    assert "二、下步打算" in plain.stdout and "三、" not in plain.stdout
    assert "结尾：述职人姓名" in plain.stdout  # the open signature is listed


def test_cli_whole_report_bad_facts_file_is_one_clear_line(cli, tmp_path: Path) -> None:
    app, llm = cli
    facts = tmp_path / "facts.txt"
    facts.write_text("整改隐患37处\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["draft", "--whole", "--role", "副乡长", "--facts-file", str(facts)])
    assert result.exit_code != 0
    assert "第1行" in result.stderr and str(facts) in result.stderr and "部分：事实" in result.stderr
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(
        app,
        [
            "draft",
            "--whole",
            "--role",
            "副乡长",
            "--sections",
            "存在问题",
            "--fact",
            "下步打算：新建大棚20个",
        ],
    )
    assert missing.exit_code != 0 and "提纲里没有这一部分" in missing.stderr
    assert llm.calls == []


# ------------------------------------------------------------------------------ API


def test_api_whole_report_sse_and_json_with_downloads(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from tests.ui_support import scripted_service
    from ui.app import create_app

    service = scripted_service(tmp_path)
    client = TestClient(create_app(service.settings, service))
    body = {
        "role": "副乡长",
        "year": 2024,
        "sections": [{"section": "存在问题", "facts": ["整改隐患37处"]}, {"section": "下步打算"}],
    }
    with client.stream("POST", "/api/draft/report", json=body) as r:
        assert r.status_code == 200
        stream = "".join(r.iter_text())
    events = [block.split("\n", 1)[0].removeprefix("event: ") for block in stream.strip().split("\n\n")]
    assert events[0] == "section" and events[-1] == "result"
    assert events.count("section") == 2 and events.count("section_result") == 2 and "token" in events
    result = json.loads(stream.strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert [s["heading"] for s in result["sections"]] == ["一、存在问题", "二、下步打算"]
    docx_url = result["downloads"]["docx"]
    assert client.get(docx_url).status_code == 200

    data = client.post("/api/draft/report", json={**body, "stream": False, "name": "王五"}).json()
    assert data["text"].endswith("述职人：王五")
    again = client.post("/api/draft/report/export", json={**data, "format": "json"}).json()
    assert set(again["downloads"]) == {"docx", "xlsx", "csv"}
    bad = client.post("/api/draft/report", json={"role": "副乡长", "sections": [{"section": "花絮"}]})
    assert bad.status_code == 400 and "不认识的部分" in bad.json()["error"]


# ------------------------------------------------------------------------ real model


@pytest.mark.model
def test_rag_draft_whole_on_the_embedded_model(e5_seed_index: Index, tmp_path: Path) -> None:
    """Two short sections with the embedded 1.5B via the CLI: in order, each with its own
    facts written or reported unused, the closing line, the .docx. Wall time printed only."""
    import os
    import subprocess
    import sys
    import time

    from rag.grounding.draft_guard import PLACEHOLDER
    from rag.grounding.figures import extract_figures, find_figure
    from tests.llm_support import model_cache_dir, require

    require("llama_cpp")
    facts = tmp_path / "facts.yaml"
    facts.write_text("存在问题: [全年开展安全检查14次]\n下步打算: [力争新建蔬菜大棚20个]\n", encoding="utf-8")
    out = tmp_path / "报告.docx"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_LLM_")}
    env |= {"RAG_INDEX_DIR": str(e5_seed_index.dir), "RAG_MODEL_CACHE_DIR": str(model_cache_dir())}
    cmd = ["draft", "--whole", "--role", "副乡长", "--year", "2024", "--topic", "安全生产"]
    cmd += ["--sections", "存在问题,下步打算", "--facts-file", str(facts), "--length", "200"]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", *cmd, "-o", str(out), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    print(f"\nwhole report (1.5B, 2 sections): wall {wall:.1f}s, timing {data['timing']}\n{data['text']}")
    assert [s["heading"] for s in data["sections"]] == ["一、存在问题", "二、下步打算"]
    assert data["text"].splitlines()[-2] == DEFAULT_CLOSING
    given = {"存在问题": "全年开展安全检查14次", "下步打算": "力争新建蔬菜大棚20个"}
    for s in data["sections"]:
        fact = given[s["section"]]
        assert s["request"]["facts"] == [fact]
        # Never silently dropped: its figure is in the section, or the fact is reported unused.
        figure = extract_figures(fact)[0]
        assert find_figure(figure, s["body"]) is not None or fact in s["facts_unused"], s["body"]
        # Figures outside placeholders come from this section's own fact (or the year).
        for fig in extract_figures(PLACEHOLDER.sub("", s["body"])):
            assert find_figure(fig, f"{fact} 2024年") is not None, (s["section"], fig.raw)
    assert ("Heading 1", "二、下步打算") in _docx_paragraphs(out)
