"""The stacks a user would otherwise pick, for benchmarks measured beside ours in the same run.

- LangChain: ``RecursiveCharacterTextSplitter`` + ``langchain_chroma.Chroma`` with OUR embedder
  wrapped as LangChain ``Embeddings`` (so only the pipeline differs, not the model).
- ``rank_bm25.BM25Okapi`` over ``jieba.lcut`` tokens of the same splitter chunks. Its query
  is O(corpus) Python (a dict lookup per document per query token).

Also :class:`FixedQueryEmbedder`: answers ``embed_query`` from vectors computed before the
timed region, so index latency is measured without the query embedding (reported apart); and
:class:`CachedEmbedder`: passage vectors kept on disk between benchmark runs (the quality
benchmark embeds the same seeds and fixtures every run; e5 takes minutes for them).
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings

from rag.index.embeddings import Embedder

# Chinese sentence ends first, then clauses; a user adapting the default splitter to Chinese.
SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", ""]


class FixedQueryEmbedder:
    """An Embedder (same ``id``/``dim`` as the one that built the index) whose query vectors
    were computed beforehand; passages go to ``inner``. Unknown queries fall back to ``inner``."""

    def __init__(
        self,
        inner: Embedder | None,
        vectors: Mapping[str, np.ndarray],
        *,
        embedder_id: str | None = None,
        dim: int | None = None,
    ) -> None:
        if inner is None and (embedder_id is None or dim is None):
            raise ValueError("FixedQueryEmbedder needs an inner embedder or both embedder_id and dim")
        self._inner = inner
        self._vectors = {k.strip(): np.asarray(v, dtype=np.float32) for k, v in vectors.items()}
        self.id = embedder_id or inner.id  # type: ignore[union-attr]
        self.dim = dim or inner.dim  # type: ignore[union-attr]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self._inner is None:
            raise RuntimeError("FixedQueryEmbedder without an inner embedder cannot embed passages")
        return self._inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        vec = self._vectors.get(text.strip())
        if vec is not None:
            return vec
        if self._inner is None:
            raise KeyError(f"no precomputed vector for query {text[:30]!r}")
        return self._inner.embed_query(text)


class CachedEmbedder:
    """An Embedder (same ``id``/``dim``) whose passage vectors are kept in a SQLite file keyed by
    (embedder id, text), so a rerun embeds only new text. Queries always go to ``inner``.
    ``path=None`` keeps them in memory for this process only."""

    def __init__(self, inner: Embedder, path: Path | None = None) -> None:
        self._inner = inner
        self.id = inner.id
        self.dim = inner.dim
        self.hits = 0
        self.misses = 0
        self._path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.id}\x1f{text}".encode()).hexdigest()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            rows = self._db.execute(
                f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part
            )
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        todo = sorted({i for i, k in enumerate(keys) if k not in found})
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = self._inner.embed_passages([texts[i] for i in todo])
            rows = [
                (keys[i], np.asarray(v, dtype=np.float32).tobytes()) for i, v in zip(todo, fresh, strict=True)
            ]
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
            found.update((keys[i], np.asarray(v, dtype=np.float32)) for i, v in zip(todo, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self._inner.embed_query(text)

    def stats(self) -> dict:
        return {"path": str(self._path) if self._path else None, "hits": self.hits, "misses": self.misses}


class LangChainEmbeddings(Embeddings):
    """Our embedder as LangChain ``Embeddings`` (e5 keeps its query/passage distinction)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.passage_seconds = 0.0  # time spent embedding documents (to report build time without it)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        t0 = time.perf_counter()
        out = self.embedder.embed_passages(texts).tolist()
        self.passage_seconds += time.perf_counter() - t0
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


def splitter(chunk_size: int, chunk_overlap: int | None = None):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    overlap = chunk_size // 10 if chunk_overlap is None else chunk_overlap
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=overlap, separators=SEPARATORS, keep_separator="end"
    )


def split_texts(texts: Sequence[tuple[str, str]], chunk_size: int) -> list[LCDocument]:
    """(source, text) pairs → LangChain documents with ``source`` metadata."""
    return splitter(chunk_size).create_documents(
        [t for _, t in texts], metadatas=[{"source": s} for s, _ in texts]
    )


class LangChainChroma:
    """``langchain_chroma.Chroma`` in a persistent directory, LangChain's defaults otherwise."""

    name = "langchain_chroma"

    def __init__(self, directory: Path, embedder: Embedder, collection: str = "langchain") -> None:
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.embeddings = LangChainEmbeddings(embedder)
        self.store = Chroma(
            collection_name=collection,
            embedding_function=self.embeddings,
            persist_directory=str(directory),
            client_settings=ChromaSettings(anonymized_telemetry=False),
        )

    @property
    def count(self) -> int:
        return len(self.store.get(include=[])["ids"])

    def add(self, docs: Sequence[LCDocument], batch: int = 1000) -> None:
        for i in range(0, len(docs), batch):
            part = list(docs[i : i + batch])
            self.store.add_documents(part, ids=[str(uuid.uuid4()) for _ in part])

    def search(self, query: str, k: int) -> list[LCDocument]:
        return self.store.similarity_search(query, k=k)


class RankBM25:
    """``rank_bm25.BM25Okapi`` over ``jieba.lcut`` tokens; rebuilt on ``add`` (it has no update)."""

    name = "rank_bm25"

    def __init__(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._lcut = jieba.lcut
        self.docs: list[LCDocument] = []
        self._tokens: list[list[str]] = []
        self._bm25 = None

    def add(self, docs: Sequence[LCDocument]) -> None:
        from rank_bm25 import BM25Okapi

        self._tokens += [self._lcut(d.page_content) for d in docs]
        self.docs += list(docs)
        self._bm25 = BM25Okapi(self._tokens)

    @property
    def count(self) -> int:
        return len(self.docs)

    def save(self, path: Path) -> None:
        """Tokens and chunks (a benchmark cache file of our own: pickle is fine here)."""
        data = {"docs": [(d.page_content, d.metadata) for d in self.docs], "tokens": self._tokens}
        with open(path, "wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def load(cls, path: Path) -> RankBM25:
        from rank_bm25 import BM25Okapi

        with open(path, "rb") as fh:
            data = pickle.load(fh)
        self = cls()
        self.docs = [LCDocument(page_content=t, metadata=m) for t, m in data["docs"]]
        self._tokens = data["tokens"]
        self._bm25 = BM25Okapi(self._tokens) if self._tokens else None
        return self

    def search(self, query: str, k: int) -> list[LCDocument]:
        if self._bm25 is None:
            return []
        scores = self._bm25.get_scores(self._lcut(query))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [self.docs[i] for i in top]
