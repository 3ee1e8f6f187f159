"""Benchmarks and the soak test. Nothing else in the library imports this package."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "bench_ingest": "rag.bench.ingest",
    "bench_search": "rag.bench.search",
    "bench_quality": "rag.bench.search",
    "bench_llm": "rag.bench.llm",
    "bench_summarize": "rag.bench.summarize",
    "bench_all": "rag.bench.all",
    "soak": "rag.bench.soak",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
