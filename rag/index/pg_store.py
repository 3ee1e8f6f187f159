"""The store on PostgreSQL (``RAG_DATABASE_URL``): the same manifest, reports, chunks, embedding
cache and generation as ``rag.index.store.Store``, shared by every node.

Each chunk row also carries its keyword index: a ``tsvector`` of the jieba tokens written with
their positions (a literal, so PostgreSQL's own parser never re-splits 2024年 or 党建), under a GIN
index. An ingest therefore tokenizes only the chunks it writes; ``rag.index.pg_keyword`` searches
these rows. Tables live in the schema ``rag_<collection>`` (``RAG_COLLECTION`` separates knowledge
bases in one database, as it does in Chroma).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress

import numpy as np
import psycopg

from rag.index.keyword import tokenize
from rag.index.store import (
    _CHUNK_READ,
    _OCR_COLUMNS,
    _chunk_from_row,
    _sections_from_json,
    chunk_row,
    document_row,
    ocr_spans_from_json,
    ocr_spans_json,
    report_row,
)
from rag.schema import Chunk, Document, Report

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source TEXT PRIMARY KEY, path TEXT, sha256 TEXT NOT NULL, format TEXT, encoding TEXT,
    reports INTEGER NOT NULL, chunks INTEGER NOT NULL, ingested_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    source TEXT NOT NULL, idx INTEGER NOT NULL, title TEXT NOT NULL, year INTEGER, role TEXT,
    level TEXT, redaction_count INTEGER NOT NULL, sections TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (source, idx)
);
CREATE TABLE IF NOT EXISTS chunks (
    id BIGSERIAL PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    report_index INTEGER NOT NULL, report_title TEXT NOT NULL, year INTEGER, role TEXT, level TEXT,
    section TEXT NOT NULL, heading_path TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    redacted INTEGER NOT NULL, text TEXT NOT NULL, tsv TSVECTOR NOT NULL, dl INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE INDEX IF NOT EXISTS chunks_tsv ON chunks USING GIN (tsv);
CREATE TABLE IF NOT EXISTS postings (
    term TEXT NOT NULL, chunk BIGINT NOT NULL REFERENCES chunks(id) ON DELETE CASCADE, tf INTEGER NOT NULL,
    dl INTEGER NOT NULL, PRIMARY KEY (term, chunk)
);
CREATE INDEX IF NOT EXISTS postings_chunk ON postings(chunk);
-- A query reads its terms' postings from this index alone (an index-only scan: no heap visit).
CREATE INDEX IF NOT EXISTS postings_term_cover ON postings(term) INCLUDE (chunk, tf, dl);
CREATE TABLE IF NOT EXISTS embcache (key TEXT PRIMARY KEY, vec BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    name TEXT PRIMARY KEY, data BYTEA NOT NULL, stored_at DOUBLE PRECISION NOT NULL
);
"""
# Any constant shared by all nodes: two nodes creating the schema at once must not race.
SCHEMA_LOCK = 0x5241_4701
WRITE_LOCK = 0x5241_4702
_MAX_POS = 16383  # PostgreSQL's largest tsvector position
_MAX_LEXEME_BYTES = 2046


def schema_name(collection: str) -> str:
    return "rag_" + (re.sub(r"[^a-z0-9_]", "_", collection.lower()) or "default")


def _quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(text: str) -> str:
    """The tokens of ``text`` as a tsvector literal with positions (ts_rank_cd needs them)."""
    return _tsvector(tokenize(text))[0]


def _tsvector(tokens: Sequence[str]) -> tuple[str, int]:
    """(tsvector literal, document length in tokens) of a token list."""
    positions: dict[str, list[int]] = {}
    for pos, token in enumerate(tokens, start=1):
        if len(token.encode()) > _MAX_LEXEME_BYTES:
            continue
        slots = positions.setdefault(token, [])
        if len(slots) < 255:
            slots.append(min(pos, _MAX_POS))
    literal = " ".join(f"{_quote(t)}:{','.join(map(str, sorted(set(p))))}" for t, p in positions.items())
    return literal, len(tokens)


def query_terms(query: str) -> list[str]:
    return [t for t in dict.fromkeys(tokenize(query)) if len(t.encode()) <= _MAX_LEXEME_BYTES]


def tsquery_literal(query: str) -> str | None:
    """The query's tokens OR-ed (BM25 semantics: any term may match), or None without any."""
    return " | ".join(_quote(t) for t in query_terms(query)) or None


def keyword_text(chunk: Chunk) -> str:
    """What is keyword-indexed, as in the embedded index: header and text."""
    return f"{chunk.header()}\n{chunk.text}"


def connect(url: str, collection: str) -> psycopg.Connection:
    schema = schema_name(collection)
    return psycopg.connect(
        url, autocommit=True, options=f"-c search_path={schema}", application_name="rag-reports"
    )


class PgStore:
    """``Store`` on PostgreSQL. Reads run on their own autocommit connection and never wait for a
    writer (MVCC); a write is one transaction on the writer connection and bumps ``generation``."""

    backend = "postgres"

    def __init__(self, url: str, collection: str = "reports") -> None:
        self.url = url
        self.collection = collection
        self.schema = schema_name(collection)
        self._db = connect(url, collection)  # reads (autocommit)
        self._wdb = connect(url, collection)  # writes: one explicit transaction each
        self._wlock = threading.RLock()
        self._rlock = threading.Lock()
        with self._wdb.transaction():
            self._wdb.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            self._wdb.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            for stmt in filter(str.strip, _SCHEMA.split(";")):
                self._wdb.execute(stmt)
            # The OCR columns came after the first databases were written: add them there too
            # (under the schema lock, so two nodes opening an old database at once don't race).
            for table, column, kind in _OCR_COLUMNS:
                kind = "DOUBLE PRECISION" if kind == "REAL" else kind  # PostgreSQL's REAL is 4 bytes
                self._wdb.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")

    def close(self) -> None:
        for conn in (self._db, self._wdb):
            with suppress(psycopg.Error):
                conn.close()

    def _q(self, sql: str, args: Sequence = ()) -> list[tuple]:
        with self._rlock:
            return self._db.execute(sql, args).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        with self._wlock, self._wdb.transaction():
            yield self._wdb
            self._bump_generation(self._wdb)

    # -- meta ---------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._q("SELECT value FROM meta WHERE key=%s", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._wlock, self._wdb.transaction():
            self._wdb.execute(
                "INSERT INTO meta(key, value) VALUES(%s, %s) "
                "ON CONFLICT(key) DO UPDATE SET value=EXCLUDED.value",
                (key, value),
            )

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    @staticmethod
    def _bump_generation(db: psycopg.Connection) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = (meta.value::bigint + 1)::text"
        )

    # -- documents ------------------------------------------------------------
    def document_hash(self, source: str) -> str | None:
        rows = self._q("SELECT sha256 FROM documents WHERE source=%s", (source,))
        return rows[0][0] if rows else None

    def documents(self) -> list[dict]:
        cols = ("source", "path", "sha256", "format", "encoding", "reports", "chunks", "ingested_at")
        rows = self._q(f"SELECT {', '.join(cols)} FROM documents ORDER BY source")
        return [dict(zip(cols, row, strict=True)) for row in rows]

    def replace_document(self, doc: Document, chunks: Sequence[Chunk]) -> None:
        # Tokenize before the transaction: it is the slow part and needs no lock.
        vectors = [_tsvector(tokenize(keyword_text(c))) for c in chunks]
        with self.transaction() as db:
            self._delete(db, doc.source)
            db.execute(
                "INSERT INTO documents VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                document_row(doc, len(chunks)),
            )
            with db.cursor() as cur:
                cur.executemany(
                    "INSERT INTO reports(source, idx, title, year, role, level, redaction_count, sections, "
                    "text, ocr_spans) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(*report_row(doc.source, r), ocr_spans_json(r)) for r in doc.reports],
                )
                cur.executemany(
                    f"INSERT INTO chunks({_CHUNK_READ}, tsv, dl) VALUES "
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector, %s)",
                    [
                        (*chunk_row(c), c.ocr_confidence, tsv, dl)
                        for c, (tsv, dl) in zip(chunks, vectors, strict=True)
                    ],
                )
            # The BM25 postings (term, chunk, tf, chunk length), derived from the rows just written.
            db.execute(
                "INSERT INTO postings(term, chunk, tf, dl) "
                "SELECT u.lexeme, c.id, cardinality(u.positions), c.dl "
                "FROM chunks c, unnest(c.tsv) u WHERE c.source = %s",
                (doc.source,),
            )

    def remove_document(self, source: str) -> int:
        with self.transaction() as db:
            return self._delete(db, source)

    @staticmethod
    def _delete(db: psycopg.Connection, source: str) -> int:
        n = db.execute("DELETE FROM chunks WHERE source=%s", (source,)).rowcount
        db.execute("DELETE FROM reports WHERE source=%s", (source,))
        db.execute("DELETE FROM documents WHERE source=%s", (source,))
        return n

    # -- reports and chunks -----------------------------------------------------
    def reports(self, source: str | None = None) -> list[Report]:
        sql = (
            "SELECT source, idx, title, year, role, level, redaction_count, sections, text, ocr_spans "
            "FROM reports"
        )
        args: tuple = ()
        if source is not None:
            sql += " WHERE source=%s"
            args = (source,)
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
            for r in self._q(sql + " ORDER BY source, idx", args)
        ]

    def report_text(self, source: str, index: int) -> str | None:
        rows = self._q("SELECT text FROM reports WHERE source=%s AND idx=%s", (source, index))
        return rows[0][0] if rows else None

    def chunk_ids(self, source: str | None = None) -> list[str]:
        if source is None:
            return [r[0] for r in self._q("SELECT chunk_id FROM chunks ORDER BY id")]
        return [r[0] for r in self._q("SELECT chunk_id FROM chunks WHERE source=%s ORDER BY id", (source,))]

    def chunks_by_ids(self, ids: Sequence[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        rows = self._q(f"SELECT {_CHUNK_READ} FROM chunks WHERE chunk_id = ANY(%s)", (list(ids),))
        return {row[0]: _chunk_from_row(row) for row in rows}

    def iter_chunks(self, sources: Sequence[str] | None = None) -> Iterator[Chunk]:
        """Every chunk, or those of ``sources``, in insertion order."""
        if sources is None:
            rows = self._q(f"SELECT {_CHUNK_READ} FROM chunks ORDER BY id")
        else:
            rows = self._q(
                f"SELECT {_CHUNK_READ} FROM chunks WHERE source = ANY(%s) ORDER BY id", (list(sources),)
            )
        for row in rows:
            yield _chunk_from_row(row)

    def counts(self) -> dict[str, int]:
        row = self._q(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM reports), "
            "(SELECT COUNT(*) FROM chunks)"
        )[0]
        return {"documents": row[0], "reports": row[1], "chunks": row[2]}

    # -- embedding cache ----------------------------------------------------------
    def cached_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        if not keys:
            return {}
        rows = self._q("SELECT key, vec FROM embcache WHERE key = ANY(%s)", (list(keys),))
        return {key: np.frombuffer(bytes(blob), dtype=np.float32) for key, blob in rows}

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        if not rows:
            return
        with self._wlock, self._wdb.transaction(), self._wdb.cursor() as cur:
            cur.executemany(
                "INSERT INTO embcache(key, vec) VALUES (%s, %s) "
                "ON CONFLICT(key) DO UPDATE SET vec=EXCLUDED.vec",
                rows,
            )

    # -- uploaded originals (stateless nodes) ----------------------------------------
    def put_upload(self, name: str, data: bytes) -> None:
        with self._wlock, self._wdb.transaction():
            self._wdb.execute(
                "INSERT INTO uploads(name, data, stored_at) VALUES (%s, %s, %s) "
                "ON CONFLICT(name) DO UPDATE SET data=EXCLUDED.data, stored_at=EXCLUDED.stored_at",
                (name, data, time.time()),
            )

    def get_upload(self, name: str) -> bytes | None:
        rows = self._q("SELECT data FROM uploads WHERE name=%s", (name,))
        return bytes(rows[0][0]) if rows else None

    def delete_upload(self, name: str) -> None:
        with self._wlock, self._wdb.transaction():
            self._wdb.execute("DELETE FROM uploads WHERE name=%s", (name,))


class WriteLockTimeout(Exception):
    """Another writer held the collection's lock for longer than the timeout."""


@contextmanager
def write_lock(url: str, collection: str, timeout: float) -> Iterator[None]:
    """Hold the collection's advisory lock: writers on every node take turns. Waits at most
    ``timeout`` seconds, then raises WriteLockTimeout. The lock is the session's, so a writer that
    dies (even by SIGKILL) releases it when PostgreSQL drops its connection."""
    with connect(url, collection) as conn:
        conn.execute(f"SET lock_timeout = '{max(int(timeout * 1000), 1)}ms'")
        try:
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (WRITE_LOCK, schema_name(collection)))
        except psycopg.errors.LockNotAvailable:
            raise WriteLockTimeout(timeout) from None
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (WRITE_LOCK, schema_name(collection)))


def drop_collection(url: str, collection: str) -> None:
    """Drop a collection's schema and everything in it (benchmarks and tests start clean)."""
    with connect(url, collection) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema_name(collection)} CASCADE")
