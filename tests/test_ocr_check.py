"""OCR in the checks and the front ends: a figure read by Tesseract with a low confidence is
flagged, not trusted, by `rag check` and `rag ask`.

The confidence that decides is the figure's own (the mean over its characters, each carrying its
Tesseract word's confidence), not the chunk's; the floor is ``Settings.ocr_min_confidence``
(RAG_OCR_MIN_CONFIDENCE). The CLI, the JSON and the UI 检查 tab say so. The tests after "real
Tesseract" read rendered scans: `rag check` on a photo, OCR progress page by page in `rag ingest`,
the 知识库 and 汇编摘要 tabs, a scanned 汇编 summarized, and the grain detection of page images.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.ask import ask
from rag.bench.scans import image_pdf, png, render_pages
from rag.brief.summarize import summarize
from rag.cli.app import app
from rag.documents.load import with_ocr_confidence
from rag.documents.ocr_text import LOW_CONFIDENCE, OcrText, figure_confidence, is_low
from rag.documents.parse import parse_text
from rag.grounding.check import CheckResult, Sources, check
from rag.grounding.citations import ground
from rag.index.index import Index
from rag.llm.fake import ScriptedLLM
from rag.schema import Document, Passage
from rag.service import Service
from rag.settings import Settings
from tests.ocr_support import REPORT, require_tesseract
from ui.blocks import library_tab
from ui.tab_check import check_html
from ui.tabs_more import brief_tab

TITLE = "乡长2023年述职报告\n一、履职情况\n"
SENTENCE = "全年新修通村公路7.8公里，帮扶困难群众46户。"
CLAIM = "全年新修通村公路7.8公里。"


def _scanned(source: str, text: str, conf: dict[str, float], default: float = 0.95) -> Document:
    """``text`` as OCR would give it: every character at ``default`` confidence but those of the
    substrings in ``conf`` (e.g. {"7.8": 0.41}: Tesseract was unsure of that figure)."""
    values: list[float | None] = [default] * len(text)
    for part, c in conf.items():
        at = text.index(part)
        values[at : at + len(part)] = [c] * len(part)
    for i, ch in enumerate(text):
        if ch == "\n":
            values[i] = None
    raw = OcrText(text, values)
    return with_ocr_confidence(parse_text(raw.text, source=source, fmt="png"), raw)


def _sources(tmp_path: Path, *docs: Document) -> Sources:
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    for doc in docs:
        chunks = index.chunk_document(doc)
        index.vectors.upsert(chunks, index.embed_chunks(chunks))
        index.store.replace_document(doc, chunks)
    return Sources(index, tuple(r for d in docs for r in d.reports))


def _check(tmp_path: Path, *docs: Document, claim: str = CLAIM, **settings: object) -> CheckResult:
    cfg = Settings(index_dir=tmp_path / "index", embedder="hash", **settings)
    sources = _sources(tmp_path, *docs)
    try:
        return check(claim, sources, None, settings=cfg)
    finally:
        sources.index.close()


def test_figure_confidence_is_the_mean_of_its_characters_words() -> None:
    spans = ((0, 2, 0.9), (2, 3, 0.3), (3, 4, 0.9))  # "7 . 8": three Tesseract words
    assert figure_confidence(spans, 0, 4) == round((0.9 * 3 + 0.3) / 4, 3)
    assert figure_confidence(spans, 5, 9) is None  # not read by OCR
    assert is_low(0.5) and not is_low(LOW_CONFIDENCE) and not is_low(None)
    assert is_low(0.85, floor=0.9) and not is_low(0.85, floor=0.8)


def test_a_figure_read_with_low_confidence_is_flagged_though_its_chunk_reads_well(tmp_path: Path) -> None:
    doc = _scanned("scan.png", TITLE + SENTENCE, {"7.8": 0.41})
    [chunk] = Index(Settings(index_dir=tmp_path / "probe", embedder="hash")).chunk_document(doc)
    assert chunk.ocr_confidence is not None and chunk.ocr_confidence > LOW_CONFIDENCE  # the chunk's mean
    result = _check(tmp_path, doc)
    [sentence] = result.sentences
    [figure] = sentence.figures
    assert figure.found and figure.source == "scan.png"  # it does stand in the scan …
    assert figure.ocr_confidence == round((3 * 0.41 + 2 * 0.95) / 5, 3)  # 7.8 unsure, 公里 sure
    assert figure.ocr_low and sentence.verdict == "unsupported"  # … but it is not trusted
    assert "7.8公里" in sentence.note and "未予采信" in sentence.note
    data = result.to_json()
    assert data["figures_ocr_low"] == 1 and data["counts"]["supported"] == 0
    assert data["sentences"][0]["figures"][0]["ocr_low"] is True
    assert data["sentences"][0]["evidence"]["ocr_confidence"] is not None
    page = check_html(data)
    assert "未予采信" in page and "OCR识别，置信度" in page and "OCR识别置信度低、未予采信 1 个" in page


def test_a_confident_figure_in_a_doubtful_chunk_is_trusted(tmp_path: Path) -> None:
    # The rest of the page was hard to read (a stamp, a signature), the figure itself was not.
    doc = _scanned("scan.png", TITLE + SENTENCE, {"7.8公里": 0.93}, default=0.55)
    [chunk] = Index(Settings(index_dir=tmp_path / "probe", embedder="hash")).chunk_document(doc)
    assert chunk.ocr_confidence is not None and chunk.ocr_confidence < LOW_CONFIDENCE
    [sentence] = _check(tmp_path, doc).sentences
    [figure] = sentence.figures
    assert figure.found and not figure.ocr_low and figure.ocr_confidence == 0.93
    assert sentence.verdict == "supported" and sentence.note == ""


def test_the_floor_is_the_setting(tmp_path: Path) -> None:
    doc = _scanned("scan.png", TITLE + SENTENCE, {"7.8": 0.62})
    assert _check(tmp_path / "a", doc).sentences[0].verdict == "unsupported"  # default floor 0.80
    relaxed = _check(tmp_path / "b", doc, ocr_min_confidence=0.5).sentences[0]
    assert relaxed.verdict == "supported" and not relaxed.figures[0].ocr_low


def test_the_same_figure_from_a_text_layer_or_a_clear_scan_is_trusted_instead(tmp_path: Path) -> None:
    doubtful = _scanned("scan.png", TITLE + SENTENCE, {"7.8": 0.41})
    typed = parse_text(TITLE + SENTENCE, source="typed.txt")
    for n, other in enumerate((typed, _scanned("clear.png", TITLE + SENTENCE, {}))):
        [sentence] = _check(tmp_path / str(n), doubtful, other).sentences
        [figure] = sentence.figures
        assert figure.found and figure.source == other.source and not figure.ocr_low
        assert sentence.verdict == "supported"


def test_a_figure_without_ocr_is_unchanged(tmp_path: Path) -> None:
    [sentence] = _check(tmp_path, parse_text(TITLE + SENTENCE, source="typed.txt")).sentences
    assert sentence.verdict == "supported" and sentence.figures[0].ocr_confidence is None
    assert sentence.to_json()["note"] == "" and sentence.evidence and sentence.evidence.ocr_confidence is None


def test_rag_ask_judges_a_figure_by_its_own_confidence_and_the_setting(tmp_path: Path) -> None:
    doc = _scanned("scan.png", TITLE + SENTENCE, {"7.8": 0.41})  # the chunk's mean reads well
    for floor, low in ((0.8, True), (0.5, False)):
        settings = Settings(index_dir=tmp_path / f"i{floor}", embedder="hash", ocr_min_confidence=floor)
        index = Index(settings)
        chunks = index.chunk_document(doc)
        index.vectors.upsert(chunks, index.embed_chunks(chunks))
        index.store.replace_document(doc, chunks)
        result = ask(index, ScriptedLLM(default="全年新修通村公路7.8公里。[1]"), "修了多少公里通村公路？")
        index.close()
        [sentence] = result.sentences
        [figure] = sentence.figures
        assert figure.found and figure.ocr_confidence == round((3 * 0.41 + 2 * 0.95) / 5, 3)
        assert figure.ocr_low is low and sentence.supported is not low


def test_without_the_reports_spans_a_figure_is_judged_by_its_passage(tmp_path: Path) -> None:
    doc = _scanned("scan.png", TITLE + SENTENCE, {"7.8": 0.41})
    [chunk] = Index(Settings(index_dir=tmp_path / "probe", embedder="hash")).chunk_document(doc)
    passages = [Passage(chunk, 1.0)]
    spans = {("scan.png", 0): doc.reports[0].ocr_spans}
    assert ground(CLAIM + "[1]", passages, ocr_spans=spans).sentences[0].figures[0].ocr_low
    [figure] = ground(CLAIM + "[1]", passages).sentences[0].figures
    assert figure.ocr_confidence == chunk.ocr_confidence and not figure.ocr_low


# ------------------------------------------------------------------ real Tesseract


def test_rag_check_on_a_photo_shows_ocr_confidence_and_flags_below_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tesseract()
    photo = tmp_path / "照片.png"
    photo.write_bytes(png(render_pages(REPORT, scanned=True)[0]))
    claim = tmp_path / "claim.txt"
    claim.write_text("全年新修通村公路7.8公里，帮扶困难群众46户。", encoding="utf-8")
    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(tmp_path / "cache"))  # the second run reads the cache
    args = ["check", "--source", str(photo), "--text", str(claim), "--no-judge"]
    runner = CliRunner()

    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    assert "OCR识别，置信度" in plain.output and "原文：" in plain.output
    assert "✓" in plain.output and "未予采信" not in plain.output  # a clean render reads well

    monkeypatch.setenv("RAG_OCR_MIN_CONFIDENCE", "0.999")  # no Tesseract word is that sure
    strict = runner.invoke(app, [*args, "--json"])
    assert strict.exit_code == 0, strict.output
    data = json.loads(strict.output)
    [sentence] = data["sentences"]
    assert sentence["verdict"] == "unsupported" and "未予采信" in sentence["note"]
    assert data["figures_ocr_low"] == 2 and all(f["found"] and f["ocr_low"] for f in sentence["figures"])
    text = runner.invoke(app, args)
    assert "⚠ 数字 7.8公里" in text.output and "OCR识别置信度低、未予采信 2 个" in text.output


class _Terminal(io.StringIO):
    def isatty(self) -> bool:  # progress bars are drawn on a terminal only
        return True


def test_rag_ingest_shows_a_progress_bar_per_ocr_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tesseract()
    scan = tmp_path / "扫描件.tif"
    pages = [p.convert("L") for p in render_pages(REPORT) * 2]  # a two-page TIFF, as scanners write
    pages[0].save(scan, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    monkeypatch.setenv("RAG_EMBEDDER", "hash")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(tmp_path / "cache"))
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    app(["ingest", str(scan)], standalone_mode=False)
    drawn = terminal.getvalue()
    assert "文字识别（页）" in drawn and "1/2" in drawn and "2/2" in drawn, drawn


def test_a_scanned_compilation_is_summarized_with_a_progress_per_page(tmp_path: Path) -> None:
    require_tesseract()
    second = REPORT.replace("乡长2023年述职报告", "副乡长2023年述职报告").replace("7.8公里", "5.2公里")
    scan = tmp_path / "汇编扫描件.pdf"
    scan.write_bytes(image_pdf(render_pages(REPORT) + render_pages(second)))
    events: list[tuple[str, int, int]] = []
    settings = Settings(embedder="hash", model_cache_dir=tmp_path / "cache")
    brief = summarize(scan, ScriptedLLM(), settings, progress=lambda *e: events.append(e))
    assert [e for e in events if e[0] == "pages"][-1] == ("pages", 2, 2)  # 汇编摘要 tab, rag summarize
    assert len(brief.reports) == 2, brief.to_json()
    assert "5.2公里" in json.dumps(brief.to_json(), ensure_ascii=False)
    # The 汇编摘要 tab: the same scan (now from the OCR cache: one step, all pages read).
    shown: list[str] = []
    service = Service(settings.model_copy(update={"index_dir": tmp_path / "index"}), llm=ScriptedLLM())
    do_brief = _tab_function(brief_tab, service, "brief")
    badge, *_ = do_brief(str(scan), [], progress=lambda share, desc="": shown.append(desc))
    assert "文字识别 第 2/2 页" in shown and "逐篇提炼 2/2" in shown, (shown, badge)


def _tab_function(build, service: Service, api_name: str):
    """The function a tab registered under ``api_name`` (what the UI runs on a click)."""
    import gradio as gr

    with gr.Blocks() as demo:
        build(service)
    return next(f.fn for f in demo.fns.values() if f.api_name == api_name)


def test_the_library_tab_shows_ocr_progress_page_by_page(tmp_path: Path) -> None:
    require_tesseract()
    scan = tmp_path / "扫描件.tif"
    pages = [p.convert("L") for p in render_pages(REPORT) * 2]
    pages[0].save(scan, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    settings = Settings(index_dir=tmp_path / "index", embedder="hash", model_cache_dir=tmp_path / "cache")
    service = Service(settings, llm=ScriptedLLM())
    shown: list[str] = []
    do_ingest = _tab_function(library_tab, service, "ingest")
    log, _ = do_ingest([str(scan)], progress=lambda share, desc="": shown.append(desc))
    assert log[0][1] == "added", log
    assert "文字识别 第 1/2 页" in shown and "文字识别 第 2/2 页" in shown, shown


def test_grain_is_found_from_the_middle_of_the_page_and_smoothed() -> None:
    import numpy as np
    from PIL import Image

    from rag.documents.ocr import prepare

    clean = render_pages(REPORT, dpi=300)[0].convert("L")
    noise = np.random.default_rng(1).normal(0, 20, (clean.height, clean.width))
    grainy = Image.fromarray((np.asarray(clean, dtype=np.float32) + noise).clip(0, 255).astype("uint8"))
    assert np.array_equal(np.asarray(prepare(clean)), np.asarray(clean))  # a clean page is left alone
    smoothed = np.asarray(prepare(grainy), dtype=np.int16)
    assert np.abs(smoothed - np.asarray(grainy, dtype=np.int16)).mean() > 5  # a grainy one is smoothed
