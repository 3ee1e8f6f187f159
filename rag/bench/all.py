"""``bench_all``: every benchmark of issue 8 in one run, with its baselines, targets and memory.

Phases (each timed, with its own peak RSS and the machine's load before and after):
ingest (rag.bench.ingest.bench_ingest), quality and search (rag.bench.search), llm
(rag.bench.llm.bench_llm), summarize and summarize_concurrency (rag.bench.summarize).
A phase that fails is reported with its error and the others still run; the optional
concurrency phase is skipped when the time budget is nearly spent.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.bench.measure import load, phase
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[2]
PHASES = ("ingest", "quality", "search", "llm", "summarize", "summarize_concurrency")
BUDGET_S = 15 * 60
CONCURRENCY_RESERVE_S = 150  # what the concurrency phase needs (~135 s measured on 2 cores)
Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bench_all(
    settings: Settings,
    *,
    seeds_dir: Path = REPO / "seeds",
    phases: Sequence[str] = PHASES,
    sizes: Sequence[int] | None = None,
    search_queries: int = 100,
    ingest_repeat: int = 2,
    llm_runs: int = 2,
    cache: bool = True,
    budget_s: float = BUDGET_S,
    log: Log = _quiet,
) -> dict[str, Any]:
    """Run the phases in order and return every figure (see ``figure_table`` for a summary)."""
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        raise ValueError(f"unknown bench phase(s) {unknown}: choose from {', '.join(PHASES)}")
    t_start = time.perf_counter()
    out: dict[str, Any] = {
        "machine": {**load(), "cpu": _cpu_model(), "python": platform.python_version()},
        "settings": {
            "embedder": settings.embedder,
            "local_model": settings.local_model,
            "n_threads": settings.n_threads,
            "n_ctx": settings.n_ctx,
        },
        "phases": {},
    }
    embedder = None

    def shared_embedder():
        nonlocal embedder
        if embedder is None:
            from rag.index.embeddings import create_embedder

            embedder = create_embedder(settings)
        return embedder

    def run_ingest() -> dict:
        from rag.bench.ingest import bench_ingest

        return bench_ingest(settings, seeds_dir, repeat=ingest_repeat)

    def run_quality() -> dict:
        from rag.bench.search import bench_quality

        return bench_quality(settings, seeds_dir=seeds_dir, embedder=shared_embedder(), log=log)

    def run_search() -> dict:
        from rag.bench.search import DEFAULT_SIZES, bench_search

        return bench_search(
            settings,
            seeds_dir=seeds_dir,
            sizes=sizes or DEFAULT_SIZES,
            queries=search_queries,
            query_embedder=shared_embedder(),
            cache=cache,
            log=log,
        )

    def run_llm() -> dict:
        from rag.bench.llm import bench_llm

        return bench_llm(settings, runs=llm_runs, variants=False)  # the variants: `rag bench llm`

    def run_summarize() -> dict:
        from rag.bench.summarize import bench_summarize

        return bench_summarize(settings)

    def run_concurrency() -> dict:
        from rag.bench.summarize import bench_summarize_concurrency

        elapsed = time.perf_counter() - t_start
        if elapsed > budget_s - CONCURRENCY_RESERVE_S:
            return {"skipped": f"time budget: {elapsed:.0f} s of {budget_s:.0f} s already used"}
        return bench_summarize_concurrency(settings)

    runners = {
        "ingest": run_ingest,
        "quality": run_quality,
        "search": run_search,
        "llm": run_llm,
        "summarize": run_summarize,
        "summarize_concurrency": run_concurrency,
    }
    for name in PHASES:
        if name not in phases:
            continue
        log(f"bench: {name} …")
        with phase(name) as p:
            try:
                out[name] = runners[name]()
            except Exception as exc:  # one broken phase must not hide the others' figures
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        out["phases"][name] = p.to_json()
        log(f"bench: {name} done in {p.seconds:.0f} s (peak RSS {p.peak_rss_mb} MB)")

    total = time.perf_counter() - t_start
    out["total_s"] = round(total, 1)
    out["machine_end"] = load()
    out["memory"] = _memory(out)
    out["targets"] = targets(out, budget_s)
    return out


def _memory(out: dict[str, Any]) -> dict[str, Any]:
    phases = out.get("phases", {})
    search = out.get("search") or {}
    return {
        "peak_rss_mb_per_phase": {name: p.get("peak_rss_mb") for name, p in phases.items()},
        "rss_method": next((p.get("rss_method") for p in phases.values()), None),
        "search_serving_rss_mb": {
            str(s["chunks"]): (s["ours"].get("serving") or {}).get("index_rss_mb")
            for s in search.get("sizes", [])
        },
        "per_million_chunks": search.get("memory_extrapolation"),
    }


def _get(d: Any, *path: str | int) -> Any:
    for key in path:
        try:
            d = d[key]
        except (KeyError, IndexError, TypeError):
            return None
    return d


def targets(out: dict[str, Any], budget_s: float = BUDGET_S) -> list[dict[str, Any]]:
    """Each of the issue's targets with the measured figure and whether it is met (None: not run)."""
    ingest = out.get("ingest") or {}
    overhead = None
    if ingest.get("raw_embed_seconds") and ingest.get("ingest_seconds"):
        overhead = round(ingest["ingest_seconds"] / ingest["raw_embed_seconds"] - 1, 3)
    search = out.get("search") or {}
    largest = (search.get("sizes") or [None])[-1]
    p95 = _get(largest, "ours", "p95_ms")
    ttft = _get(out, "llm", "worker", "ttft_s")
    summ = _get(out, "summarize", "wall_s")

    def row(name: str, target: str, measured: Any, met: bool | None) -> dict[str, Any]:
        return {"target": name, "goal": target, "measured": measured, "met": met}

    return [
        row(
            "ingest overhead vs raw embedder",
            "≤ 20%",
            overhead,
            None if overhead is None else overhead <= 0.20,
        ),
        row(
            f"search p95 at {_get(largest, 'chunks') or '100k'} chunks (index, query embedding apart)",
            "≤ 25 ms at 100k",
            p95,
            _get(search, "target", "met") if p95 is not None else None,
        ),
        row("llm TTFT, default ask, cold KV", "≤ 5 s", ttft, None if ttft is None else ttft <= 5.0),
        row("summarize seed 汇编, embedded model", "≤ 120 s", summ, None if summ is None else summ <= 120.0),
        row(
            "bench all wall time",
            f"< {budget_s / 60:.0f} min",
            out.get("total_s"),
            None if out.get("total_s") is None else out["total_s"] < budget_s,
        ),
    ]


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:g}{unit}"
    return f"{x}{unit}"


def figure_table(out: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, ours, baseline or target) rows summarising a ``bench_all`` result."""
    rows: list[tuple[str, str, str]] = []
    m = out.get("machine", {})
    rows.append(
        (
            "machine",
            f"{m.get('cpus')} CPUs, load {m.get('loadavg_1m')}/{m.get('loadavg_5m')} "
            f"(end {_get(out, 'machine_end', 'loadavg_1m')})",
            _fmt(m.get("cpu")),
        )
    )
    ing = out.get("ingest") or {}
    if "error" in ing:
        rows.append(("ingest", ing["error"], ""))
    elif ing:
        rows.append(
            (
                "ingest chunks/s (seeds, e5)",
                _fmt(ing.get("ingest_chunks_per_s")),
                f"raw embedder {_fmt(ing.get('raw_embed_chunks_per_s'))}; overhead "
                f"{ing.get('overhead_vs_raw')} (target ≤ 20%)",
            )
        )
        rows.append(("unchanged re-ingest", _fmt(ing.get("unchanged_reingest_seconds"), " s"), ""))
    q = out.get("quality") or {}
    if "error" in q:
        rows.append(("quality", q["error"], ""))
    for name, v in (q.get("systems") or {}).items():
        rows.append(
            (
                f"quality {name}: recall@3 / MRR@10",
                f"{v['recall_at_3']} / {v['mrr_at_10']}",
                f"p50 {v['latency_with_query_embedding']['p50_ms']} ms incl. e5 query",
            )
        )
    s = out.get("search") or {}
    if "error" in s:
        rows.append(("search", s["error"], ""))
    if s.get("query_embedding"):
        qe = s["query_embedding"]
        rows.append(("query embedding (e5) p50/p95", f"{qe['p50_ms']} / {qe['p95_ms']} ms", ""))
    for size in s.get("sizes", []):
        o, lc, bm = size["ours"], size["langchain_chroma"], size["rank_bm25"]
        tag = f"{size['chunks']:,} chunks ({'e5' if 'e5' in size['embedder'] else 'hash'})"
        rows.append(
            (
                f"search p50/p95 {tag}",
                f"{o['p50_ms']} / {o['p95_ms']} ms",
                f"langchain_chroma {lc['p50_ms']} / {lc['p95_ms']} ms; rank_bm25 {bm['p50_ms']} / "
                f"{bm['p95_ms']} ms",
            )
        )
        e2e = o.get("plus_query_embedding") or {}
        rows.append(
            ("  same, plus the e5 query embedding", f"{e2e.get('p50_ms')} / {e2e.get('p95_ms')} ms", "")
        )
        rows.append(
            (
                f"build {tag}",
                f"{o['build_s']} s ({o['build_cpu_s']} CPU s)"
                + (" [cached]" if size.get("cached_build") else ""),
                f"langchain_chroma {lc['build_s']} s; rank_bm25 {bm['build_s']} s",
            )
        )
        serving = o.get("serving") or {}
        if serving:
            rows.append(
                (
                    f"serving RSS {tag}",
                    f"{serving.get('index_rss_mb')} MB",
                    f"open + first query {serving.get('open_and_first_query_s')} s",
                )
            )
    ex = s.get("memory_extrapolation") or {}
    if ex.get("serving_rss_mb_per_million_chunks") is not None:
        rows.append(
            (
                "per million chunks (extrapolated)",
                f"RSS {ex['serving_rss_mb_per_million_chunks']} MB",
                f"disk {ex['disk_mb_per_million_chunks']} MB + embedding cache "
                f"{ex['embedding_cache_mb_per_million_chunks']} MB",
            )
        )
    llm = out.get("llm") or {}
    if "error" in llm:
        rows.append(("llm", llm["error"], ""))
    elif llm:
        w, r = llm["worker"], llm["raw"]
        rows.append(
            (
                "llm TTFT (cold KV), default ask",
                _fmt(w["ttft_s"], " s"),
                f"raw llama-cpp {_fmt(r['ttft_s'], ' s')}; {llm.get('cpu')}",
            )
        )
        rows.append(
            ("llm generation tok/s", _fmt(w["gen_tokens_per_s"]), f"raw {_fmt(r['gen_tokens_per_s'])}")
        )
        pr = llm.get("prefix_reuse") or {}
        rows.append(
            (
                "llm TTFT 2nd question, KV prefix reused",
                _fmt(pr.get("ttft_warm_s"), " s"),
                f"cold {_fmt(pr.get('ttft_cold_s'), ' s')}; shared prefix "
                f"{pr.get('shared_prefix_tokens')}/{pr.get('prompt_tokens')} tokens",
            )
        )
    summ = out.get("summarize") or {}
    if "error" in summ or summ.get("available") is False:
        rows.append(("summarize", summ.get("error") or summ.get("note", ""), ""))
    elif summ:
        rows.append(
            (
                "summarize seed 汇编 (embedded)",
                _fmt(summ["wall_s"], " s"),
                f"target ≤ 120 s; {summ['reports']} reports, {summ['timing'].get('calls')} model calls",
            )
        )
    conc = out.get("summarize_concurrency") or {}
    if conc.get("runs"):
        runs = ", ".join(f"{n}: {v['wall_s']} s" for n, v in conc["runs"].items())
        rows.append(("summarize via local server, by concurrency", runs, f"speedup {conc.get('speedup')}"))
    elif conc:
        rows.append(
            ("summarize concurrency", conc.get("skipped") or conc.get("error") or conc.get("note", ""), "")
        )
    for name, p in (out.get("phases") or {}).items():
        rows.append(
            (
                f"phase {name}",
                f"{p['seconds']} s, peak RSS {p['peak_rss_mb']} MB",
                f"load {_get(p, 'load_start', 'loadavg_1m')} → {_get(p, 'load_end', 'loadavg_1m')}",
            )
        )
    rows.append(("total", _fmt(out.get("total_s"), " s"), "target < 15 min"))
    return rows
