"""The REST API with FastAPI's client (scripted LLM, hashed embedder) and over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.ui_support import running_server, scripted_service
from ui.app import create_app


@pytest.fixture
def service(tmp_path: Path):
    return scripted_service(tmp_path)


@pytest.fixture
def client(service) -> TestClient:
    return TestClient(create_app(service.settings, service))


def test_health_and_documents(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["documents"] == 5 and health["reports"] == 9 and "llama.cpp" in health["llm"]
    docs = client.get("/api/documents").json()
    assert len(docs) == 5 and sum(len(d["report_list"]) for d in docs) == 9


def test_search_matches_cli_shape(client: TestClient) -> None:
    hits = client.post(
        "/api/search", json={"query": "茶叶加工厂", "k": 3, "where": {"role": "镇党委书记"}}
    ).json()
    assert len(hits) == 3
    for key in (
        "chunk_id",
        "text",
        "score",
        "source",
        "report_title",
        "year",
        "role",
        "section",
        "start",
        "end",
    ):
        assert key in hits[0]
    assert all(h["role"] == "镇党委书记" for h in hits)


def test_ask_json_has_citations_with_exact_quotes(client: TestClient, service) -> None:
    out = client.post(
        "/api/ask", json={"question": "化眉村茶叶加工厂多大", "where": {"role": "镇党委书记"}}
    ).json()
    assert "800平米" in out["answer"] and out["unsupported"] == []
    for c in out["citations"]:
        assert (
            service.index.store.report_text(c["source"], c["report_index"])[c["start"] : c["end"]]
            == c["quote"]
        )


def test_draft_streams_sse_tokens_then_guarded_result(client: TestClient) -> None:
    body = {"role": "副乡长", "section": "存在问题", "facts": ["安全生产检查26次"]}
    with client.stream("POST", "/api/draft", json=body) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line.startswith("event: ")]
        r.close()
    assert events.count("event: token") >= 3 and events[-1] == "event: result"
    out = client.post("/api/draft", json={**body, "stream": False}).json()
    assert "26次" in out["text"] and "45处" not in out["text"]
    assert out["placeholders"][0]["original"] == "45处"


def test_bad_requests_get_clear_errors(client: TestClient) -> None:
    assert client.post("/api/search", json={"query": ""}).json() == {"error": "查询为空：请输入要检索的内容"}
    r = client.post("/api/search", json={"query": "x", "where": {"colour": "red"}})
    assert r.status_code == 400 and "不支持的过滤字段" in r.json()["error"]
    r = client.post("/api/draft", json={"role": "乡长", "section": "花絮", "stream": False})
    assert r.status_code == 400 and "不认识的部分" in r.json()["error"]
    r = client.delete("/api/documents/nothing.txt")
    assert r.status_code == 404 and "没有文档" in r.json()["error"]


def test_upload_sanitizes_names_and_rejects_bad_types(client: TestClient, service) -> None:
    report = "乡长2023年述职报告\n一、履职情况\n全年开展检查5次。\n".encode()
    r = client.post("/api/ingest", files=[("files", ("../../evil/../x.txt", report, "text/plain"))])
    assert r.status_code == 200, r.text
    source = r.json()["files"][0]["source"]
    assert source.endswith("uploads/x.txt") and ".." not in source
    assert (Path(service.settings.index_dir) / "uploads" / "x.txt").exists()
    r = client.post("/api/ingest", files=[("files", ("run.sh", b"rm -rf /", "text/plain"))])
    assert r.status_code == 400 and "不支持的文件类型" in r.json()["files"][0]["error"]
    before = client.get("/api/health").json()["chunks"]
    r = client.post("/api/ingest", files=[("files", ("empty.txt", b"", "text/plain"))])
    assert r.status_code == 400 and "empty.txt" in r.json()["files"][0]["error"]
    assert client.get("/api/health").json()["chunks"] == before


def test_upload_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    service = scripted_service(tmp_path, max_file_mb=0.001)
    client = TestClient(create_app(service.settings, service))
    r = client.post("/api/ingest", files=[("files", ("big.txt", "报告".encode() * 2000, "text/plain"))])
    assert r.status_code == 400 and "文件过大" in r.json()["files"][0]["error"]


def test_delete_document(client: TestClient) -> None:
    r = client.delete("/api/documents/002_2f2310b7b8fa1bf8.txt")
    assert r.status_code == 200 and r.json()["chunks_removed"] > 0
    assert len(client.get("/api/documents").json()) == 4


def test_openapi_docs_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/search", "/api/ask", "/api/draft", "/api/ingest", "/api/documents"):
        assert path in spec["paths"]


@pytest.mark.server
def test_real_http_with_auth(tmp_path: Path) -> None:
    service = scripted_service(tmp_path, auth="alice:s3cret")
    with running_server(service) as url:
        assert httpx.get(f"{url}/api/health").status_code == 401
        assert httpx.get(f"{url}/api/health", auth=("alice", "wrong")).status_code == 401
        r = httpx.get(f"{url}/api/health", auth=("alice", "s3cret"))
        assert r.status_code == 200 and "s3cret" not in r.text
        assert httpx.get(f"{url}/docs").status_code == 401
        ui = httpx.get(f"{url}/config")
        assert ui.status_code in (401, 403) or "login" in ui.text.lower() or ui.json().get("auth_required")
        r = httpx.post(
            f"{url}/api/ask",
            json={"question": "化眉村茶叶加工厂多大", "stream": True},
            auth=("alice", "s3cret"),
            timeout=60,
        )
        events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
        assert "800平米" in events[-1]["answer"]


def test_summarize_endpoint_returns_verified_brief(client: TestClient) -> None:
    from tests.conftest import SEEDS

    data = (SEEDS / "003_a42557382749c262.txt").read_bytes()
    r = client.post("/api/summarize", files=[("file", ("汇编.txt", data, "text/plain"))])
    assert r.status_code == 200, r.text
    out = r.json()
    assert [rep["role"] for rep in out["reports"]] == ["乡长", "副乡长", "副乡长", "组织部长", "宣传部长"]
    assert out["figures_unsupported"] == 0 and "brief_markdown" in out
    r = client.post("/api/summarize", files=[("file", ("x.exe", b"MZ", "application/octet-stream"))])
    assert r.status_code == 400 and "不支持的文件类型" in r.json()["error"]


def test_check_endpoint_flags_a_changed_figure(client: TestClient) -> None:
    source = "化眉村完成800平米茶叶加工厂建设。"
    body = {"text": "化眉村完成900平米茶叶加工厂建设。", "sources": [source], "judge": False}
    out = client.post("/api/check", json=body).json()
    assert out["sentences"][0]["verdict"] == "figure_mismatch"


def test_summarize_indexed_documents(client: TestClient, service) -> None:
    key = next(d["source"] for d in service.documents() if d["source"].endswith("003_a42557382749c262.txt"))
    r = client.post("/api/summarize/indexed", json={"sources": [key]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [rep["role"] for rep in out["reports"]] == ["乡长", "副乡长", "副乡长", "组织部长", "宣传部长"]
    assert out["figures_unsupported"] == 0
    r = client.post("/api/summarize/indexed", json={"sources": ["nope.txt"]})
    assert r.status_code == 404 and "索引中没有文档" in r.json()["error"]
    single = next(d["source"] for d in service.documents() if len(d["report_list"]) == 1)
    r = client.post("/api/summarize/indexed", json={"sources": [single]})
    assert r.status_code == 400 and "至少需要两篇" in r.json()["error"]
    assert client.post("/api/summarize/indexed", json={"sources": []}).status_code == 422


def test_an_upload_is_named_by_its_own_file_name_and_its_deliverables_download(client: TestClient) -> None:
    import csv
    import io

    import docx
    import openpyxl

    from tests.conftest import SEEDS

    data = (SEEDS / "003_a42557382749c262.txt").read_bytes()
    name = "乡镇述职汇编2023.txt"
    out = client.post("/api/summarize", files=[("file", (name, data, "text/plain"))]).json()
    assert out["source"] == name and f"来源：{name}（5篇）" in out["brief_markdown"]
    assert "/tmp" not in out["brief_markdown"] and "tmp" not in out["source"]
    assert set(out["downloads"]) == {"docx", "md", "xlsx", "csv"} and isinstance(out["fonts_missing"], list)

    r = client.get(out["downloads"]["docx"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(r.content)).paragraphs)
    assert f"（依据{name}，共5篇）" in text and "/tmp" not in text
    rows = list(
        openpyxl.load_workbook(io.BytesIO(client.get(out["downloads"]["xlsx"]).content)).active.values
    )
    lines = list(csv.DictReader(io.StringIO(client.get(out["downloads"]["csv"]).content.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(lines) and all(line["来源文件"].startswith(name) for line in lines)
    assert client.get(out["downloads"]["md"]).text == out["brief_markdown"]

    # One file straight away, under the brief's own name.
    r = client.post("/api/summarize?format=xlsx", files=[("file", (name, data, "text/plain"))])
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    assert "filename*=utf-8''" in r.headers["content-disposition"]
    export_id = out["export_id"]
    assert client.get(f"/api/exports/{export_id}/nope.docx").status_code == 404
    assert client.get("/api/exports/../../etc/passwd").status_code == 404
    assert client.get("/api/exports/not-an-id/x.docx").status_code == 404


def test_indexed_brief_as_a_file(client: TestClient, service) -> None:
    key = next(d["source"] for d in service.documents() if d["source"].endswith("003_a42557382749c262.txt"))
    r = client.post("/api/summarize/indexed", json={"sources": [key], "format": "docx"})
    assert r.status_code == 200 and "wordprocessingml" in r.headers["content-type"]


def test_draft_export_with_its_evidence(client: TestClient) -> None:
    import io

    import docx
    import openpyxl

    body = {"role": "副乡长", "section": "存在问题", "year": 2024, "facts": ["全年开展安全生产检查26次"]}
    draft = client.post("/api/draft", json={**body, "stream": False}).json()
    assert "【待补充" in draft["text"]
    export = {
        **body,
        "text": draft["text"],
        "citations": draft["citations"],
        "placeholders": draft["placeholders"],
    }
    r = client.post("/api/draft/export", json=export)
    assert r.status_code == 200 and "wordprocessingml" in r.headers["content-type"]
    d = docx.Document(io.BytesIO(r.content))
    assert d.paragraphs[0].text == "副乡长2024年述职报告（存在问题）" and len(d.tables) == 2
    links = client.post("/api/draft/export", json={**export, "format": "json"}).json()
    book = openpyxl.load_workbook(io.BytesIO(client.get(links["downloads"]["xlsx"]).content))
    opened = [row[1] for row in book["待补充"].iter_rows(min_row=2, values_only=True)]
    assert opened == [p["label"] for p in draft["placeholders"]]
    assert client.post("/api/draft/export", json={"text": ""}).status_code == 422
