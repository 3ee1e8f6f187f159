"""The index's source of truth: a SQLite file with the manifest, reports and chunks.

Chroma holds the vectors and the keyword index is derived from the chunk rows,
so both can be checked against (and rebuilt from) this file. Every change runs
in one transaction and bumps ``generation``, which derived indexes record.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rag.schema import Chunk, Document, Report, Section, Subsection

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, path TEXT, sha256 TEXT NOT NULL, format TEXT, encoding TEXT,
    reports INTEGER NOT NULL, chunks INTEGER NOT NULL, ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    source TEXT NOT NULL, idx INTEGER NOT NULL, title TEXT NOT NULL, year INTEGER, role TEXT,
    level TEXT, redaction_count INTEGER NOT NULL, sections TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (source, idx)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    report_index INTEGER NOT NULL, report_title TEXT NOT NULL, year INTEGER, role TEXT, level TEXT,
    section TEXT NOT NULL, heading_path TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    redacted INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE TABLE IF NOT EXISTS embcache (key TEXT PRIMARY KEY, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tokcache (key TEXT PRIMARY KEY, tokens TEXT NOT NULL);
"""

_CHUNK_COLS = (
    "chunk_id, source, report_index, report_title, year, role, level, section, heading_path, "
    'start, "end", redacted, text'
)
# Added after the first stores were written: _migrate adds them to an older file (NULL there).
_OCR_COLUMNS = (("chunks", "ocr_confidence", "REAL"), ("reports", "ocr_spans", "TEXT"))
_CHUNK_READ = _CHUNK_COLS + ", ocr_confidence"


def document_row(doc: Document, n_chunks: int) -> tuple:
    """The documents row, in column order (shared by the SQLite and PostgreSQL stores)."""
    return (
        doc.source,
        doc.path,
        doc.sha256,
        doc.format,
        doc.encoding,
        len(doc.reports),
        n_chunks,
        time.time(),
    )


def report_row(source: str, r: Report) -> tuple:
    """The reports row up to its text, in column order (each store appends its own extras)."""
    sections = json.dumps([asdict(s) for s in r.sections], ensure_ascii=False)
    return (source, r.index, r.title, r.year, r.role, r.level, r.redaction_count, sections, r.text)


def chunk_row(c: Chunk) -> tuple:
    """The chunks row for ``_CHUNK_COLS``, in that order (each store appends its own extras)."""
    heading = json.dumps(c.heading_path, ensure_ascii=False)
    return (c.chunk_id, c.source, c.report_index, c.report_title, c.year, c.role, c.level, c.section,
            heading, c.start, c.end, int(c.redacted), c.text)  # fmt: skip


def ocr_spans_json(r: Report) -> str | None:
    """A report's OCR spans as stored (NULL for a report with no OCR text)."""
    return json.dumps(r.ocr_spans) if r.ocr_spans else None


def ocr_spans_from_json(raw: str | None) -> tuple:
    return tuple(tuple(span) for span in json.loads(raw)) if raw else ()


def _chunk_from_row(row: Sequence) -> Chunk:
    return Chunk(
        chunk_id=row[0],
        source=row[1],
        report_index=row[2],
        report_title=row[3],
        year=row[4],
        role=row[5],
        level=row[6],
        section=row[7],
        heading_path=tuple(json.loads(row[8])),
        start=row[9],
        end=row[10],
        redacted=bool(row[11]),
        text=row[12],
        ocr_confidence=row[13] if len(row) > 13 else None,  # a 13-column row: no OCR column
    )


def _sections_from_json(raw: str) -> tuple[Section, ...]:
    out = []
    for s in json.loads(raw):
        subs = tuple(Subsection(**sub) for sub in s.pop("subsections"))
        out.append(Section(subsections=subs, **s))
    return tuple(out)


class Store:
    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # check_same_thread=False: the UI serves searches from worker threads; SQLite
        # itself serialises access and WAL lets readers run during an ingest.
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Add the OCR columns to a store written before them; existing rows read as no OCR."""
        for table, column, kind in _OCR_COLUMNS:
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                try:
                    with self._db:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db
            self._bump_generation()

    # -- meta ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    def _bump_generation(self) -> None:
        self._db.execute(
            "INSERT INTO meta(key, value) VALUES('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- documents ------------------------------------------------------------
    def document_hash(self, source: str) -> str | None:
        row = self._db.execute("SELECT sha256 FROM documents WHERE source=?", (source,)).fetchone()
        return row[0] if row else None

    def documents(self) -> list[dict]:
        cur = self._db.execute(
            "SELECT source, path, sha256, format, encoding, reports, chunks, ingested_at "
            "FROM documents ORDER BY source"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur]

    def replace_document(self, doc: Document, chunks: Sequence[Chunk]) -> None:
        with self.transaction() as db:
            self._delete(db, doc.source)
            db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)", document_row(doc, len(chunks))
            )
            db.executemany(
                "INSERT INTO reports(source, idx, title, year, role, level, redaction_count, sections, "
                "text, ocr_spans) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*report_row(doc.source, r), ocr_spans_json(r)) for r in doc.reports],
            )
            db.executemany(
                f"INSERT INTO chunks({_CHUNK_READ}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*chunk_row(c), c.ocr_confidence) for c in chunks],
            )

    def remove_document(self, source: str) -> int:
        with self.transaction() as db:
            return self._delete(db, source)

    @staticmethod
    def _delete(db: sqlite3.Connection, source: str) -> int:
        n = db.execute("DELETE FROM chunks WHERE source=?", (source,)).rowcount
        db.execute("DELETE FROM reports WHERE source=?", (source,))
        db.execute("DELETE FROM documents WHERE source=?", (source,))
        return n

    # -- reports and chunks -----------------------------------------------------
    def reports(self, source: str | None = None) -> list[Report]:
        sql = (
            "SELECT source, idx, title, year, role, level, redaction_count, sections, text, ocr_spans "
            "FROM reports"
        )
        args: tuple = ()
        if source is not None:
            sql += " WHERE source=?"
            args = (source,)
        rows = self._db.execute(sql + " ORDER BY source, idx", args).fetchall()
        return [
            Report(
                title=r[2],
                text=r[8],
                source=r[0],
                index=r[1],
                year=r[3],
                role=r[4],
                level=r[5],
                sections=_sections_from_json(r[7]),
                redaction_count=r[6],
                ocr_spans=ocr_spans_from_json(r[9]),
            )
            for r in rows
        ]

    def report_text(self, source: str, index: int) -> str | None:
        row = self._db.execute(
            "SELECT text FROM reports WHERE source=? AND idx=?", (source, index)
        ).fetchone()
        return row[0] if row else None

    def chunk_ids(self, source: str | None = None) -> list[str]:
        if source is None:
            return [r[0] for r in self._db.execute("SELECT chunk_id FROM chunks ORDER BY id")]
        return [
            r[0]
            for r in self._db.execute("SELECT chunk_id FROM chunks WHERE source=? ORDER BY id", (source,))
        ]

    def chunks_by_ids(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for row in self._db.execute(
                f"SELECT {_CHUNK_READ} FROM chunks WHERE chunk_id IN ({marks})", part
            ):
                out[row[0]] = _chunk_from_row(row)
        return out

    def iter_chunks(self, sources: Sequence[str] | None = None) -> Iterator[Chunk]:
        """Every chunk, or those of ``sources``, in insertion order."""
        if sources is None:
            for row in self._db.execute(f"SELECT {_CHUNK_READ} FROM chunks ORDER BY id"):
                yield _chunk_from_row(row)
            return
        rows = []
        for i in range(0, len(sources), 500):  # stay under SQLite's bound-parameter limit
            part = list(sources[i : i + 500])
            marks = ",".join("?" * len(part))
            rows += self._db.execute(f"SELECT id, {_CHUNK_READ} FROM chunks WHERE source IN ({marks})", part)
        for row in sorted(rows):
            yield _chunk_from_row(row[1:])

    def counts(self) -> dict[str, int]:
        q = self._db.execute
        return {
            "documents": q("SELECT COUNT(*) FROM documents").fetchone()[0],
            "reports": q("SELECT COUNT(*) FROM reports").fetchone()[0],
            "chunks": q("SELECT COUNT(*) FROM chunks").fetchone()[0],
        }

    # -- embedding cache ----------------------------------------------------------
    def cached_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            for key, blob in self._db.execute(f"SELECT key, vec FROM embcache WHERE key IN ({marks})", part):
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embcache(key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    # -- keyword token cache (by content hash: a rebuild re-tokenizes only new text) -------------
    def cached_tokens(self, keys: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT key, tokens FROM tokcache WHERE key IN ({marks})", part)
            for key, raw in rows:
                out[key] = raw.split("\x1f") if raw else []
        return out

    def cache_tokens(self, items: Iterable[tuple[str, Sequence[str]]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO tokcache(key, tokens) VALUES (?, ?)",
                [(k, "\x1f".join(tokens)) for k, tokens in items],
            )
