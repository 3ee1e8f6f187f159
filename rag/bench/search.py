"""Search latency at scale and retrieval quality, each beside baselines measured in the same run.

``bench_search``: a synthetic corpus from the seeds (rag.bench.corpus) at 1k, 10k and 100k
chunks, written in bulk into ours and into the baselines (rag.bench.scale, rag.bench.baselines).
Sizes above ``real_embedder_max`` (default: all) are embedded with the HashEmbedder of the same
dimension: index latency does not depend on vector content, and e5 costs ~0.4 CPU-s per
250-character passage on this machine (1k chunks plus the baseline's ~830 took over 10
minutes). The real embedder's end-to-end latency is measured by ``bench_quality`` on the
seed index, and the real query embedding is timed here on the benchmark queries. Query
vectors are computed before the timed region (the real query embedding is timed on its own
and added per query in ``plus_query_embedding``), and the systems are called alternately
per query.

``bench_quality`` (rag/bench/quality.py, re-exported here for its callers): recall@k and MRR on
the ask suite and on the paraphrased dev set (tune and held-out parts), ours vs the same baselines.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.baselines import FixedQueryEmbedder
from rag.bench.corpus import DEFAULT_SEED, GENERATOR, CorpusDoc, benchmark_queries, iter_corpus, seed_material
from rag.bench.incremental import incremental_add, pick_document
from rag.bench.measure import load, phase, stats_ms, time_alternating
from rag.bench.quality import BUILTIN_CASES, DEFAULT_SUITE, bench_quality, load_ask_cases
from rag.bench.scale import (
    CACHE_MIN_CHUNKS,
    Built,
    cached_or_built,
    extrapolate,
    prefix,
    probe_serving_memory,
    release_chroma,
    temp_build,
)
from rag.index.embeddings import Embedder, HashEmbedder, create_embedder
from rag.index.index import Index
from rag.retrieval import dense_text, hybrid_search
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[2]
__all__ = ["BUILTIN_CASES", "DEFAULT_SUITE", "bench_quality", "bench_search", "load_ask_cases"]
DEFAULT_SIZES = (1_000, 10_000, 100_000)
TARGET_P95_MS = 25.0
Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class _Recorder:
    """An Embedder that passes queries to ``inner`` and keeps each text's vector."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.id, self.dim = inner, inner.id, inner.dim
        self.seen: dict[str, np.ndarray] = {}

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.seen[text] = vec = self.inner.embed_query(text)
        return vec


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


# -------------------------------------------------------------------------- search


def bench_search(
    settings: Settings,
    *,
    seeds_dir: Path = REPO / "seeds",
    sizes: Sequence[int] = DEFAULT_SIZES,
    queries: int = 100,
    k: int = 5,
    real_embedder_max: int = 0,
    bm25_max_queries: int = 30,
    seed: int = DEFAULT_SEED,
    suite: Path | None = DEFAULT_SUITE,
    query_embedder: Embedder | None = None,
    cache: bool = True,
    cache_min_chunks: int = CACHE_MIN_CHUNKS,
    probe_memory: bool = True,
    backend: str = "sqlite",
    log: Log = _quiet,
) -> dict[str, Any]:
    """p50/p95 of ``hybrid_search`` at each size vs LangChain+Chroma and rank_bm25 (module doc).

    ``cache``: sizes of at least ``cache_min_chunks`` are built once and kept (rag.bench.scale).
    ``backend="postgres"``: the store and keyword search in ``settings.database_url`` (the
    collection ``bench`` is dropped before each size; no build cache)."""
    if backend not in ("sqlite", "postgres"):
        raise ValueError(f"--backend {backend!r}: use sqlite or postgres")
    if backend == "postgres":
        if not settings.database_url:
            raise ValueError("--backend postgres needs RAG_DATABASE_URL=postgresql://…")
        from rag.index.pg_store import drop_collection

        cache = False
    else:
        settings = settings.model_copy(update={"database_url": None})
    machine_start = load()
    real = query_embedder or create_embedder(settings)
    hashed = HashEmbedder(dim=real.dim)
    material = seed_material(seeds_dir, settings)
    cases, cases_from = load_ask_cases(suite)
    qs = benchmark_queries(material, queries, seed=seed, fixed=[c[1] for c in cases])

    real.embed_query("预热")  # load and warm the model outside the timed region
    # Ours embeds the simplified question (rag.retrieval.dense_text; the report wording of its
    # colloquial phrases goes to the keyword leg only); the baselines embed it as it is. Both are
    # precomputed.
    ours_text = {q: dense_text(q) for q in qs}
    real_vecs, embed_s = {}, {}
    for q in qs:
        for text in dict.fromkeys([q, ours_text[q]]):
            t0 = time.perf_counter()
            real_vecs[text] = real.embed_query(text)
            if text == ours_text[q]:
                embed_s[q] = time.perf_counter() - t0  # what a user of ours waits for
    hash_vecs = {t: hashed.embed_query(t) for t in real_vecs}

    stream = iter_corpus(material, settings, seed=seed)
    extra = iter_corpus(material, settings, seed=seed + 1)  # the documents added one at a time
    corpus: list[CorpusDoc] = []
    made = {"chunks": 0, "seconds": 0.0}

    def docs_for(n: int) -> list[CorpusDoc]:
        """The first n chunks of the synthetic corpus, generated on demand (once)."""
        if made["chunks"] < n:
            log(f"search: generating synthetic documents up to {n} chunks")
        t0 = time.perf_counter()
        while made["chunks"] < n:
            corpus.append(next(stream))
            made["chunks"] += len(corpus[-1].chunks)
        made["seconds"] += time.perf_counter() - t0
        return prefix(corpus, n)

    cache_root = settings.model_cache_dir / "bench"
    results = []
    for n in sorted(sizes):
        use_real = n <= real_embedder_max
        fixed = FixedQueryEmbedder(real if use_real else hashed, real_vecs if use_real else hash_vecs)
        log(f"search: {n} chunks with {fixed.id}")
        if backend == "postgres":
            drop_collection(settings.database_url, "bench")  # the collection rag.bench.scale uses
        if cache and n >= cache_min_chunks:
            built = cached_or_built(settings, cache_root, n, seed, fixed, docs_for, log)
        else:
            built = temp_build(settings, n, fixed, docs_for(n), log)
        try:
            results.append(
                _measure(built, n, qs, embed_s, k=k, bm25_limit=len(qs) if n < 10_000 else bm25_max_queries)
            )
            results[-1].update(incremental_add(built.index, pick_document(extra)))
            built.index.close()
            release_chroma()
            if probe_memory:
                recorder = _Recorder(fixed)
                serving = Index(built.index.settings, embedder=recorder)
                try:
                    # The probe's process has no embedder: it gets the vector of every text the
                    # dense leg embeds for these queries, recorded here, so the probe never
                    # depends on how that text is formed (rag.retrieval.dense_text), e.g. when it
                    # opened another store (rag.bench.scale).
                    probe_qs = qs[:20]
                    for q in probe_qs:
                        hybrid_search(serving, q, k=5)
                    results[-1]["ours"]["serving"] = probe_serving_memory(serving, probe_qs, recorder.seen)
                finally:
                    serving.close()
                    release_chroma()
        finally:
            if not built.root.is_relative_to(cache_root):
                shutil.rmtree(built.root, ignore_errors=True)
        del built
        release_chroma()

    if backend == "postgres":
        drop_collection(settings.database_url, "bench")
    largest = results[-1] if results else None
    ours_p95 = largest["ours"]["p95_ms"] if largest else None
    return {
        "what": "hybrid_search (Chroma + bm25s, RRF, dedupe, SQLite chunk fetch) vs LangChain "
        "RecursiveCharacterTextSplitter + langchain_chroma.Chroma.similarity_search (same embedder) "
        "and rank_bm25.BM25Okapi over jieba.lcut tokens of the same splitter chunks; the systems are "
        "called alternately per query",
        "note": f"sizes above {real_embedder_max} chunks are embedded with {hashed.id} (the same "
        f"dimension, {hashed.dim}) instead of {real.id}: index latency does not depend on vector "
        "content. Index latency excludes the query embedding (vectors computed beforehand); the "
        f"query embedding with {real.id} is timed apart (query_embedding) and added back per "
        "query in ours.plus_query_embedding.",
        "machine_start": machine_start,
        "machine_end": load(),
        "backend": backend,
        "corpus": {
            "generator": GENERATOR,
            "seed": seed,
            "seeds_dir": str(seeds_dir),
            "generated_chunks": made["chunks"],
            "generate_and_chunk_s": round(made["seconds"], 2),
        },
        "queries": {"count": len(qs), "k": k, "from_suite": len(cases), "suite": cases_from},
        "query_embedding": {"embedder": real.id, **stats_ms(list(embed_s.values()))},
        "sizes": results,
        "target": {
            "ours_p95_ms_at_most": TARGET_P95_MS,
            "at_chunks": largest["chunks"] if largest else None,
            "measured_p95_ms": ours_p95,
            "met": bool(
                largest
                and largest["chunks"] >= 100_000
                and ours_p95 is not None
                and ours_p95 <= TARGET_P95_MS
            ),
        },
        "memory_extrapolation": extrapolate(results, real.dim),
    }


def _measure(
    built: Built, n: int, qs: list[str], embed_s: dict[str, float], *, k: int, bm25_limit: int
) -> dict[str, Any]:
    index, lc, bm = built.index, built.langchain, built.bm25
    cand = max(index.settings.candidates, k * 4)
    systems: dict[str, Callable[[str], object]] = {
        "ours": lambda q: hybrid_search(index, q, k=k),
        "ours_dense_leg": lambda q: index.dense_search(q, cand),
        "ours_keyword_leg": lambda q: index.keyword_search(q, cand),
        "langchain_chroma": lambda q: lc.search(q, k),
        "rank_bm25": lambda q: bm.search(q, k),
    }
    time_alternating(systems, qs[:3])  # warm-up: first queries load the HNSW and BM25 data
    with phase("queries") as p_q:
        times = time_alternating(systems, qs, {"rank_bm25": bm25_limit})
    lat = {name: stats_ms(list(t.values())) for name, t in times.items()}
    b = built.build
    return {
        "chunks": n,
        "documents": b["documents"],
        "embedder": index.embedder.id,
        "cached_build": built.cached,
        "built_at": b["built_at"],
        "ours": {
            **lat["ours"],
            **b["ours"],
            "dense_leg": lat["ours_dense_leg"],
            "keyword_leg": lat["ours_keyword_leg"],
            "plus_query_embedding": stats_ms([t + embed_s[q] for q, t in times["ours"].items()]),
        },
        "langchain_chroma": {**lat["langchain_chroma"], **b["langchain_chroma"]},
        "rank_bm25": {
            **lat["rank_bm25"],
            **b["rank_bm25"],
            "note": "O(corpus) Python per query token"
            + ("" if bm25_limit >= len(qs) else f"; timed on the first {bm25_limit} queries"),
        },
        "p95_ratio_vs_ours": {
            "langchain_chroma": _ratio(lat["langchain_chroma"]["p95_ms"], lat["ours"]["p95_ms"]),
            "rank_bm25": _ratio(lat["rank_bm25"]["p95_ms"], lat["ours"]["p95_ms"]),
        },
        "queries_peak_rss_mb": p_q.peak_rss_mb,
        "machine": p_q.load_end,
    }
