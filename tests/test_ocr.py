"""OCR of scans and photos, .doc/.wps through LibreOffice, and OCR confidence from the page
to the chunk, the citation and the figure check.

The tests with real Tesseract render report text with PIL and a CJK font (an image-only PDF,
a PNG with a scanner's tilt, noise and a red 公章 ring, a TIFF, a traditional page), ingest it
and find the figures exactly. They need the Debian packages set-up installs
(tests/ocr_support.py: fail on root where set-up should have installed them, skip elsewhere).
"""

from __future__ import annotations

import dataclasses
import io
import os
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from rag.bench.scans import image_pdf, png, render_pages
from rag.documents import doc_convert, ocr
from rag.documents.chunking import chunk_report
from rag.documents.errors import DocumentError
from rag.documents.load import load_document, with_ocr_confidence
from rag.documents.ocr import OcrOptions
from rag.documents.ocr_text import (
    LOW_CONFIDENCE,
    OcrText,
    lines_from_data,
    normalise_ocr_text,
    span_confidence,
)
from rag.documents.parse import parse_text
from rag.documents.simplify import to_simplified
from rag.grounding.citations import ground
from rag.index.index import Index
from rag.index.store import Store
from rag.schema import Chunk, Passage
from rag.settings import Settings
from tests.ocr_support import REPORT, require_libreoffice, require_tesseract
from tests.test_documents import PDF_LINES, _cjk_pdf
from ui.render import citations_html

FIGURES = ("7.8公里", "46户", "179.25万元", "26次", "45处")

# ----------------------------------------------------------------- text, no Tesseract


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("全 年 新 修 通 村 公 路 7 . 8 公 里 ， 帮 扶 4 6 户", "全年新修通村公路7.8公里，帮扶46户"),
        ("完成 投资 179 . 25 万元 ， 满意率 71.06 %", "完成投资179.25万元，满意率71.06%"),
        ("报告如下:一是学习不够;二是创新不足", "报告如下：一是学习不够；二是创新不足"),
        ("需要进一步加强宣传发动工作O", "需要进一步加强宣传发动工作。"),
        ("发展O2O模式，完成1,000 元", "发展O2O模式，完成1,000元"),
        ("用好 Word 文档 和 Excel 表格", "用好Word文档和Excel表格"),
    ],
)
def test_tesseract_spacing_is_normalised(raw: str, expected: str) -> None:
    assert normalise_ocr_text(raw) == expected


def _data(words: list[tuple[int, str, float]]) -> dict[str, list]:
    """pytesseract's image_to_data dict: (line, text, conf) per word, plus a non-word row."""
    rows = [(1, "", -1.0), *words]
    return {
        "block_num": [1] * len(rows),
        "par_num": [1] * len(rows),
        "line_num": [line for line, _, _ in rows],
        "text": [text for _, text, _ in rows],
        "conf": [conf for _, _, conf in rows],
    }


def test_lines_from_tesseract_words_keep_a_confidence_per_character() -> None:
    words = [(1, "公路", 96.0), (1, "7", 90.0), (1, ".", 60.0), (1, "8", 90.0), (1, "公里", 80.0)]
    [line] = lines_from_data(_data([*words, (2, "和", 0.0)]))  # line 2: a conf-0 ghost, dropped
    assert line.text == "公路7.8公里"
    assert line.conf == [0.96, 0.96, 0.9, 0.6, 0.9, 0.8, 0.8]


def test_confidence_follows_the_text_through_cleaning_to_the_chunks() -> None:
    lines = [
        ("乡长2023年述职报告", 0.95),
        ("一、履职情况", 0.95),
        ("全年新修通村公路7.8公里，帮扶困难群众46户，完成投资179.25万元，群众满意率明显提升。", 0.9),
        ("- 2 -", 0.99),  # a page number: dropped by cleaning, its confidence with it
        ("二、存在问题", 0.95),
        ("一是项目推进还不够快，二是群众参与度不高，需要进一步加强宣传发动工作。", 0.5),
    ]
    raw = OcrText.join([OcrText(text, [conf] * len(text)) for text, conf in lines])
    doc = parse_text(raw.text, source="scan.png", fmt="png")
    doc = with_ocr_confidence(doc, raw)
    [report] = doc.reports
    assert "- 2 -" not in report.text and report.ocr_spans
    chunks = chunk_report(report)
    by_text = {c.text: c.ocr_confidence for c in chunks}
    assert by_text[lines[2][0]] == 0.9 and by_text[lines[5][0]] == 0.5
    # Every span is an exact run of the report text with the confidence of its line.
    for start, end, conf in report.ocr_spans:
        piece = report.text[start:end]
        assert any(piece in text and conf == c for text, c in lines), piece


def test_span_confidence_is_the_mean_over_ocr_characters() -> None:
    spans = ((0, 4, 0.9), (4, 6, 0.6), (10, 12, 0.3))
    assert span_confidence(spans, 0, 6) == round((4 * 0.9 + 2 * 0.6) / 6, 3)
    assert span_confidence(spans, 6, 10) is None  # a text-layer stretch
    assert span_confidence((), 0, 5) is None


def test_tesseract_runs_with_one_openmp_thread_and_our_environment_is_untouched() -> None:
    from pytesseract import pytesseract as runner

    before = os.environ.get("OMP_THREAD_LIMIT")
    ocr._tesseract()
    assert runner.subprocess_args()["env"]["OMP_THREAD_LIMIT"] == (before or "1")
    assert os.environ.get("OMP_THREAD_LIMIT") == before  # the embedded LLM keeps its threads


# ------------------------------------------------- the OCR stage with a fake engine


def _fake_engine(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    def read_image(image, lang, options, key):
        calls.append(lang)
        time.sleep(0.05 * (image.width % 3))  # pages finish out of order
        text = f"第{image.width}号页面的正文全年开展检查26次。"
        return OcrText(text, [0.9] * len(text))

    monkeypatch.setattr(ocr, "missing", lambda: None)
    monkeypatch.setattr(ocr, "_languages", lambda: frozenset({"chi_sim", "chi_tra"}))
    monkeypatch.setattr(ocr, "_engine_version", lambda: "test")
    monkeypatch.setattr(ocr, "read_image", read_image)
    monkeypatch.setattr(ocr, "prepare", lambda image: image)


def test_pages_come_back_in_order_with_progress_and_are_cached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from PIL import Image

    calls: list[str] = []
    _fake_engine(monkeypatch, calls)
    images = [Image.new("L", (100 + i, 50), 255) for i in range(5)]
    seen: list[tuple[int, int]] = []
    options = OcrOptions(workers=2, cache_dir=tmp_path / "ocr")
    pages = ocr.ocr_pages(iter(images), 5, "a.pdf", options, lambda d, t: seen.append((d, t)), digest="x")
    assert [p.text[:6] for p in pages] == [f"第{100 + i}号页" for i in range(5)]
    assert seen == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert calls[:2] == ["chi_sim", "chi_tra"] and calls[2:] == ["chi_sim"] * 4  # auto: page 1 decides
    calls.clear()
    again = ocr.ocr_pages(iter(images), 5, "a.pdf", options, digest="x")
    assert calls == [] and [p.text for p in again] == [p.text for p in pages]  # from the cache


def test_ocr_off_and_missing_tesseract_give_clear_messages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(png(render_pages("全年开展检查26次。")[0]) if _font_ok() else _blank_png())
    with pytest.raises(
        DocumentError, match=r"photo\.png: 图片需要文字识别（OCR），但 OCR 已关闭.*RAG_OCR=auto"
    ):
        load_document(picture, ocr=OcrOptions(mode="off"))
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(DocumentError) as caught:
        load_document(picture)
    assert "未找到文字识别程序 tesseract" in caught.value.problem
    assert "tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra" in caught.value.hint


def _font_ok() -> bool:
    from rag.bench.scans import cjk_font_path

    return cjk_font_path() is not None


def _blank_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (800, 600), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def test_missing_libreoffice_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    old = tmp_path / "report.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    monkeypatch.setattr(doc_convert, "converter", lambda: None)
    with pytest.raises(
        DocumentError, match=r"report\.doc: 读取 \.doc 需要 LibreOffice.*libreoffice-writer-nogui"
    ):
        load_document(old)
    (tmp_path / "notes.wps").write_bytes(b"just some bytes, not a document at all")
    with pytest.raises(DocumentError, match=r"notes\.wps: 文件内容不是 Word/WPS 文档（\.wps）"):
        load_document(tmp_path / "notes.wps")


# ------------------------------------------------ the index keeps the confidence


_OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (source TEXT PRIMARY KEY, path TEXT, sha256 TEXT NOT NULL, format TEXT,
    encoding TEXT, reports INTEGER NOT NULL, chunks INTEGER NOT NULL, ingested_at REAL NOT NULL);
CREATE TABLE reports (source TEXT NOT NULL, idx INTEGER NOT NULL, title TEXT NOT NULL, year INTEGER,
    role TEXT, level TEXT, redaction_count INTEGER NOT NULL, sections TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (source, idx));
CREATE TABLE chunks (id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    report_index INTEGER NOT NULL, report_title TEXT NOT NULL, year INTEGER, role TEXT, level TEXT,
    section TEXT NOT NULL, heading_path TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    redacted INTEGER NOT NULL, text TEXT NOT NULL);
INSERT INTO reports VALUES ('a.txt', 0, '乡长述职报告', 2023, '乡长', '乡', 0, '[]', '乡长述职报告');
INSERT INTO chunks VALUES (1, 'c1', 'a.txt', 0, '乡长述职报告', 2023, '乡长', '乡', '其他', '[]', 0, 6, 0,
    '乡长述职报告');
"""


def test_a_store_written_before_ocr_opens_and_keeps_the_confidence_after(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_SCHEMA)
    store = Store(path)
    [old] = store.chunks_by_ids(["c1"]).values()
    assert old.ocr_confidence is None and old.text == "乡长述职报告"
    assert store.reports("a.txt")[0].ocr_spans == ()
    raw = OcrText("乡长述职报告\n全年开展检查26次。", [0.9] * 6 + [None] + [0.7] * 10)
    doc = with_ocr_confidence(parse_text(raw.text, source="b.png", fmt="png"), raw)
    chunks = Index(Settings(index_dir=tmp_path / "i", embedder="hash")).chunk_document(doc)
    store.replace_document(doc, chunks)
    store.close()
    again = Store(path)  # a second open: the columns are there, nothing is added twice
    assert again.reports("b.png") == list(doc.reports)
    assert list(again.chunks_by_ids([c.chunk_id for c in chunks]).values()) == chunks
    assert chunks[0].ocr_confidence == 0.7


def _passage(conf: float | None) -> Passage:
    text = "全年新修通村公路7.8公里，帮扶困难群众46户。"
    chunk = Chunk(
        "c1", text, "scan.pdf", 0, "乡长2023年述职报告", 2023, "乡长", "乡", "履职", (), 0, len(text)
    )
    return Passage(dataclasses.replace(chunk, ocr_confidence=conf), 1.0)


@pytest.mark.parametrize("conf", [0.95, LOW_CONFIDENCE - 0.2, None])
def test_a_figure_read_with_low_ocr_confidence_is_flagged_not_trusted(conf: float | None) -> None:
    passage = _passage(conf)
    grounding = ground("全年新修通村公路7.8公里[1]。", [passage])
    [sentence] = grounding.sentences
    [figure] = sentence.figures
    assert figure.found  # it does stand in the passage …
    low = conf is not None and conf < LOW_CONFIDENCE
    assert figure.ocr_low is low and sentence.supported is not low  # … but a doubtful read is flagged
    assert figure.to_json()["ocr_low"] is low and bool(grounding.unsupported) is low
    [citation] = grounding.citations
    assert citation.to_json()["ocr_confidence"] == conf
    assert passage.to_json()["ocr_confidence"] == conf
    note = f"OCR识别，置信度 {conf:.2f}" if conf is not None else ""
    assert citation.ocr_note() == note
    assert (
        (note in citations_html(grounding.citations))
        if note
        else "OCR" not in citations_html(grounding.citations)
    )


# ------------------------------------------------------------------ real Tesseract


def _ocr_settings(tmp_path: Path) -> Settings:
    # Its own OCR cache: these tests must really read the pages.
    return Settings(index_dir=tmp_path / "index", embedder="hash", model_cache_dir=tmp_path / "cache")


def test_a_scanned_pdf_and_a_photo_are_ingested_and_their_figures_found(tmp_path: Path) -> None:
    require_tesseract()
    (tmp_path / "in").mkdir()
    scan = tmp_path / "in" / "扫描件.pdf"
    scan.write_bytes(image_pdf(render_pages(REPORT)))
    photo = tmp_path / "in" / "照片.png"
    photo.write_bytes(png(render_pages(REPORT, scanned=True)[0]))  # tilt, noise, a red 公章 ring
    index = Index(_ocr_settings(tmp_path))
    stages: list[tuple[str, int, int]] = []
    result = index.ingest([scan, photo], progress=lambda *event: stages.append(event))
    assert [f.status for f in result.files] == ["added", "added"], result.to_json()
    assert ("pages", 1, 1) in stages  # the page progress bar of the CLI and the UI
    for source in ("in/扫描件.pdf", "in/照片.png"):
        [report] = index.store.reports(source)
        assert [s.kind for s in report.sections] == ["履职", "问题", "打算"], report.text
        chunks = index.store.chunks_by_ids(index.store.chunk_ids(source)).values()
        assert all(c.ocr_confidence is not None and 0.5 < c.ocr_confidence <= 1 for c in chunks)
        for figure in FIGURES:  # exact: no "7 . 8 公里", no "4 6 户"
            hits = index.keyword_search(figure, 3, {"source": source})
            found = index.store.chunks_by_ids([chunk_id for chunk_id, _ in hits])
            assert any(figure in c.text for c in found.values()), (figure, report.text)
            assert any(report.text[c.start : c.end] == c.text for c in found.values())
    index.close()


def test_a_mixed_pdf_keeps_its_text_layer_and_reads_the_scanned_page(tmp_path: Path) -> None:
    require_tesseract()
    text_page = tmp_path / "text.pdf"
    _cjk_pdf(text_page, PDF_LINES)
    scanned = "（二）抓基础设施。全年新修通村公路7.8公里，帮扶困难群众46户，群众满意率明显提升。"
    writer = PdfWriter()
    for reader in (PdfReader(text_page), PdfReader(io.BytesIO(image_pdf(render_pages(scanned))))):
        for page in reader.pages:
            writer.add_page(page)
    mixed = tmp_path / "mixed.pdf"
    with mixed.open("wb") as handle:
        writer.write(handle)
    [report] = load_document(mixed, ocr=OcrOptions(cache_dir=None)).reports
    assert "全年召开会议26场次，投入179.25万元。" in report.text  # page 1: the text layer
    assert "7.8公里" in report.text and "46户" in report.text  # page 2: OCR
    layer_start = report.text.index("全年召开会议26场次")
    assert span_confidence(report.ocr_spans, layer_start, layer_start + 10) is None
    ocr_start = report.text.index("7.8公里")
    assert span_confidence(report.ocr_spans, ocr_start, ocr_start + 5) is not None


def test_blank_scans_and_pictures_without_text_are_refused_clearly(tmp_path: Path) -> None:
    require_tesseract()
    from PIL import Image, ImageDraw

    blank = tmp_path / "blank.pdf"
    blank.write_bytes(image_pdf([Image.new("RGB", (1654, 2339), "white")]))
    with pytest.raises(DocumentError, match=r"blank\.pdf: 扫描件上没有识别出文字（共 1 页） — "):
        load_document(blank)
    picture = Image.new("RGB", (1600, 1200), (120, 170, 230))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((1200, 100, 1400, 300), fill=(250, 220, 80))
    draw.polygon(
        [(0, 800), (400, 500), (800, 750), (1200, 450), (1600, 800), (1600, 1200), (0, 1200)], "green"
    )
    landscape = tmp_path / "风景.jpg"
    picture.save(landscape, quality=85)
    with pytest.raises(DocumentError, match=r"风景\.jpg: 图片上没有识别出文字 — 请确认图片是报告页面"):
        load_document(landscape)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DocumentError, match=r"broken\.jpg: 文件损坏，无法作为图片打开"):
        load_document(tmp_path / "broken.jpg")


def test_a_traditional_page_and_a_two_page_tiff(tmp_path: Path) -> None:
    require_tesseract()
    from opencc import OpenCC

    traditional = OpenCC("s2t").convert(REPORT.split("二、")[0])
    page = tmp_path / "繁體.png"
    page.write_bytes(png(render_pages(traditional)[0]))
    [report] = load_document(page, ocr=OcrOptions(cache_dir=None)).reports
    assert "會議" not in REPORT and "戶" in traditional
    assert "7.8公里" in report.text and "46戶" in report.text  # read with chi_tra: 戶, not 户
    assert "全年开展安全生产检查26次" in to_simplified(report.text)

    pages = render_pages("乡长2023年述职报告\n一、履职情况\n" + "全年开展安全生产检查26次。\n" * 40)
    assert len(pages) == 2
    tiff = tmp_path / "两页.tif"
    pages[0].save(tiff, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    seen: list[tuple[int, int]] = []
    [report] = load_document(
        tiff, ocr=OcrOptions(cache_dir=None), progress=lambda d, t: seen.append((d, t))
    ).reports
    assert seen[-1] == (2, 2) and report.text.count("26次") == 40


# ---------------------------------------------------------------- .doc and .wps


def _docx(path: Path) -> None:
    document = docx.Document()
    for line in REPORT.splitlines():
        document.add_paragraph(line)
    document.save(str(path))


def _spans(doc) -> list[tuple]:
    index = Index(Settings(embedder="hash"))
    return [
        (c.report_index, c.start, c.end, c.text, c.section, c.heading_path) for c in index.chunk_document(doc)
    ]


def _old_word(original: Path, folder: Path) -> Path:
    """The .doc LibreOffice saves of a .docx (Word 97–2003), made here in the test."""
    subprocess.run(
        [
            *(doc_convert.converter(), f"-env:UserInstallation={(folder / 'lo').as_uri()}", "--headless"),
            *("--convert-to", "doc", "--outdir", str(folder / "old"), str(original)),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    old = folder / "old" / f"{original.stem}.doc"
    assert old.read_bytes().startswith(b"\xd0\xcf\x11\xe0")  # a real Word 97–2003 file
    return old


def test_a_doc_made_by_libreoffice_reads_like_its_docx(tmp_path: Path) -> None:
    require_libreoffice()
    original = tmp_path / "report.docx"
    _docx(original)
    old = _old_word(original, tmp_path)
    wps = tmp_path / "old" / "report.wps"  # WPS's .wps is the same binary format
    wps.write_bytes(old.read_bytes())
    expected = load_document(original)
    for path, fmt in ((old, "doc"), (wps, "wps")):
        doc = load_document(path)
        assert doc.format == fmt
        assert [r.text for r in doc.reports] == [r.text for r in expected.reports]
        assert _spans(doc) == _spans(expected)
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    assert [f.status for f in index.ingest([old]).files] == ["added"]
    hits = index.keyword_search("46户", 1, None)
    assert "46户" in next(iter(index.store.chunks_by_ids([hits[0][0]]).values())).text


def test_web_page_and_rtf_files_saved_as_doc_are_read(tmp_path: Path) -> None:
    require_libreoffice()
    # Many office systems export "Word" as HTML or RTF under the .doc name.
    page = "<html><body><p>乡长2023年述职报告</p><p>一、履职情况</p><p>全年开展检查26次。</p></body></html>"
    (tmp_path / "web.doc").write_text(page, encoding="utf-8")
    [report] = load_document(tmp_path / "web.doc").reports
    assert report.text == "乡长2023年述职报告\n一、履职情况\n全年开展检查26次。"
    (tmp_path / "rtf.doc").write_text("{\\rtf1\\ansi\\uc1 \\u20065?\\u38271? 2023}", encoding="ascii")
    assert load_document(tmp_path / "rtf.doc").reports[0].text == "乡长 2023"


def test_damaged_doc_files_are_refused_clearly(tmp_path: Path) -> None:
    require_libreoffice()
    damaged = tmp_path / "damaged.doc"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(DocumentError, match=r"damaged\.doc: 文件损坏或有密码，LibreOffice 无法打开"):
        load_document(damaged)


def test_conversions_take_turns_on_one_profile(tmp_path: Path) -> None:
    require_libreoffice()
    original = tmp_path / "report.docx"
    _docx(original)
    data = _old_word(original, tmp_path).read_bytes()
    results: list[str] = []

    def convert() -> None:
        results.append(doc_convert.doc_text(data, "x.doc")[0])

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1] and "46户" in results[0]
