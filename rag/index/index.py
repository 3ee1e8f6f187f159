"""The persistent hybrid index: SQLite store (truth) + Chroma vectors + BM25 keywords.

Write order keeps every crash recoverable: new vectors are upserted first, then
the store commits, then stale vectors are deleted; ``reconcile`` (run before each
ingest and on demand) removes orphans and restores missing vectors, and the
keyword index is brought up to date whenever its generation differs from the store's
(only the changed documents are re-read: rag.index.keyword).

A writer marks the store ``vectors_dirty`` before it touches Chroma and clears the mark when
Chroma and the store agree again, so the reconcile before an ingest compares every id only after
a crash left the mark (or when the counts differ); ``rag index reconcile`` always compares them.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag.documents.chunking import chunk_report
from rag.documents.errors import DocumentError
from rag.documents.files import iter_files, source_key
from rag.documents.load import load_document
from rag.documents.ocr import OcrOptions
from rag.documents.parse import PARSER_VERSION
from rag.index.backends import KeywordProtocol, open_keywords, open_store, uses_postgres
from rag.index.embeddings import Embedder, create_embedder
from rag.index.keyword import FILTER_KEYS, Rows, tokenize, tokenizer_id
from rag.index.vectors import VectorStore
from rag.schema import Chunk, Document
from rag.settings import Settings

# Set in the store while a writer's Chroma changes may be ahead of or behind its rows.
DIRTY = "vectors_dirty"
# progress(stage, done, total): the CLI draws a bar, the UI a progress component.
Progress = Callable[[str, int, int], None]


class IndexError_(RuntimeError):
    """An index problem with a message that says what to do."""


class IndexBusyError(IndexError_):
    pass


class EmbedderMismatchError(IndexError_):
    pass


@dataclass
class FileResult:
    source: str
    status: str  # added | replaced | unchanged | error
    reports: int = 0
    chunks: int = 0
    error: str | None = None


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def ok(self) -> bool:
        """False when files were given but none could be ingested."""
        return not self.files or any(f.status != "error" for f in self.files)

    def to_json(self) -> dict:
        return {
            "files": [f.__dict__ for f in self.files],
            "added": self.count("added"),
            "replaced": self.count("replaced"),
            "unchanged": self.count("unchanged"),
            "errors": self.count("error"),
            "reports": sum(f.reports for f in self.files if f.status in ("added", "replaced")),
            "chunks": sum(f.chunks for f in self.files if f.status in ("added", "replaced")),
        }


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


class Index:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.dir = Path(settings.index_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.store = open_store(settings, self.dir)
        self._embedder = embedder
        self._vectors: VectorStore | None = None
        self.keywords = open_keywords(settings, self.store, self.dir)
        # Server threads race to create the lazy parts on first use; Chroma's client
        # fails ("Could not connect to tenant") when built concurrently.
        self._init_lock = threading.RLock()

    # -- components, created on first use (``index info`` needs no model) ------------
    @property
    def embedder(self) -> Embedder:
        with self._init_lock:
            if self._embedder is None:
                self._embedder = create_embedder(self.settings)
        self._check_embedder(self._embedder)
        return self._embedder

    def _check_embedder(self, embedder: Embedder) -> None:
        built_with = self.store.get_meta("embedder_id")
        if built_with and built_with != embedder.id and self.store.counts()["chunks"]:
            raise EmbedderMismatchError(
                f"索引 {self.dir} 由嵌入模型 {built_with} 构建，当前设置为 {embedder.id}。"
                f"请改回 RAG_EMBEDDER 的原值，或换一个 RAG_INDEX_DIR 重新导入"
            )

    @property
    def vectors(self) -> VectorStore:
        with self._init_lock:
            if self._vectors is None:
                self._vectors = VectorStore(self.settings, self.embedder)
            return self._vectors

    def close(self) -> None:
        self.store.close()

    # -- locking ---------------------------------------------------------------------
    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        if uses_postgres(self.settings):
            # Writers on every node take turns on the database's advisory lock (they wait).
            from rag.index.pg_store import WriteLockTimeout, write_lock

            timeout = self.settings.write_lock_timeout
            try:
                with write_lock(self.settings.database_url, self.settings.collection, timeout):
                    yield
            except WriteLockTimeout:
                raise IndexBusyError(
                    f"另一个节点的导入或删除占用知识库 {self.settings.collection} 已超过 {timeout:g} 秒，"
                    "请稍后再试（或调大 RAG_WRITE_LOCK_TIMEOUT）"
                ) from None
            return
        lock_path = self.dir / "write.lock"
        with open(lock_path, "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexBusyError(f"另一个导入或删除正在使用索引 {self.dir}，请等它结束后再试") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- embedding with a content-hash cache -------------------------------------------
    def _cache_key(self, text: str) -> str:
        return hashlib.sha256(f"{self.embedder.id}\x1f{text}".encode()).hexdigest()

    def embed_chunks(self, chunks: list[Chunk], progress: Progress = _no_progress) -> np.ndarray:
        texts = [c.embedding_text() for c in chunks]
        keys = [self._cache_key(t) for t in texts]
        cached = self.store.cached_vectors(keys)
        todo = [i for i, k in enumerate(keys) if k not in cached]
        batch = self.settings.embed_batch
        for b in range(0, len(todo), batch):
            idx = todo[b : b + batch]
            vecs = self.embedder.embed_passages([texts[i] for i in idx])
            fresh = [(keys[i], v) for i, v in zip(idx, vecs, strict=True)]
            self.store.cache_vectors(fresh)
            cached.update(fresh)
            progress("embed", min(b + batch, len(todo)), len(todo))
        if not chunks:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.vstack([cached[k] for k in keys])

    # -- ingest / remove -------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[Path],
        progress: Progress = _no_progress,
        *,
        keys: Mapping[str, str] | None = None,
    ) -> IngestResult:
        """``keys``: document keys for some files (by ``str(path)``) instead of their path's key —
        uploads get ``uploads/<name>`` on a shared database, the same on every node."""
        result = IngestResult()
        keys = keys or {}
        with self._write_lock():
            self._reconcile_locked(full=False)
            self.store.set_meta(DIRTY, "1")
            # Keep the user's order: a bad path is reported where it was given.
            todo: list[Path | FileResult] = []
            for path in paths:
                try:
                    todo.extend(iter_files([Path(path)]))
                except DocumentError as exc:
                    todo.append(FileResult(str(path), "error", error=str(exc)))
            total = sum(isinstance(t, Path) for t in todo)
            done = 0
            for item in todo:
                if isinstance(item, FileResult):
                    result.files.append(item)
                    continue
                progress("files", done, total)
                result.files.append(self._ingest_file(item, progress, keys.get(str(item))))
                done += 1
            progress("files", done, total)
            self.store.set_meta(DIRTY, "0")
            self._sync_keywords()
        return result

    def _ingest_file(self, path: Path, progress: Progress, key: str | None = None) -> FileResult:
        source = key or source_key(path)
        try:
            doc = load_document(
                path,
                max_bytes=int(self.settings.max_file_mb * 1024 * 1024),
                ocr=OcrOptions.from_settings(self.settings),
                progress=lambda done, total: progress("pages", done, total),  # OCR, page by page
            )
        except DocumentError as exc:
            return FileResult(source, "error", error=str(exc))
        if key and doc.source != key:
            reports = tuple(replace(r, source=key) for r in doc.reports)
            doc = replace(doc, source=key, reports=reports)
        previous = self.store.document_hash(doc.source)
        parsed_by = self.store.get_meta(f"parser:{doc.source}") or "1"
        if previous == doc.sha256 and parsed_by == PARSER_VERSION:
            return FileResult(doc.source, "unchanged", reports=len(doc.reports))
        chunks = self.chunk_document(doc)
        if not chunks:
            return FileResult(doc.source, "error", error=f"{doc.source}: 没有可索引的正文 — 请检查文件内容")
        vectors = self.embed_chunks(chunks, progress)
        old_ids = set(self.store.chunk_ids(doc.source))
        self.vectors.upsert(chunks, vectors)
        self.store.replace_document(doc, chunks)
        self.store.set_meta(f"parser:{doc.source}", PARSER_VERSION)  # a newer parser re-reads it
        self.vectors.delete(sorted(old_ids - {c.chunk_id for c in chunks}))
        return FileResult(
            doc.source, "replaced" if previous else "added", reports=len(doc.reports), chunks=len(chunks)
        )

    def chunk_document(self, doc: Document) -> list[Chunk]:
        s = self.settings
        return [
            c
            for r in doc.reports
            for c in chunk_report(r, max_chars=s.chunk_max_chars, min_chars=s.chunk_min_chars)
        ]

    def remove(self, source: str) -> int:
        """Delete a document's chunks from every index. Returns the chunk count removed."""
        with self._write_lock():
            key = self.resolve_source(source)
            ids = self.store.chunk_ids(key)
            self.store.set_meta(DIRTY, "1")
            n = self.store.remove_document(key)
            self.vectors.delete(ids)
            self.store.set_meta(DIRTY, "0")
            self._sync_keywords()
            return n

    def resolve_source(self, given: str) -> str:
        """Accept the stored key, a path to the file, or a unique file name."""
        known = [d["source"] for d in self.store.documents()]
        if given in known:
            return given
        as_key = source_key(Path(given))
        if as_key in known:
            return as_key
        by_name = [k for k in known if Path(k).name == Path(given).name]
        if len(by_name) == 1:
            return by_name[0]
        raise IndexError_(
            f"索引中没有文档 {given!r}。用 `rag index info` 查看已导入的文档"
            + ("（有多个同名文件，请给出完整路径）" if by_name else "")
        )

    # -- consistency ---------------------------------------------------------------
    def reconcile(self) -> dict[str, int]:
        with self._write_lock():
            return self._reconcile_locked()

    def _reconcile_locked(self, *, full: bool = True) -> dict[str, int]:
        """Make Chroma and the keyword index agree with the store after any crash. ``full=False``
        (before an ingest): skip comparing every id when no write was cut short and the counts agree."""
        clean = self.store.get_meta(DIRTY) != "1" and self.vectors.count() == self.store.counts()["chunks"]
        orphans: list[str] = []
        missing: list[str] = []
        if full or not clean:
            store_ids = set(self.store.chunk_ids())
            vector_ids = self.vectors.ids()
            orphans = sorted(vector_ids - store_ids)
            self.vectors.delete(orphans)
            missing = sorted(store_ids - vector_ids)
            if missing:
                chunks = list(self.store.chunks_by_ids(missing).values())
                self.vectors.upsert(chunks, self.embed_chunks(chunks))
            if self.store.get_meta(DIRTY) == "1":
                self.store.set_meta(DIRTY, "0")
        if self.store.get_meta("embedder_id") is None:
            self.store.set_meta("embedder_id", self.embedder.id)
        self._sync_keywords()
        return {"orphans_removed": len(orphans), "vectors_restored": len(missing)}

    def _sync_keywords(self, *, save: bool = True) -> None:
        """Make the keyword index match the store's generation (writers save it)."""
        generation = self.store.generation
        if self.keywords.generation != generation:
            self.keywords.load()
        if self.keywords.generation == generation:
            return
        docs = self.store.documents()
        self.keywords.sync(
            generation,
            {d["source"]: f"{d['sha256']}:{d['ingested_at']!r}" for d in docs},  # changes on every write
            lambda sources: self._keyword_rows(sources, save=save),
            rows={d["source"]: d["chunks"] for d in docs},
            save=save,
        )

    def _keyword_rows(self, sources: Sequence[str] | None, *, save: bool) -> Rows:
        chunks = list(self.store.iter_chunks(sources))
        tokens = self._cached_tokens([f"{c.header()}\n{c.text}" for c in chunks], save=save)
        columns = {k: [getattr(c, k) for c in chunks] for k in FILTER_KEYS}
        return [c.chunk_id for c in chunks], tokens, columns

    def _cached_tokens(self, texts: list[str], *, save: bool) -> list[list[str]]:
        """Tokens of every text, from the store's cache by content hash: only new text is
        tokenized (jieba is the cost of a rebuild). Only writers (save) add to the cache."""
        prefix = f"{tokenizer_id()}\x1f"
        keys = [hashlib.sha256((prefix + t).encode()).hexdigest() for t in texts]
        cached = self.store.cached_tokens(sorted(set(keys)))
        fresh = {k: tokenize(t) for k, t in zip(keys, texts, strict=True) if k not in cached}
        if fresh and save:
            self.store.cache_tokens(fresh.items())
        cached.update(fresh)
        return [cached[k] for k in keys]

    def ensure_keywords(self) -> KeywordProtocol:
        """The keyword index for reading. Follows other processes' ingests; a reader
        never writes it (a stale or missing one on disk is rebuilt in memory only)."""
        if self.keywords.generation != self.store.generation:
            with self._init_lock:  # one rebuild, not one per server thread
                self._sync_keywords(save=False)
        return self.keywords

    # -- reading -------------------------------------------------------------------
    def info(self) -> dict:
        counts = self.store.counts()
        return {
            **counts,
            "embedder": self.store.get_meta("embedder_id"),
            "index_dir": str(self.dir.resolve()),
            "chroma": self.settings.chroma_url or str((self.dir / "chroma").resolve()),
            "generation": self.store.generation,
            "documents_list": self.store.documents(),
        }

    def dense_search(
        self, query: str, n: int, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float]]:
        return self.vectors.query(self.embedder.embed_query(query), n, where)

    def keyword_search(
        self, query: str, n: int, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float]]:
        return self.ensure_keywords().search(query, n, where)
