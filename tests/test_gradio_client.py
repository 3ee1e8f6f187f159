"""The UI's events called the way an API client calls a Gradio app: gradio_client against a
real server on 127.0.0.1 (scripted LLM, hashed embedder)."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from gradio_client import Client

from rag.service import Service
from tests.ui_support import running_server, scripted_service

COMPILATION = "003_a42557382749c262.txt"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    service = scripted_service(tmp_path_factory.mktemp("gc"))
    with running_server(service) as url:
        yield service, Client(url, verbose=False)


def _key(service: Service, name: str) -> str:
    return next(d["source"] for d in service.documents() if d["source"].endswith(name))


def test_brief_from_reports_picked_in_the_library(served) -> None:
    service, client = served
    badge, markdown, docx_path, md_path, xlsx_path, csv_path = client.predict(
        None, [_key(service, COMPILATION)], api_name="/brief"
    )
    assert "未核实 0 个" in badge and "badge-ok" in badge
    table = markdown.split("分人情况一览")[1]
    for role in ("乡长", "副乡长", "组织部长", "宣传部长"):
        assert role in table
    assert Path(md_path).read_text(encoding="utf-8").strip() == markdown.strip()
    assert len(docx.Document(docx_path).tables[0].rows) == 1 + 5
    assert Path(xlsx_path).suffix == ".xlsx" and Path(csv_path).suffix == ".csv"


def test_an_uploaded_compilation_is_named_by_its_own_file_name(served, tmp_path: Path) -> None:
    """Gradio stores the upload at <tmp>/gradio/<hash>/<name>: the brief, its .docx and its
    evidence table name the file, never that path."""
    import csv

    from gradio_client import handle_file

    from tests.conftest import SEEDS

    _, client = served
    upload = tmp_path / "乡镇述职汇编2023.txt"
    upload.write_bytes((SEEDS / COMPILATION).read_bytes())
    badge, markdown, docx_path, _, xlsx_path, csv_path = client.predict(
        handle_file(str(upload)), [], api_name="/brief"
    )
    assert "badge-ok" in badge and "来源：乡镇述职汇编2023.txt（5篇）" in markdown
    assert "gradio" not in markdown and "gradio" not in Path(docx_path).name
    paragraphs = "\n".join(p.text for p in docx.Document(docx_path).paragraphs)
    assert "（依据乡镇述职汇编2023.txt，共5篇）" in paragraphs and "gradio" not in paragraphs
    evidence = docx.Document(docx_path).tables[-1]
    with Path(csv_path).open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert len(evidence.rows) == 1 + len(lines) and Path(xlsx_path).is_file()
    assert {line["来源文件"].rsplit(" ", 1)[0] for line in lines} == {"乡镇述职汇编2023.txt"}


def test_brief_with_nothing_chosen_or_one_report_says_what_to_do(served) -> None:
    service, client = served
    badge, _, docx_path, *_ = client.predict(None, [], api_name="/brief")
    assert "请上传汇编文件，或选择已导入的报告" in badge and docx_path is None
    single = next(d["source"] for d in service.documents() if len(d["report_list"]) == 1)
    badge, *_ = client.predict(None, [single], api_name="/brief")
    assert "只有 1 篇报告" in badge and "至少需要两篇" in badge


def test_eval_run_then_browse_and_compare_past_runs(served, tmp_path: Path) -> None:
    _, client = served
    first, page, html_path = client.predict("smoke.yaml", "", api_name="/eval_run")
    assert "通过" in first and "<table" in page and Path(html_path).is_file()
    second, *_ = client.predict("smoke.yaml", "ask=default", api_name="/eval_run")
    assert "个来自缓存" in second
    runs = sorted(Path("eval/runs").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    assert len(runs) == 2
    a, b = (p.stem for p in runs)

    text, html = client.predict(a, api_name="/eval_show")
    assert a in text and "ask/strict" in text and "<table" in html
    diff, _ = client.predict(a, b, api_name="/eval_compare")
    assert f"A = {a}" in diff and f"B = {b}" in diff and "ask/default" in diff

    missing, _ = client.predict("no-such-run", api_name="/eval_show")
    assert "找不到评测运行" in missing
    outside, _ = client.predict("../../etc/passwd", api_name="/eval_show")  # only runs_dir is read
    assert "找不到评测运行" in outside


def test_whole_report_through_the_ui_event(served) -> None:
    """The 起草 tab's 整篇报告 as an API client calls it: the last update carries the report,
    its .docx (every heading, the closing line) and the evidence files."""
    _, client = served
    facts = ("", "整改隐患37处", "", "力争新建蔬菜大棚20个")
    outline = ["存在问题", "下步打算"]
    progress, body, _, placeholders, sources, docx_path, xlsx_path, csv_path, _ = client.predict(
        "副乡长", 2024, "安全生产", "default", outline, "李四", "", *facts, api_name="/draft_report"
    )
    assert "已完成 2 个部分" in progress
    assert "<div class='placeholders'>" in placeholders and "<div class='citations'>" in sources
    assert body.index("一、存在问题") < body.index("二、下步打算") and "三、" not in body
    paragraphs = [p.text for p in docx.Document(docx_path).paragraphs if p.text.strip()]
    assert paragraphs[0] == "副乡长2024年述职报告"
    assert paragraphs.index("一、存在问题") < paragraphs.index("二、下步打算")
    assert "以上述职，不妥之处，敬请批评指正。" in paragraphs and "述职人：李四" in paragraphs
    assert Path(xlsx_path).suffix == ".xlsx" and Path(csv_path).suffix == ".csv"
    empty = client.predict(
        "副乡长", 2024, "", "default", [], "", "", "", "", "", "", api_name="/draft_report"
    )
    assert "提纲为空" in empty[0]
