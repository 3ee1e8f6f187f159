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

``bench_quality``: recall@k and MRR on the ask suite's questions (eval/suites/ask.yaml; a small
built-in list when it is missing) over the seeds indexed with the real embedder, ours (hybrid,
and each leg alone) vs the same baselines.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from rag.bench.baselines import FixedQueryEmbedder, LangChainChroma, RankBM25, split_texts
from rag.bench.corpus import DEFAULT_SEED, GENERATOR, CorpusDoc, benchmark_queries, iter_corpus, seed_material
from rag.bench.measure import load, phase, stats_ms, time_alternating
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
from rag.documents.files import iter_files
from rag.documents.load import load_document
from rag.index.embeddings import Embedder, HashEmbedder, create_embedder
from rag.index.index import Index
from rag.retrieval import hybrid_search
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SUITE = REPO / "eval" / "suites" / "ask.yaml"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
TARGET_P95_MS = 25.0
Log = Callable[[str], None]

# Used when the ask suite is missing: (id, question, source substring, passage substrings).
BUILTIN_CASES = [
    ("tea-factory", "化眉村的茶叶加工厂有多大？", "002_", ["800平米"]),
    ("collective-income", "全镇村集体经济总收入是多少？", "002_", ["179.25万元"]),
    ("party-meetings", "党委书记2022年组织召开了多少场次党委会议？", "001_", ["党委会议26场次"]),
    ("study-day", "村党总支的党员学习日定在每月哪一天？", "000_", ["每月20日党员学习日"]),
    ("sewage-investment", "沿江污水治理项目完成投资多少？", "003_", ["938.47万元"]),
    ("flue-cured-grade", "烤烟收购中上等烟比例达到多少？", "003_", ["71.06％"]),
    ("grain-area", "2023年完成粮食播种面积多少？", "003_", ["5.27万亩"]),
    ("pumpkin-revenue", "种植蜜本南瓜实现了多少销售收入？", "003_", ["16.2万元"]),
]


def _quiet(_: str) -> None:
    return None


def load_ask_cases(suite: Path | None = DEFAULT_SUITE) -> tuple[list[tuple[str, str, str, list[str]]], str]:
    """(cases, where they came from): the suite's ask cases that name an expected passage."""
    if suite is not None and Path(suite).exists():
        data = yaml.safe_load(Path(suite).read_text(encoding="utf-8")) or {}
        cases = []
        for case in data.get("cases", []):
            passage = case.get("expect_passage") or []
            if case.get("task") == "ask" and case.get("question") and passage:
                passage = [passage] if isinstance(passage, str) else list(passage)
                cases.append((case["id"], case["question"], case.get("expect_source") or "", passage))
        if cases:
            return cases, str(suite)
    return list(BUILTIN_CASES), "builtin list in rag/bench/search.py (ask suite not found)"


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
    log: Log = _quiet,
) -> dict[str, Any]:
    """p50/p95 of ``hybrid_search`` at each size vs LangChain+Chroma and rank_bm25 (module doc).

    ``cache``: sizes of at least ``cache_min_chunks`` are built once and kept (rag.bench.scale)."""
    machine_start = load()
    real = query_embedder or create_embedder(settings)
    hashed = HashEmbedder(dim=real.dim)
    material = seed_material(seeds_dir, settings)
    cases, cases_from = load_ask_cases(suite)
    qs = benchmark_queries(material, queries, seed=seed, fixed=[c[1] for c in cases])

    real.embed_query("预热")  # load and warm the model outside the timed region
    real_vecs, embed_s = {}, {}
    for q in qs:
        t0 = time.perf_counter()
        real_vecs[q] = real.embed_query(q)
        embed_s[q] = time.perf_counter() - t0
    hash_vecs = {q: hashed.embed_query(q) for q in qs}

    stream = iter_corpus(material, settings, seed=seed)
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
        if cache and n >= cache_min_chunks:
            built = cached_or_built(settings, cache_root, n, seed, fixed, docs_for, log)
        else:
            built = temp_build(settings, n, fixed, docs_for(n), log)
        try:
            results.append(
                _measure(built, n, qs, embed_s, k=k, bm25_limit=len(qs) if n < 10_000 else bm25_max_queries)
            )
            built.index.close()
            release_chroma()
            if probe_memory:
                serving = Index(built.index.settings, embedder=fixed)
                try:
                    results[-1]["ours"]["serving"] = probe_serving_memory(
                        serving, {q: fixed.embed_query(q) for q in qs[:20]}
                    )
                finally:
                    serving.close()
                    release_chroma()
        finally:
            if not built.root.is_relative_to(cache_root):
                shutil.rmtree(built.root, ignore_errors=True)
        del built
        release_chroma()

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


# ------------------------------------------------------------------------- quality


def _first_relevant(hits: Sequence[tuple[str, str]], source: str, passage: Sequence[str]) -> int:
    """1-based rank of the first hit from ``source`` containing every ``passage`` string; 0 if none
    (the rule of eval.metrics.relevant)."""
    for rank, (hit_source, text) in enumerate(hits, 1):
        if source in hit_source and all(p in text for p in passage):
            return rank
    return 0


def _lc_hits(docs: Sequence[Any]) -> list[tuple[str, str]]:
    return [(d.metadata["source"], d.page_content) for d in docs]


def bench_quality(
    settings: Settings,
    *,
    seeds_dir: Path = REPO / "seeds",
    suite: Path | None = DEFAULT_SUITE,
    embedder: Embedder | None = None,
    depth: int = 10,
    log: Log = _quiet,
) -> dict[str, Any]:
    """recall@1/3/depth and MRR@depth of ours (hybrid, and each leg alone) vs the baselines."""
    machine_start = load()
    embedder = embedder or create_embedder(settings)
    cases, cases_from = load_ask_cases(suite)
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-quality-"))
    try:
        run_settings = settings.model_copy(
            update={"index_dir": tmp / "ours", "chroma_url": None, "collection": "quality"}
        )
        log(f"quality: indexing {seeds_dir} with {embedder.id}")
        with phase("index ours") as p_ours:
            index = Index(run_settings, embedder=embedder)
            index.ingest([seeds_dir])
        texts = [
            (doc.source, r.text)
            for f in iter_files([seeds_dir])
            for doc in [load_document(f)]
            for r in doc.reports
        ]
        lc_docs = split_texts(texts, settings.chunk_max_chars)
        with phase("index langchain") as p_lc:
            lc = LangChainChroma(tmp / "langchain", embedder)
            lc.add(lc_docs)
            bm = RankBM25()
            bm.add(lc_docs)

        def chunks_of(pairs: list[tuple[str, float]]) -> list[tuple[str, str]]:
            found = index.store.chunks_by_ids([cid for cid, _ in pairs])
            return [(found[cid].source, found[cid].text) for cid, _ in pairs if cid in found]

        systems: dict[str, Callable[[str], list[tuple[str, str]]]] = {
            "ours": lambda q: [(p.chunk.source, p.chunk.text) for p in hybrid_search(index, q, k=depth)],
            "ours_dense_only": lambda q: chunks_of(index.dense_search(q, depth)),
            "ours_keyword_only": lambda q: chunks_of(index.keyword_search(q, depth)),
            "langchain_chroma": lambda q: _lc_hits(lc.search(q, depth)),
            "rank_bm25": lambda q: _lc_hits(bm.search(q, depth)),
        }
        names = list(systems)
        ranks: dict[str, dict[str, int]] = {n: {} for n in names}
        times: dict[str, list[float]] = {n: [] for n in names}
        for n in names:  # warm-up
            systems[n](cases[0][1])
        for i, (case_id, question, source, passage) in enumerate(cases):
            for n in names if i % 2 == 0 else reversed(names):
                t0 = time.perf_counter()
                hits = systems[n](question)
                times[n].append(time.perf_counter() - t0)
                ranks[n][case_id] = _first_relevant(hits, source, passage)

        def metrics(n: str) -> dict[str, Any]:
            rs = list(ranks[n].values())
            return {
                "recall_at_1": round(sum(0 < r <= 1 for r in rs) / len(rs), 3),
                "recall_at_3": round(sum(0 < r <= 3 for r in rs) / len(rs), 3),
                f"recall_at_{depth}": round(sum(r > 0 for r in rs) / len(rs), 3),
                f"mrr_at_{depth}": round(sum(1 / r for r in rs if r) / len(rs), 3),
                "missed_at_3": [c for c, r in ranks[n].items() if not 0 < r <= 3],
                "latency_with_query_embedding": stats_ms(times[n]),
            }

        out = {
            "what": f"recall@k / MRR@{depth} over the ask suite's questions; a hit is a passage from the "
            "expected source containing every expected substring (eval.metrics.relevant)",
            "cases": len(cases),
            "suite": cases_from,
            "embedder": embedder.id,
            "machine_start": machine_start,
            "ours_chunks": index.store.counts()["chunks"],
            "baseline_chunks": len(lc_docs),
            "note": "baseline chunks are larger (RecursiveCharacterTextSplitter, chunk_size="
            f"{settings.chunk_max_chars}, overlap {settings.chunk_max_chars // 10}), which favours them "
            "on substring recall",
            "index_s": {"ours": p_ours.seconds, "baselines": p_lc.seconds},
            "systems": {n: metrics(n) for n in names},
        }
        index.close()
        return out
    finally:
        release_chroma()
        shutil.rmtree(tmp, ignore_errors=True)
