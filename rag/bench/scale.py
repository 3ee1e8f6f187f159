"""Building the scale indexes for ``bench_search``: ours and the baselines, on the same data.

Ours is written in bulk through the Index's public components (no per-file ingest): the
order of ``Index.ingest`` — vectors upserted, store committed (one transaction per
document), then ``Index.reconcile`` checks Chroma against the store and saves the keyword
index for the new generation. Skipped: file loading and the embedding cache.

A 100k-chunk build costs ~10 CPU-minutes on this 2-core class of machine for ours alone
(jieba tokenizing for BM25, then Chroma's HNSW inserts), and as much again for the two
baselines: more than the whole ``rag bench all`` budget. So sizes of at least
``CACHE_MIN_CHUNKS`` are kept in a cache (``<model_cache_dir>/bench``) keyed by everything
that decides their content — generator, seed, size, chunk settings, embedder, the package
versions and the source code that generates, parses, chunks, stores and indexes — and their
build figures are those of the run that built them (reported with ``cached: true``).
"""

from __future__ import annotations

import gc
import hashlib
import importlib.metadata
import inspect
import json
import multiprocessing
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.baselines import FixedQueryEmbedder, LangChainChroma, RankBM25, split_texts
from rag.bench.corpus import GENERATOR, CorpusDoc
from rag.bench.measure import Clock, phase, rss_mb
from rag.index.embeddings import HashEmbedder
from rag.index.index import Index
from rag.retrieval import hybrid_search
from rag.settings import Settings

CACHE_MIN_CHUNKS = 50_000
_RAG = Path(__file__).resolve().parents[1]
# The modules whose code decides what a scale index holds (a change rebuilds the cache).
CACHE_SOURCES = (
    *("bench/corpus.py", "bench/baselines.py", "schema.py"),
    *sorted(p.relative_to(_RAG).as_posix() for p in (_RAG / "documents").glob("*.py")),
    *sorted(p.relative_to(_RAG).as_posix() for p in (_RAG / "index").glob("*.py")),
)
CACHE_PACKAGES = (
    *("chromadb", "bm25s", "jieba", "rank-bm25", "langchain-chroma", "langchain-text-splitters", "numpy"),
)


def _version(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def cache_key(settings: Settings, n: int, seed: int, embedder_id: str) -> str:
    h = hashlib.sha256()
    spec = {
        "generator": GENERATOR,
        "seed": seed,
        "chunks": n,
        "chunk_max_chars": settings.chunk_max_chars,
        "chunk_min_chars": settings.chunk_min_chars,
        "embedder": embedder_id,
        "packages": {p: _version(p) for p in CACHE_PACKAGES},
    }
    h.update(json.dumps(spec, sort_keys=True).encode())
    for name in CACHE_SOURCES:
        h.update((_RAG / name).read_bytes())
    for fn in (bulk_add, build, _settings_for):  # this module's part in what a build holds
        h.update(inspect.getsource(fn).encode())
    return h.hexdigest()[:16]


def release_chroma() -> None:
    """Drop Chroma's per-path client cache so a finished index frees its memory."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    gc.collect()


def disk_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 1e6, 1)


def bulk_add(index: Index, docs: Sequence[CorpusDoc], batch: int = 1000) -> dict[str, float]:
    """Write parsed documents and their chunks through the Index's public components, in bulk
    (see the module docstring). Returns wall and CPU seconds per step."""
    chunks = [c for d in docs for c in d.chunks]
    embedder = index.embedder
    clock = Clock()
    parts = [
        embedder.embed_passages([c.embedding_text() for c in chunks[i : i + batch]])
        for i in range(0, len(chunks), batch)
    ]
    vectors = np.vstack(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    clock.lap("embed")
    index.vectors.upsert(chunks, vectors, batch=batch)
    clock.lap("chroma_upsert")
    for d in docs:
        index.store.replace_document(d.document, d.chunks)
    if index.store.get_meta("embedder_id") is None:
        index.store.set_meta("embedder_id", embedder.id)
    clock.lap("store")
    fixed = index.reconcile()
    clock.lap("reconcile_and_keyword_build")
    if any(fixed.values()):
        raise RuntimeError(f"bulk write left Chroma and the store apart: {fixed}")
    return clock.laps


def prefix(docs: Sequence[CorpusDoc], n_chunks: int) -> list[CorpusDoc]:
    """The first documents of ``docs`` holding exactly ``n_chunks`` chunks (the last cut short)."""
    out, have = [], 0
    for d in docs:
        if have >= n_chunks:
            break
        need = n_chunks - have
        out.append(d if len(d.chunks) <= need else CorpusDoc(d.document, d.chunks[:need]))
        have += len(out[-1].chunks)
    return out


@dataclass
class Built:
    """The three systems over one scale corpus, and how they were built."""

    root: Path
    index: Index
    langchain: LangChainChroma
    bm25: RankBM25
    build: dict[str, Any]
    cached: bool


def _settings_for(settings: Settings, root: Path, fixed: FixedQueryEmbedder) -> Settings:
    return settings.model_copy(
        update={
            "index_dir": root / "ours",
            "chroma_url": None,
            "collection": "bench",
            "embedder": "hash" if fixed.id == HashEmbedder(fixed.dim).id else settings.embedder,
        }
    )


def build(
    settings: Settings, root: Path, docs: Sequence[CorpusDoc], fixed: FixedQueryEmbedder, log=print
) -> Built:
    """Build ours and both baselines into ``root`` from the same documents, timing each."""
    n = sum(len(d.chunks) for d in docs)
    with phase("build ours") as p_ours:
        index = Index(_settings_for(settings, root, fixed), embedder=fixed)
        parts = bulk_add(index, docs)
    log(f"search: {n} chunks: ours built in {p_ours.seconds:.0f} s {parts}")
    texts = [t for d in docs for t in d.texts()]
    with phase("split") as p_split:
        lc_docs = split_texts(texts, settings.chunk_max_chars)
    with phase("build langchain") as p_lc:
        lc = LangChainChroma(root / "langchain", fixed)
        lc.add(lc_docs)
    with phase("build rank_bm25") as p_bm:
        bm = RankBM25()
        bm.add(lc_docs)
    bm.save(root / "rank_bm25.pkl")
    log(
        f"search: {n} chunks: baselines built: langchain {p_lc.seconds:.0f} s, rank_bm25 {p_bm.seconds:.0f} s"
    )
    ours_chars = [len(c.text) for d in docs for c in d.chunks]
    lc_chars = [len(d.page_content) for d in lc_docs]
    figures = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "documents": len(docs),
        "ours": {
            "build_s": p_ours.seconds,
            "build_cpu_s": p_ours.cpu_seconds,
            "build_steps": parts,
            "build_peak_rss_mb": p_ours.peak_rss_mb,
            "build_load": p_ours.load_end,
            "mean_chunk_chars": round(float(np.mean(ours_chars)), 1) if ours_chars else None,
            "disk_mb": {
                "store": round(
                    disk_mb(index.dir / "store.sqlite") + disk_mb(index.dir / "store.sqlite-wal"), 1
                ),
                "chroma": disk_mb(index.dir / "chroma"),
                "keyword": disk_mb(index.dir / "keyword"),
            },
        },
        "langchain_chroma": {
            "chunks": len(lc_docs),
            "mean_chunk_chars": round(float(np.mean(lc_chars)), 1) if lc_chars else None,
            "split_s": p_split.seconds,
            "build_s": p_lc.seconds,
            "build_cpu_s": p_lc.cpu_seconds,
            "build_embed_s": round(lc.embeddings.passage_seconds, 2),
            "build_peak_rss_mb": p_lc.peak_rss_mb,
            "disk_mb": disk_mb(root / "langchain"),
        },
        "rank_bm25": {
            "chunks": bm.count,
            "build_s": p_bm.seconds,
            "build_cpu_s": p_bm.cpu_seconds,
            "build_peak_rss_mb": p_bm.peak_rss_mb,
        },
    }
    return Built(root, index, lc, bm, figures, cached=False)


def open_built(settings: Settings, root: Path, fixed: FixedQueryEmbedder) -> Built:
    """Reopen a cached build (its figures are those of the run that built it)."""
    figures = json.loads((root / "build.json").read_text(encoding="utf-8"))
    index = Index(_settings_for(settings, root, fixed), embedder=fixed)
    lc = LangChainChroma(root / "langchain", fixed)
    return Built(root, index, lc, RankBM25.load(root / "rank_bm25.pkl"), figures, cached=True)


def cached_or_built(
    settings: Settings,
    cache_root: Path,
    n: int,
    seed: int,
    fixed: FixedQueryEmbedder,
    docs_for: Any,
    log=print,
) -> Built:
    """The cached build of this size if it is complete and its key matches, else a new one
    (built aside, then renamed into place). ``docs_for(n)`` makes the documents when needed."""
    final = cache_root / f"scale-{n}-{cache_key(settings, n, seed, fixed.id)}"
    if (final / "build.json").exists():
        built = open_built(settings, final, fixed)
        if built.index.store.counts()["chunks"] == n and built.bm25.count:
            log(f"search: {n} chunks: cached build {final}")
            return built
        built.index.close()
        release_chroma()
        shutil.rmtree(final, ignore_errors=True)
    cache_root.mkdir(parents=True, exist_ok=True)
    aside = cache_root / f".building-{n}-{uuid.uuid4().hex[:8]}"
    built = build(settings, aside, docs_for(n), fixed, log)
    (aside / "build.json").write_text(json.dumps(built.build, ensure_ascii=False, indent=1), encoding="utf-8")
    built.index.close()
    release_chroma()
    root = final
    try:
        aside.rename(final)
    except OSError:  # another run finished the same build first: use this one from aside
        root = aside
    reopened = open_built(settings, root, fixed)
    reopened.cached = False
    return reopened


def temp_build(
    settings: Settings, n: int, fixed: FixedQueryEmbedder, docs: Sequence[CorpusDoc], log=print
) -> Built:
    return build(settings, Path(tempfile.mkdtemp(prefix=f"rag-bench-{n}-")), docs, fixed, log)


# ----------------------------------------------------------------- serving memory probe


def _serving_probe(
    index_dir: str,
    settings_update: dict,
    embedder_id: str,
    dim: int,
    queries: list[str],
    vectors: dict[str, list[float]],
) -> dict[str, Any]:
    """In a fresh process: RSS after imports, then after opening the index and answering queries.
    ``vectors``: every text the dense leg embeds for ``queries`` (recorded by the caller)."""
    base = rss_mb()
    embedder = FixedQueryEmbedder(
        None, {q: np.asarray(v) for q, v in vectors.items()}, embedder_id=embedder_id, dim=dim
    )
    settings = Settings(**{**settings_update, "index_dir": Path(index_dir)})
    t0 = time.perf_counter()
    index = Index(settings, embedder=embedder)
    hybrid_search(index, queries[0], k=5)
    first = time.perf_counter() - t0
    for q in queries[1:]:
        hybrid_search(index, q, k=5)
    end = rss_mb()
    return {
        "rss_after_imports_mb": base,
        "rss_serving_mb": end,
        "index_rss_mb": round(end - base, 1) if end and base else None,
        "open_and_first_query_s": round(first, 3),
        "queries": len(queries),
    }


def probe_serving_memory(
    index: Index, queries: Sequence[str], vectors: Mapping[str, np.ndarray]
) -> dict[str, Any]:
    """Serving RSS of an index, measured in a spawned process where nothing else is loaded."""
    s = index.settings
    update = {"chroma_url": None, "collection": s.collection, "embedder": s.embedder, "database_url": None}
    if s.database_url:  # the store and keyword search live in PostgreSQL: the probe opens them there
        update["database_url"] = s.database_url
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(
            _serving_probe,
            str(index.dir),
            update,
            index.embedder.id,
            index.embedder.dim,
            list(queries),
            {q: np.asarray(v).tolist() for q, v in vectors.items()},
        ).result(timeout=900)


def extrapolate(results: Sequence[dict[str, Any]], dim: int) -> dict[str, Any]:
    """Linear between the two largest sizes, scaled to a million chunks: an extrapolation."""
    usable = [r for r in results if (r["ours"].get("serving") or {}).get("index_rss_mb") is not None]
    if len(usable) < 2:
        return {"note": "needs serving-memory probes at two sizes"}
    a, b = usable[-2], usable[-1]
    span = b["chunks"] - a["chunks"]

    def per_million(value_a: float, value_b: float) -> float:
        return round((value_b - value_a) / span * 1e6)

    def disk(r: dict) -> float:
        return sum(r["ours"]["disk_mb"].values())

    rss = per_million(a["ours"]["serving"]["index_rss_mb"], b["ours"]["serving"]["index_rss_mb"])
    return {
        "method": f"linear between {a['chunks']} and {b['chunks']} chunks, scaled to 1,000,000: "
        "an EXTRAPOLATION, not a measurement",
        "serving_rss_mb_per_million_chunks": rss,
        "disk_mb_per_million_chunks": per_million(disk(a), disk(b)),
        "embedding_cache_mb_per_million_chunks": round((dim * 4 + 64 + 40) * 1e6 / 1e6),
        "embedding_cache_note": "a normal ingest also caches each vector in store.sqlite by content "
        "hash (float32 × dim + key, ~row overhead); the bulk benchmark path skips that cache",
    }
