"""The two backends behind one protocol: SQLite + keyword segment files in ``RAG_INDEX_DIR`` (the embedded
default) or PostgreSQL (``RAG_DATABASE_URL``) for the store and keyword search of every node."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.schema import Chunk, Document, Report
from rag.settings import Settings


class StoreProtocol(Protocol):
    """The source of truth: manifest, reports, chunks, embedding cache and generation."""

    backend: str

    def close(self) -> None: ...
    def transaction(self) -> AbstractContextManager[Any]: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    @property
    def generation(self) -> int: ...
    def document_hash(self, source: str) -> str | None: ...
    def documents(self) -> list[dict]: ...
    def replace_document(self, doc: Document, chunks: Sequence[Chunk]) -> None: ...
    def remove_document(self, source: str) -> int: ...
    def reports(self, source: str | None = None) -> list[Report]: ...
    def report_text(self, source: str, index: int) -> str | None: ...
    def chunk_ids(self, source: str | None = None) -> list[str]: ...
    def chunks_by_ids(self, ids: Sequence[str]) -> dict[str, Chunk]: ...
    def iter_chunks(self, sources: Sequence[str] | None = None) -> Iterator[Chunk]: ...
    def counts(self) -> dict[str, int]: ...
    def cached_vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]: ...
    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None: ...


class KeywordProtocol(Protocol):
    """Keyword search with the filter keys of ``rag.index.keyword.FILTER_KEYS``."""

    @property
    def generation(self) -> int | None: ...
    @property
    def ids(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def load(self) -> bool: ...
    def build(
        self,
        chunk_ids: Sequence[str],
        texts: Sequence[str],
        meta: Sequence[Mapping],
        generation: int,
        *,
        save: bool = True,
        tokens: Sequence[Sequence[str]] | None = None,
    ) -> None: ...
    def sync(
        self,
        generation: int,
        stamps: Mapping[str, str],
        read: Callable[[Sequence[str] | None], tuple[list[str], list[list[str]], dict[str, list]]],
        *,
        rows: Mapping[str, int] | None = None,
        save: bool = True,
    ) -> str: ...
    def search(
        self, query: str, n: int, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float]]: ...


def uses_postgres(settings: Settings) -> bool:
    url = settings.database_url or ""
    return url.startswith(("postgresql://", "postgres://"))


def open_store(settings: Settings, index_dir: Path) -> StoreProtocol:
    if uses_postgres(settings):
        from rag.index.pg_store import PgStore

        return PgStore(settings.database_url, settings.collection)
    if settings.database_url:
        raise ValueError(f"RAG_DATABASE_URL={settings.database_url!r}: only postgresql://… is supported")
    from rag.index.store import Store

    return Store(index_dir / "store.sqlite")


def open_keywords(settings: Settings, store: StoreProtocol, index_dir: Path) -> KeywordProtocol:
    if uses_postgres(settings):
        from rag.index.pg_keyword import PgKeywordIndex

        return PgKeywordIndex(store, settings.pg_rank)  # type: ignore[arg-type]
    from rag.index.keyword import KeywordIndex

    return KeywordIndex(index_dir / "keyword")
