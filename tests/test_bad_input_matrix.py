"""Bad inputs through every front end: `rag ingest`, POST /api/ingest and the 知识库 tab, and
the query limits through `rag search`, POST /api/search and POST /api/ask.

A refused file must be named together with its problem (the Chinese message the code writes)
and must leave the index exactly as it was: the store's chunk ids, documents and generation,
the Chroma ids, the keyword index saved on disk and the upload folder. Odd but valid inputs
(GBK, GB18030, mixed line endings, no headings, one 5 MB line) are ingested like their UTF-8
twins. The seeds are indexed once per module (hashed embedder) and every test gets a copy.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfWriter
from typer.testing import CliRunner, Result

from rag.cli.app import app
from rag.documents.load import load_document
from rag.index.index import Index
from rag.index.keyword import KeywordIndex
from rag.llm.fake import ScriptedLLM
from rag.retrieval import MAX_K, MAX_QUERY_CHARS
from rag.schema import Chunk
from rag.service import Service
from rag.settings import Settings
from tests.conftest import SEEDS
from tests.ocr_support import require_libreoffice, require_tesseract
from tests.ui_support import running_server
from ui.app import create_app
from ui.blocks import _documents_rows

runner = CliRunner()
CLI_ENV = {"RAG_EMBEDDER": "hash"}
FRONTS = ["cli", "api"]

GOOD_REPORT = (
    "乡长2023年述职报告\n一、履职情况\n全年开展安全生产检查26次，排查整改隐患45处，群众满意度明显提升。\n"
)


# ------------------------------------------------------------------ the baseline index


def _clean_env(**extra: str) -> dict[str, str]:
    # Module fixtures run before conftest's per-test isolation: drop a developer's RAG_* here.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k == "RAG_MODEL_CACHE_DIR"}
    return {**env, "RAG_EMBEDDER": "hash", **extra}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds indexed once, in a separate process so every file is on disk when it exits."""
    root = tmp_path_factory.mktemp("baseline")
    shutil.copytree(SEEDS, root / "seeds")
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", "seeds", "--json"],
        cwd=root,
        env=_clean_env(RAG_INDEX_DIR=str(root / "index")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["added"] == 5
    return root / "index"


@pytest.fixture
def index_dir(baseline: Path, tmp_path: Path) -> Path:
    """A private copy of the baseline at this test's RAG_INDEX_DIR (set by conftest)."""
    dest = tmp_path / "index"
    shutil.copytree(baseline, dest)
    return dest


@dataclass(frozen=True)
class Snapshot:
    chunk_ids: tuple[str, ...]
    documents: tuple[tuple, ...]
    generation: int
    vector_ids: frozenset[str]
    vector_count: int
    keyword_ids: tuple[str, ...]
    keyword_generation: int | None
    uploads: tuple[str, ...]


def snapshot(index_dir: Path) -> Snapshot:
    index = Index(Settings(index_dir=index_dir, embedder="hash"))
    try:
        # What is saved on disk, not a copy rebuilt in memory: a reader must see the same.
        keywords = KeywordIndex(index_dir / "keyword")
        keywords.load()
        uploads = index_dir / "uploads"
        return Snapshot(
            chunk_ids=tuple(index.store.chunk_ids()),
            documents=tuple(tuple(sorted(d.items())) for d in index.store.documents()),
            generation=index.store.generation,
            vector_ids=frozenset(index.vectors.ids()),
            vector_count=index.vectors.count(),
            keyword_ids=tuple(keywords.ids),
            keyword_generation=keywords.generation,
            uploads=tuple(sorted(p.name for p in uploads.iterdir())) if uploads.is_dir() else (),
        )
    finally:
        index.close()


def stored_chunks(index: Index, source: str) -> list[Chunk]:
    chunks = index.store.chunks_by_ids(index.store.chunk_ids(source)).values()
    return sorted(chunks, key=lambda c: (c.report_index, c.start))


def assert_grew_consistently(before: Snapshot, after: Snapshot) -> None:
    """A successful ingest adds chunks after the old ones and every index agrees."""
    assert after.chunk_ids[: len(before.chunk_ids)] == before.chunk_ids
    assert set(before.documents) <= set(after.documents)  # the seeds' rows are untouched
    assert after.vector_ids == set(after.chunk_ids) and after.vector_count == len(after.chunk_ids)
    assert set(after.keyword_ids) == set(after.chunk_ids)
    assert after.keyword_generation == after.generation


# ---------------------------------------------------------------------- front ends


def assert_clean_exit(result: Result, code: int) -> None:
    # CliRunner swallows tracebacks: an unexpected exception shows up as result.exception.
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def api_client(index_dir: Path, **settings: float) -> tuple[TestClient, Service]:
    service = Service(Settings(index_dir=index_dir, embedder="hash", **settings), llm=ScriptedLLM())
    return TestClient(create_app(service.settings, service)), service


def upload(client: TestClient, *files: tuple[str, bytes]):
    return client.post(
        "/api/ingest", files=[("files", (name, data, "application/octet-stream")) for name, data in files]
    )


def ingest_ok(front: str, path: Path, index_dir: Path) -> dict:
    """Ingest one valid file through a front end; its row of the `--json` summary."""
    if front == "cli":
        result = runner.invoke(app, ["ingest", str(path), "--json"], env=CLI_ENV)
        assert_clean_exit(result, 0)
        [row] = json.loads(result.stdout)["files"]
    else:
        client, _ = api_client(index_dir)
        r = upload(client, (path.name, path.read_bytes()))
        assert r.status_code == 200, r.text
        [row] = r.json()["files"]
    assert row["status"] == "added", row
    return row


# ------------------------------------------------------------------------ bad files


def _docx_bytes() -> bytes:
    document = docx.Document()
    for line in GOOD_REPORT.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf_bytes(password: str | None = None) -> bytes:
    """A one-page PDF with no text layer (what a scanner produces), optionally locked."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _two_megabytes() -> bytes:
    line = "全年开展安全生产检查26次，排查整改隐患45处。\n".encode()
    return GOOD_REPORT.encode() + line * (2 * 1048576 // len(line))


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # how an old Word .doc starts


@dataclass(frozen=True)
class Bad:
    name: str
    make: Callable[[], bytes]
    problems: tuple[str, ...]  # each must appear in the message, beside the file name
    max_file_mb: float | None = None
    needs: Callable[[], None] | None = None  # OCR or LibreOffice (tests/ocr_support.py)


def _no_text_picture() -> bytes:
    """A photo-like picture with no text: a sky, a sun, hills."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (1600, 1200), (120, 170, 230))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((1200, 100, 1400, 300), fill=(250, 220, 80))
    draw.polygon([(0, 800), (400, 500), (800, 750), (1200, 450), (1600, 800), (1600, 1200)], "green")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


BAD = [
    Bad("empty.txt", lambda: b"", ("文件是空的",)),
    Bad("blank.txt", lambda: " \r\n\t\u3000\n \n".encode(), ("文件只有空白字符",)),
    Bad("photo.txt", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, ("这是二进制文件",)),
    Bad("truncated.docx", lambda: _docx_bytes()[:1500], ("文件损坏，无法作为 .docx 打开",)),
    # A scan is read by OCR: a blank one, and a picture without text, say nothing was found.
    Bad("scan.pdf", _pdf_bytes, ("扫描件上没有识别出文字",), needs=require_tesseract),
    Bad("photo.png", _no_text_picture, ("图片上没有识别出文字",), needs=require_tesseract),
    Bad("secret.pdf", lambda: _pdf_bytes("pw"), ("PDF 已加密",)),
    Bad("big.txt", _two_megabytes, ("文件过大", "上限 1.0 MB"), max_file_mb=1),
    Bad("setup.exe", lambda: b"MZ\x90\x00" + bytes(200), ("不支持的文件类型 .exe",)),
    # .doc is read through LibreOffice (the valid case is below); a damaged one is refused.
    Bad("report.doc", lambda: OLE_MAGIC + bytes(500), ("文件损坏或有密码",), needs=require_libreoffice),
    Bad("notes.wps", lambda: b"just some bytes", ("文件内容不是 Word/WPS 文档",)),
    Bad("report.rtf", lambda: b"{\\rtf1 x}", ("不支持的文件类型 .rtf", "另存为 .docx")),
]


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_cli_refuses_a_bad_file_and_leaves_the_index_as_it_was(
    case: Bad, index_dir: Path, tmp_path: Path
) -> None:
    if case.needs:
        case.needs()
    path = _write(tmp_path / "in", case.name, case.make())
    env = {**CLI_ENV, **({"RAG_MAX_FILE_MB": str(case.max_file_mb)} if case.max_file_mb else {})}
    before = snapshot(index_dir)
    result = runner.invoke(app, ["ingest", str(path)], env=env)
    assert_clean_exit(result, 1)  # nothing could be ingested
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 1, result.stderr
    assert case.name in errors[0] and " — " in errors[0]  # the file, the problem, what to do
    for problem in case.problems:
        assert problem in errors[0]
    assert snapshot(index_dir) == before


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_api_refuses_a_bad_upload_and_leaves_the_index_as_it_was(case: Bad, index_dir: Path) -> None:
    if case.needs:
        case.needs()
    client, _ = api_client(index_dir, **({"max_file_mb": case.max_file_mb} if case.max_file_mb else {}))
    before = snapshot(index_dir)
    r = upload(client, (case.name, case.make()))
    assert r.status_code == 400, r.text
    body = r.json()
    [row] = body["files"]
    assert row["status"] == "error" and body["errors"] == 1
    assert case.name in row["error"] and " — " in row["error"]
    for problem in case.problems:
        assert problem in row["error"]
    # The refused upload is not left behind in uploads/ either.
    assert snapshot(index_dir) == before


def test_cli_refuses_a_50_mb_file_at_the_default_limit_without_reading_it(
    index_dir: Path, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1048576)  # sparse: instant, and no disk space used
    before = snapshot(index_dir)
    # A fresh process with no RAG_MAX_FILE_MB: the real default (20 MB) applies.
    proc = subprocess.run(
        [sys.executable, "-m", "rag.cli", "ingest", str(huge)],
        env=_clean_env(RAG_INDEX_DIR=str(index_dir)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    [line] = [x for x in proc.stderr.splitlines() if x.startswith("错误：")]
    assert "huge.txt" in line and "文件过大（50.0 MB，上限 20.0 MB）" in line and "RAG_MAX_FILE_MB" in line
    assert snapshot(index_dir) == before


def test_cli_batch_ingests_the_good_file_and_names_each_bad_one(index_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    _write(folder, "good.txt", GOOD_REPORT.encode())
    _write(folder, "empty.txt", b"")
    _write(folder, "truncated.docx", _docx_bytes()[:1500])
    before = snapshot(index_dir)
    result = runner.invoke(app, ["ingest", str(folder)], env=CLI_ENV)
    assert_clean_exit(result, 0)  # something was ingested: exit 0, errors still listed
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) == 2, result.stderr
    assert any("empty.txt" in e and "文件是空的" in e for e in errors)
    assert any("truncated.docx" in e and "文件损坏" in e for e in errors)
    after = snapshot(index_dir)
    assert_grew_consistently(before, after)
    new_sources = {dict(d)["source"] for d in after.documents} - {dict(d)["source"] for d in before.documents}
    assert new_sources == {"mixed/good.txt"}


def test_api_batch_keeps_the_good_file_and_drops_the_bad_ones(index_dir: Path) -> None:
    client, _ = api_client(index_dir)
    before = snapshot(index_dir)
    r = upload(client, ("good.txt", GOOD_REPORT.encode()), ("empty.txt", b""), ("setup.exe", b"MZ"))
    assert r.status_code == 200, r.text
    status = {Path(f["source"]).name: f["status"] for f in r.json()["files"]}
    assert status == {"good.txt": "added", "empty.txt": "error", "setup.exe": "error"}
    after = snapshot(index_dir)
    assert_grew_consistently(before, after)
    assert after.uploads == ("good.txt",)


def test_api_bad_reupload_keeps_the_earlier_upload(index_dir: Path) -> None:
    client, _ = api_client(index_dir)
    assert upload(client, ("notes.txt", GOOD_REPORT.encode())).status_code == 200
    before = snapshot(index_dir)
    r = upload(client, ("notes.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256))))
    assert r.status_code == 400 and "二进制文件" in r.json()["files"][0]["error"]
    assert snapshot(index_dir) == before
    # The copy on disk still matches what the index holds.
    assert (index_dir / "uploads" / "notes.txt").read_bytes() == GOOD_REPORT.encode()


# ------------------------------------------------------------------- odd but valid


def _scan_pdf() -> bytes:
    from rag.bench.scans import image_pdf, render_pages

    return image_pdf(render_pages(GOOD_REPORT))  # no text layer: what a scanner produces


def _photo_jpg() -> bytes:
    from rag.bench.scans import render_pages

    buffer = io.BytesIO()  # a tilted, noisy page with a red 公章 ring, saved as a phone would
    render_pages(GOOD_REPORT, scanned=True)[0].save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _old_doc(tmp_path: Path) -> bytes:
    (tmp_path / "word").mkdir()
    original = tmp_path / "word" / "report.docx"
    original.write_bytes(_docx_bytes())
    subprocess.run(
        [
            *("soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless"),
            *(
                "--convert-to",
                "doc",
                "--outdir",
                str(tmp_path / "word"),
                str(tmp_path / "word" / "report.docx"),
            ),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return (tmp_path / "word" / "report.doc").read_bytes()


READ_NOW = {
    # What was refused before the issue "Scanned reports and old Word files" and is read now.
    "scan.pdf": (require_tesseract, lambda tmp: _scan_pdf()),
    "photo.jpg": (require_tesseract, lambda tmp: _photo_jpg()),
    "report.doc": (require_libreoffice, _old_doc),
}


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("name", list(READ_NOW))
def test_scans_photos_and_old_word_files_are_read(
    front: str, name: str, index_dir: Path, tmp_path: Path
) -> None:
    needs, make = READ_NOW[name]
    needs()
    path = _write(tmp_path / "in", name, make(tmp_path))
    before = snapshot(index_dir)
    row = ingest_ok(front, path, index_dir)
    assert row["reports"] == 1 and row["chunks"] >= 1
    assert_grew_consistently(before, snapshot(index_dir))
    index = Index(Settings(index_dir=index_dir, embedder="hash"))
    [report] = index.store.reports(row["source"])
    assert report.title == "乡长2023年述职报告" and [s.kind for s in report.sections] == ["履职"]
    [chunk] = stored_chunks(index, row["source"])
    assert "全年开展安全生产检查26次，排查整改隐患45处" in chunk.text  # figures exact
    assert (chunk.ocr_confidence is not None) is (name != "report.doc")  # OCR is shown with citations
    index.close()


def _seed_text(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def _mixed_endings(text: str) -> bytes:
    endings = ["\r\n", "\r", "\n"]
    return "".join(line + endings[i % 3] for i, line in enumerate(text.split("\n"))).encode()


VALID = {
    # name: (seed, bytes, encoding recorded in the manifest)
    "gbk.txt": ("000", lambda: _seed_text("000").encode("gbk"), "gb18030"),
    "gb18030.txt": ("003", lambda: _seed_text("003").encode("gb18030"), "gb18030"),
    "mixed-endings.txt": ("003", lambda: _mixed_endings(_seed_text("003")), "utf-8"),
}


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("name", list(VALID))
def test_legacy_encodings_and_line_endings_parse_like_utf8(
    front: str, name: str, index_dir: Path, tmp_path: Path
) -> None:
    seed_prefix, make, encoding = VALID[name]
    path = _write(tmp_path / "in", name, make())
    before = snapshot(index_dir)
    source = ingest_ok(front, path, index_dir)["source"]
    assert_grew_consistently(before, snapshot(index_dir))

    index = Index(Settings(index_dir=index_dir, embedder="hash"))
    [doc_row] = [d for d in index.store.documents() if d["source"] == source]
    assert doc_row["encoding"] == encoding
    utf8 = load_document(next(SEEDS.glob(f"{seed_prefix}_*.txt")))
    stored = index.store.reports(source)
    assert [dataclasses.replace(r, source="") for r in stored] == [
        dataclasses.replace(r, source="") for r in utf8.reports
    ]

    def spans(chunks: list[Chunk]) -> list[tuple]:
        return sorted((c.report_index, c.start, c.end, c.text, c.section) for c in chunks)

    assert spans(stored_chunks(index, source)) == spans(index.chunk_document(utf8))
    index.close()


NO_HEADINGS = [
    "今年以来，我认真学习党的二十大精神，按照镇党委的统一安排扎实做好分管的各项工作，全年走访农户120户。",
    "在安全生产方面，坚持每月开展一次隐患排查，全年排查整改隐患45处，全镇没有发生一起较大安全事故。",
    "在产业发展方面，带领群众发展茶叶种植800亩，新建茶叶加工厂一座，带动周边群众增收致富效果明显。",
]


@pytest.mark.parametrize("front", FRONTS)
def test_text_without_headings_is_ingested_as_plain_paragraphs(
    front: str, index_dir: Path, tmp_path: Path
) -> None:
    path = _write(tmp_path / "in", "plain.txt", "\n\n".join(NO_HEADINGS).encode())
    before = snapshot(index_dir)
    row = ingest_ok(front, path, index_dir)
    assert row["reports"] == 1 and row["chunks"] == len(NO_HEADINGS)
    assert_grew_consistently(before, snapshot(index_dir))
    index = Index(Settings(index_dir=index_dir, embedder="hash"))
    [report] = index.store.reports(row["source"])
    assert [s.kind for s in report.sections] == ["其他"]  # no skeleton: one untyped body
    chunks = stored_chunks(index, row["source"])
    assert [c.text for c in chunks] == NO_HEADINGS  # one chunk per paragraph, exact text
    assert all(c.section == "其他" and not c.heading_path for c in chunks)
    index.close()


@pytest.mark.parametrize("front", FRONTS)
def test_one_5_mb_line_is_ingested_in_bounded_chunks(front: str, index_dir: Path, tmp_path: Path) -> None:
    # No line break and no 。！？； at all: the chunker can only cut at its size limit.
    phrase = "全镇持续推进茶叶加工厂建设带动群众增收致富"
    text = phrase * (5 * 1048576 // len(phrase.encode()) + 1)
    path = _write(tmp_path / "in", "one-line.txt", text.encode())
    assert path.stat().st_size > 5 * 1048576
    before = snapshot(index_dir)
    row = ingest_ok(front, path, index_dir)
    assert_grew_consistently(before, snapshot(index_dir))
    index = Index(Settings(index_dir=index_dir, embedder="hash"))
    limit = index.settings.chunk_max_chars
    chunks = stored_chunks(index, row["source"])
    assert row["chunks"] == len(chunks) == -(-len(text) // limit)
    assert max(len(c.text) for c in chunks) <= limit
    # Contiguous, exact slices that together are the whole line.
    assert chunks[0].start == 0 and all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert "".join(c.text for c in chunks) == text
    index.close()


# ------------------------------------------------------------------- upload names

NAMES = ["../../outside.txt", "..\\..\\outside.txt", "uploads/../../../outside.txt", "ABSOLUTE"]


@pytest.mark.parametrize("name", NAMES)
def test_api_upload_names_are_sanitized(name: str, index_dir: Path, tmp_path: Path) -> None:
    if name == "ABSOLUTE":
        (tmp_path / "elsewhere").mkdir()  # a naive join would write here
        name = str(tmp_path / "elsewhere" / "outside.txt")
    client, _ = api_client(index_dir)
    r = upload(client, (name, GOOD_REPORT.encode()))
    assert r.status_code == 200, r.text
    source = r.json()["files"][0]["source"]
    assert source == "index/uploads/outside.txt"  # relative to the test's working directory
    written = sorted(tmp_path.rglob("outside.txt"))
    assert written == [index_dir / "uploads" / "outside.txt"]
    assert not (tmp_path.parent / "outside.txt").exists()


# ---------------------------------------------------------------------- queries

CLI_QUERIES = [
    (["search", "问" * 10_000], f"查询过长（10000 字）：请控制在 {MAX_QUERY_CHARS} 字以内"),
    (["search", ""], "查询为空"),
    (["search", "安全生产", "-k", "0"], f"-k 应在 1 到 {MAX_K} 之间，收到 0"),
    (["search", "安全生产", "-k", "100000"], f"-k 应在 1 到 {MAX_K} 之间，收到 100000"),
]


@pytest.mark.parametrize(("args", "message"), CLI_QUERIES, ids=["long", "empty", "k0", "khuge"])
def test_cli_query_limits_give_one_clear_line(args: list[str], message: str, index_dir: Path) -> None:
    result = runner.invoke(app, args, env=CLI_ENV)
    assert_clean_exit(result, 1)
    [line] = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("错误：") and message in line


def test_cli_largest_k_gives_a_bounded_result(index_dir: Path) -> None:
    result = runner.invoke(app, ["search", "安全生产", "-k", str(MAX_K), "--json"], env=CLI_ENV)
    assert_clean_exit(result, 0)
    hits = json.loads(result.stdout)
    assert 0 < len(hits) <= MAX_K and len({h["chunk_id"] for h in hits}) == len(hits)


API_QUERIES = [
    ({"query": "问" * 10_000}, "查询过长（10000 字）"),
    ({"query": ""}, "查询为空"),
    ({"query": "安全生产", "k": 0}, "收到 0"),
    ({"query": "安全生产", "k": 100_000}, "收到 100000"),
]


@pytest.mark.parametrize("endpoint", ["search", "ask"])
@pytest.mark.parametrize(("body", "message"), API_QUERIES, ids=["long", "empty", "k0", "khuge"])
def test_api_query_limits_are_400_with_a_message(
    endpoint: str, body: dict, message: str, index_dir: Path
) -> None:
    client, _ = api_client(index_dir)
    if endpoint == "ask":
        body = {("question" if k == "query" else k): v for k, v in body.items()}
    r = client.post(f"/api/{endpoint}", json=body)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]


def test_api_largest_k_gives_a_bounded_result(index_dir: Path) -> None:
    client, _ = api_client(index_dir)
    r = client.post("/api/search", json={"query": "安全生产", "k": MAX_K})
    assert r.status_code == 200 and 0 < len(r.json()) <= MAX_K


# --------------------------------------------------------------------------- the UI


def _table(value: object) -> list[list[str]]:
    """A Dataframe as gradio_client returns it, as strings (cells may come back typed)."""
    rows = value["data"] if isinstance(value, dict) else value
    return [[str(cell) for cell in row] for row in rows]


@pytest.mark.server
def test_ui_library_tab_reports_bad_files_and_keeps_the_document_table(
    index_dir: Path, tmp_path: Path
) -> None:
    from gradio_client import Client, handle_file

    service = Service(Settings(index_dir=index_dir, embedder="hash"), llm=ScriptedLLM())
    documents = _table(_documents_rows(service))
    before = snapshot(index_dir)
    require_tesseract()
    truncated = _write(tmp_path / "in", "truncated.docx", _docx_bytes()[:1500])
    scan = _write(tmp_path / "in", "scan.pdf", _pdf_bytes())
    exe = _write(tmp_path / "in", "setup.exe", b"MZ\x90\x00")
    with running_server(service) as url:
        client = Client(url, verbose=False)
        log, table = client.predict([handle_file(truncated), handle_file(scan)], api_name="/ingest")
        rows = _table(log)
        assert [r[1] for r in rows] == ["error", "error"]
        for row, name, problem in zip(
            rows, ("truncated.docx", "scan.pdf"), ("文件损坏", "扫描件上没有识别出文字"), strict=True
        ):
            assert row[0].endswith(name) and name in row[4] and problem in row[4]
        assert _table(table) == documents
        # The file picker accepts only the readable types (SUPPORTED_SUFFIXES); Gradio refuses the rest.
        with pytest.raises(Exception, match="Invalid file type"):
            client.predict([handle_file(exe)], api_name="/ingest")
    assert snapshot(index_dir) == before
