"""Both stores keep what OCR read: each report's per-character confidence spans and each chunk's
confidence, so a citation, ``rag check``, ``ask`` and the brief flag a doubtful figure on
PostgreSQL exactly as on SQLite; and a PostgreSQL database written before the OCR columns gains
them on open, its old rows reading as no OCR (the SQLite migration is tested in test_ocr.py).

No Tesseract here: the OCR text and its confidences are given, as ``rag.documents.ocr`` returns
them, so these tests run wherever the stores do.
"""

from __future__ import annotations

import psycopg
import pytest

from rag.ask import ask
from rag.documents.load import with_ocr_confidence
from rag.documents.ocr_text import OcrText, span_confidence
from rag.documents.parse import parse_text
from rag.index.index import Index
from rag.index.pg_store import PgStore, schema_name
from rag.llm.fake import ScriptedLLM
from rag.settings import Settings

_TEXT = "乡长述职报告\n全年开展安全检查26次，整改隐患37处。"
# A confident title, then a doubtful body line (as a faded scan reads): None for the newline.
_CONF = [0.95] * 6 + [None] + [0.62] * (len(_TEXT) - 7)


def _ocr_document() -> object:
    raw = OcrText(_TEXT, _CONF)
    return with_ocr_confidence(parse_text(raw.text, source="scan.png", fmt="png"), raw)


def test_ocr_spans_and_chunk_confidence_survive_the_store(backend_settings: Settings) -> None:
    index = Index(backend_settings)
    doc = _ocr_document()
    chunks = index.chunk_document(doc)
    assert doc.reports[0].ocr_spans and all(c.ocr_confidence is not None for c in chunks)
    index.store.replace_document(doc, chunks)

    reopened = Index(backend_settings).store  # a second connection reads what the first wrote
    [report] = reopened.reports("scan.png")
    assert report == doc.reports[0]
    start = report.text.index("26次")
    assert span_confidence(report.ocr_spans, start, start + 3) == pytest.approx(0.62)
    by_id = reopened.chunks_by_ids([c.chunk_id for c in chunks])
    assert [by_id[c.chunk_id] for c in chunks] == chunks
    assert list(reopened.iter_chunks(["scan.png"])) == chunks
    body = next(c for c in chunks if "26次" in c.text)
    assert body.ocr_confidence == pytest.approx(0.62)


def test_ask_flags_a_doubtful_figure_on_either_store(backend_settings: Settings) -> None:
    # The chunk's mean reads well; only 26's own characters are doubtful.
    text = "乡长述职报告\n全年开展安全检查26次，整改隐患37处，新修通村公路7.8公里，帮扶困难群众46户。"
    conf: list[float | None] = [0.95] * len(text)
    at = text.index("26")
    conf[at : at + 2] = [0.41, 0.41]
    conf[text.index("\n")] = None
    raw = OcrText(text, conf)
    doc = with_ocr_confidence(parse_text(raw.text, source="scan.png", fmt="png"), raw)
    writer = Index(backend_settings)
    chunks = writer.chunk_document(doc)
    writer.vectors.upsert(chunks, writer.embed_chunks(chunks))
    writer.store.replace_document(doc, chunks)
    writer.close()

    index = Index(backend_settings)  # what ask reads comes back from the store
    llm = ScriptedLLM(default="全年开展安全检查26次，整改隐患37处。[1]")
    result = ask(index, llm, "开展了多少次安全检查？")
    index.close()
    figures = {f.raw: f for s in result.sentences for f in s.figures}
    assert figures["26次"].ocr_low and figures["26次"].found
    assert not figures["37处"].ocr_low and figures["37处"].ocr_confidence == pytest.approx(0.95)


def test_a_text_report_has_no_ocr_data_on_either_store(backend_settings: Settings) -> None:
    index = Index(backend_settings)
    doc = parse_text(_TEXT, source="typed.txt", fmt="txt")
    chunks = index.chunk_document(doc)
    index.store.replace_document(doc, chunks)
    store = Index(backend_settings).store
    assert store.reports("typed.txt")[0].ocr_spans == ()
    assert all(c.ocr_confidence is None for c in store.iter_chunks(["typed.txt"]))


_OLD_PG_SCHEMA = """
CREATE TABLE reports (
    source TEXT NOT NULL, idx INTEGER NOT NULL, title TEXT NOT NULL, year INTEGER, role TEXT,
    level TEXT, redaction_count INTEGER NOT NULL, sections TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (source, idx));
CREATE TABLE chunks (
    id BIGSERIAL PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    report_index INTEGER NOT NULL, report_title TEXT NOT NULL, year INTEGER, role TEXT, level TEXT,
    section TEXT NOT NULL, heading_path TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    redacted INTEGER NOT NULL, text TEXT NOT NULL, tsv TSVECTOR NOT NULL, dl INTEGER NOT NULL);
INSERT INTO reports VALUES ('a.txt', 0, '乡长述职报告', 2023, '乡长', '乡', 0, '[]', '乡长述职报告');
INSERT INTO chunks(chunk_id, source, report_index, report_title, year, role, level, section,
    heading_path, start, "end", redacted, text, tsv, dl)
    VALUES ('c1', 'a.txt', 0, '乡长述职报告', 2023, '乡长', '乡', '其他', '[]', 0, 6, 0,
    '乡长述职报告', '乡长:1', 1)
"""


def test_a_postgres_database_written_before_ocr_gains_the_columns(pg_url: str) -> None:
    schema = schema_name("reports")
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
        db.execute(f"SET search_path={schema}")
        for stmt in filter(str.strip, _OLD_PG_SCHEMA.split(";")):
            db.execute(stmt)

    store = PgStore(pg_url)
    [old] = store.chunks_by_ids(["c1"]).values()
    assert old.ocr_confidence is None and old.text == "乡长述职报告"
    assert store.reports("a.txt")[0].ocr_spans == ()
    doc = _ocr_document()
    chunks = Index(Settings(embedder="hash", database_url=pg_url)).chunk_document(doc)
    store.replace_document(doc, chunks)
    store.close()

    again = PgStore(pg_url)  # a second open: the columns are there, nothing is added twice
    assert again.reports("scan.png") == list(doc.reports)
    assert [again.chunks_by_ids([c.chunk_id])[c.chunk_id] for c in chunks] == chunks
    assert again.counts()["chunks"] == len(chunks) + 1
    again.close()
