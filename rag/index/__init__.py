"""Stage 2 — index: the store (manifest, reports, chunks), vectors (Chroma), the keyword
index (BM25), embedders, and the Index that keeps them in step (ingest, remove, reconcile)."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "Index": "rag.index.index",
    "IndexError_": "rag.index.index",
    "IndexBusyError": "rag.index.index",
    "EmbedderMismatchError": "rag.index.index",
    "IngestResult": "rag.index.index",
    "Store": "rag.index.store",
    "VectorStore": "rag.index.vectors",
    "KeywordIndex": "rag.index.keyword",
    "tokenize": "rag.index.keyword",
    "Embedder": "rag.index.embeddings",
    "EmbedderError": "rag.index.embeddings",
    "HashEmbedder": "rag.index.embeddings",
    "create_embedder": "rag.index.embeddings",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
