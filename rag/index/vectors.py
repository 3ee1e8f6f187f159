"""Chroma, local (persistent directory) or remote (``RAG_CHROMA_URL``), holding chunk vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings

from rag.index.embeddings import Embedder, create_embedder
from rag.schema import Chunk
from rag.settings import Settings


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedder as Chroma's embedding function: Chroma's default would try to
    download a model and fail offline. We still pass vectors explicitly (cached).

    Chroma rebuilds embedding functions from their config, so the config holds the
    ``RAG_EMBEDDER`` spec and the model is only loaded if Chroma ever embeds."""

    def __init__(self, spec: str, embedder: Embedder | None = None) -> None:
        self._spec = spec
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        if self._embedder is None:
            self._embedder = create_embedder(Settings(embedder=self._spec))
        return list(self._embedder.embed_passages(list(input)))

    @staticmethod
    def name() -> str:
        return "rag-reports"

    def get_config(self) -> dict:
        return {"spec": self._spec}

    @staticmethod
    def build_from_config(config: dict) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction(config["spec"])


def make_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1",
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def chunk_metadata(chunk: Chunk) -> dict[str, str | int | bool]:
    meta = {
        "source": chunk.source,
        "report_index": chunk.report_index,
        "report_title": chunk.report_title,
        "year": chunk.year,
        "role": chunk.role,
        "level": chunk.level,
        "section": chunk.section,
        "heading_path": " > ".join(chunk.heading_path),
        "start": chunk.start,
        "end": chunk.end,
        "redacted": chunk.redacted,
    }
    return {k: v for k, v in meta.items() if v is not None}  # Chroma rejects None


def chroma_where(where: Mapping[str, object] | None) -> dict | None:
    if not where:
        return None
    clauses = [{k: v} for k, v in where.items()]
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class VectorStore:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._client = make_client(settings)
        self._collection = self._client.get_or_create_collection(
            name=settings.collection,
            embedding_function=ChromaEmbeddingFunction(settings.embedder, embedder),
            configuration={"hnsw": {"space": "cosine"}},
        )

    def count(self) -> int:
        return self._collection.count()

    def ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray, batch: int = 1000) -> None:
        for i in range(0, len(chunks), batch):
            part = chunks[i : i + batch]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=vectors[i : i + batch],
                documents=[c.text for c in part],
                metadatas=[chunk_metadata(c) for c in part],
            )

    def delete(self, ids: Sequence[str], batch: int = 1000) -> None:
        ids = list(ids)
        for i in range(0, len(ids), batch):
            self._collection.delete(ids=ids[i : i + batch])

    def query(
        self, vector: np.ndarray, n: int, where: Mapping[str, object] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) pairs, best first."""
        if n <= 0:
            return []
        res = self._collection.query(
            query_embeddings=[vector], n_results=n, where=chroma_where(where), include=["distances"]
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0], strict=True)]
