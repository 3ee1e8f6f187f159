"""Benchmarks return their documented keys and sane values. Tiny sizes, hashed embedder; no
wall-time assertions (the machine is shared)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.bench.all import PHASES, bench_all, figure_table, targets
from rag.bench.baselines import FixedQueryEmbedder, LangChainChroma, RankBM25, split_texts
from rag.bench.corpus import benchmark_queries, iter_corpus, seed_material, take
from rag.bench.measure import phase, stats_ms, time_alternating
from rag.bench.scale import cache_key, prefix
from rag.bench.search import BUILTIN_CASES, bench_quality, bench_search, load_ask_cases
from rag.index.embeddings import HashEmbedder
from rag.settings import Settings
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def material():
    return seed_material(SEEDS, Settings())


def test_synthetic_corpus_is_deterministic_and_exact(material):
    s = Settings()
    a = take(iter_corpus(material, s, seed=7), 250)
    b = take(iter_corpus(material, s, seed=7), 250)
    c = take(iter_corpus(material, s, seed=8), 250)
    assert sum(len(d.chunks) for d in a) == 250
    assert [ch.text for d in a for ch in d.chunks] == [ch.text for d in b for ch in d.chunks]
    assert [ch.text for d in a for ch in d.chunks] != [ch.text for d in c for ch in d.chunks]
    report = a[0].document.reports[0]
    assert report.role and report.year and {"履职", "问题", "打算"} <= {s.kind for s in report.sections}
    for d in a:  # chunks are exact slices of their report, as after a real ingest
        for ch in d.chunks:
            assert d.document.reports[ch.report_index].text[ch.start : ch.end] == ch.text
    assert [len(d.chunks) for d in prefix(a, 100)][-1] >= 1
    assert sum(len(d.chunks) for d in prefix(a, 100)) == 100


def test_benchmark_queries_put_fixed_questions_first(material):
    qs = benchmark_queries(material, 12, fixed=["问题甲", "问题甲", "问题乙"])
    assert qs[:2] == ["问题甲", "问题乙"] and len(qs) == len(set(qs)) == 12


def test_ask_cases_from_suite_or_builtin(tmp_path: Path):
    cases, origin = load_ask_cases()
    assert cases and all(q and passage for _, q, _, passage in cases)
    assert origin.endswith("ask.yaml")
    fallback, origin = load_ask_cases(tmp_path / "missing.yaml")
    assert fallback == BUILTIN_CASES and "builtin" in origin


def test_measure_helpers():
    s = stats_ms([0.001, 0.002, 0.003, 0.010])
    assert s["n"] == 4 and s["p50_ms"] <= s["p95_ms"] <= s["max_ms"] == 10.0
    assert stats_ms([])["p95_ms"] is None
    calls: list[str] = []
    times = time_alternating(
        {"a": lambda q: calls.append("a"), "b": lambda q: calls.append("b")}, ["q1", "q2", "q3"], {"b": 2}
    )
    assert calls == ["a", "b", "b", "a", "a"]  # order flips per query; b capped at 2 queries
    assert set(times["a"]) == {"q1", "q2", "q3"} and set(times["b"]) == {"q1", "q2"}
    with phase("x") as p:
        _ = bytearray(10_000_000)
    assert p.seconds is not None and p.peak_rss_mb and p.peak_rss_mb > 0 and p.method


def test_fixed_query_embedder_and_baselines(tmp_path: Path):
    inner = HashEmbedder()
    fixed = FixedQueryEmbedder(inner, {"问题": np.ones(inner.dim)})
    assert fixed.id == inner.id and fixed.embed_query(" 问题 ")[0] == 1.0
    assert np.allclose(fixed.embed_query("别的"), inner.embed_query("别的"))
    texts = [
        ("a.txt", "投入资金179.25万元。新建文化广场800平米。"),
        ("b.txt", "开展安全生产检查三轮次。"),
        ("c.txt", "发展党员5名，培训入党积极分子30人次。"),
        ("d.txt", "完成粮食播种面积5.27万亩。"),
    ]
    docs = split_texts(texts, 360)  # BM25Okapi's idf is 0 for a term in half of a 2-doc corpus
    lc = LangChainChroma(tmp_path / "lc", fixed)
    lc.add(docs)
    bm = RankBM25()
    bm.add(docs)
    assert lc.count == bm.count == len(docs) == 4
    assert bm.search("安全生产", 1)[0].metadata["source"] == "b.txt"
    assert len(lc.search("文化广场", 2)) == 2
    bm.save(tmp_path / "bm.pkl")
    assert RankBM25.load(tmp_path / "bm.pkl").search("安全生产", 1)[0].page_content == docs[1].page_content


def test_bench_search_keys_and_cache(tmp_path: Path):
    settings = Settings(embedder="hash", model_cache_dir=tmp_path / "cache")
    kw = dict(sizes=(60, 150), queries=8, real_embedder_max=0, cache_min_chunks=150, probe_memory=False)
    out = bench_search(settings, **kw)
    assert {
        "what",
        "note",
        "machine_start",
        "corpus",
        "queries",
        "query_embedding",
        "sizes",
        "target",
        "memory_extrapolation",
    } <= set(out)
    assert [s["chunks"] for s in out["sizes"]] == [60, 150]
    assert "hash" in out["note"] and out["queries"]["count"] == 8
    for size in out["sizes"]:
        for system in ("ours", "langchain_chroma", "rank_bm25"):
            fig = size[system]
            assert fig["n"] > 0 and 0 < fig["p50_ms"] <= fig["p95_ms"], (system, fig)
            assert fig["build_s"] >= 0
        assert size["ours"]["dense_leg"]["n"] == size["ours"]["keyword_leg"]["n"] == 8
        assert size["ours"]["plus_query_embedding"]["p50_ms"] >= size["ours"]["p50_ms"] * 0.5
        assert size["langchain_chroma"]["chunks"] > 0 and size["rank_bm25"]["chunks"] > 0
        assert set(size["ours"]["disk_mb"]) == {"store", "chroma", "keyword"}
    assert out["sizes"][0]["cached_build"] is False
    assert out["target"]["met"] is False  # not a 100k run
    cached = list((tmp_path / "cache" / "bench").glob("scale-150-*"))
    assert len(cached) == 1 and (cached[0] / "build.json").exists()
    again = bench_search(settings, **kw)
    assert again["sizes"][1]["cached_build"] is True
    assert again["sizes"][1]["ours"]["build_s"] == out["sizes"][1]["ours"]["build_s"]


def test_cache_key_changes_with_inputs():
    s = Settings()
    assert cache_key(s, 100, 1, "hash/x") == cache_key(s, 100, 1, "hash/x")
    assert cache_key(s, 100, 1, "hash/x") != cache_key(s, 101, 1, "hash/x")
    assert cache_key(s, 100, 1, "hash/x") != cache_key(Settings(chunk_max_chars=200), 100, 1, "hash/x")


def test_serving_probe_and_extrapolation(tmp_path: Path):
    settings = Settings(embedder="hash", model_cache_dir=tmp_path / "cache")
    out = bench_search(settings, sizes=(40, 80), queries=4, real_embedder_max=0)
    serving = out["sizes"][-1]["ours"]["serving"]
    assert serving["index_rss_mb"] is not None and serving["queries"] == 4
    ex = out["memory_extrapolation"]
    assert "EXTRAPOLATION" in ex["method"] and "serving_rss_mb_per_million_chunks" in ex


def test_serving_probe_opens_the_benchmarked_index_whatever_the_environment(tmp_path: Path, monkeypatch):
    # The probe runs in a spawned process that reads RAG_* from the environment: it must still
    # open the SQLite index it measures, not the PostgreSQL of RAG_DATABASE_URL.
    monkeypatch.setenv("RAG_DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    settings = Settings(embedder="hash", model_cache_dir=tmp_path / "cache", database_url=None)
    out = bench_search(settings, sizes=(40,), queries=4, real_embedder_max=0)
    assert out["sizes"][0]["ours"]["serving"]["queries"] == 4


def test_bench_quality_keys(hash_settings: Settings):
    out = bench_quality(hash_settings, embedder=HashEmbedder())
    assert out["cases"] >= 8 and out["ours_chunks"] > 0 and out["baseline_chunks"] > 0
    assert set(out["systems"]) == {
        "ours",
        "ours_dense_only",
        "ours_keyword_only",
        "langchain_chroma",
        "rank_bm25",
    }
    for fig in out["systems"].values():
        assert 0 <= fig["recall_at_1"] <= fig["recall_at_3"] <= fig["recall_at_10"] <= 1
        assert 0 <= fig["mrr_at_10"] <= 1 and isinstance(fig["missed_at_3"], list)
        assert fig["latency_with_query_embedding"]["n"] == out["cases"]


def test_bench_all_subset_targets_and_table(tmp_path: Path):
    settings = Settings(embedder="hash", model_cache_dir=tmp_path / "cache")
    out = bench_all(settings, phases=("quality", "search"), sizes=(50,), search_queries=5, cache=False)
    assert {"machine", "settings", "phases", "quality", "search", "total_s", "memory", "targets"} <= set(out)
    assert set(out["phases"]) == {"quality", "search"}
    assert all(p["peak_rss_mb"] and p["seconds"] is not None for p in out["phases"].values())
    assert "llm" not in out and out["memory"]["peak_rss_mb_per_phase"]["search"] > 0
    rows = {t["target"].split(" (")[0]: t for t in out["targets"]}
    assert rows["llm TTFT, default ask, cold KV"]["met"] is None  # not run
    table = figure_table(out)
    assert all(len(row) == 3 for row in table) and table[-1][0] == "total"
    with pytest.raises(ValueError, match="unknown bench phase"):
        bench_all(settings, phases=("nope",))
    assert PHASES[0] == "ingest"


def test_targets_from_figures():
    out = {
        "ingest": {"raw_embed_seconds": 10.0, "ingest_seconds": 11.0},
        "search": {"sizes": [{"chunks": 100_000, "ours": {"p95_ms": 20.0}}], "target": {"met": True}},
        "llm": {"worker": {"ttft_s": 6.0}},
        "summarize": {"wall_s": 100.0},
        "total_s": 1000.0,
    }
    met = [t["met"] for t in targets(out)]
    assert met == [True, True, False, True, False]


def test_phase_error_is_reported_not_raised(tmp_path: Path):
    settings = Settings(embedder="hash", model_cache_dir=tmp_path / "cache")
    out = bench_all(settings, phases=("quality",), seeds_dir=tmp_path / "no-seeds")
    assert "error" in out["quality"] and out["phases"]["quality"]["seconds"] is not None


def test_cli_bench_commands_registered():
    import typer

    from rag.cli.bench import register

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("search", "quality", "llm", "summarize", "all"):
        assert name in result.output
    bad = CliRunner().invoke(app, ["search", "--sizes", "abc"])
    assert bad.exit_code != 0
