"""Benchmark of the embedded LLM: the supervised worker vs raw llama-cpp in this process.

``bench_llm(settings, runs=3)`` returns plain numbers (seconds, tokens/s, ratios), with the CPU
model printed beside them (``cpu``), since the same model runs 5x apart on different CPUs:

- ``raw`` / ``worker``: median TTFT, generation tokens/s and total seconds for the same
  ask-style prompt (prompts/ask/default.yaml), greedy, cold KV cache each run, calls
  interleaved. ``raw`` is llama-cpp's own ``create_chat_completion`` on an in-process model;
  ``worker`` is ``LocalLlamaLLM.stream`` through the worker process (what the server runs).
- ``overhead``: worker/raw ratios minus 1 (target ≤ 0.10).
- ``prefix_reuse``: TTFT of a second question over the same passages right after the first
  (llama.cpp reuses the KV of the shared prefix) vs the same call on a cold cache.
- ``variants`` (rag/bench/llm_variants.py): weight repacking on vs off, prompt-lookup
  speculative decoding on a copy-heavy prompt, the OpenMP wait policy and thread count with
  and without another process taking a core.
- ``cpu_share``: CPU time of this process and its children / (wall x n_threads); well below
  1.0 for the raw path means other processes took the cores.

Generation speed counts streamed pieces (llama.cpp yields one per token, a few multi-byte
characters excepted), the same way for both paths.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

from rag.bench.llm_timing import QUESTION_B, ask_messages, summary, timed
from rag.llm.cpu import read_cpu_info
from rag.settings import Settings


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def bench_llm(
    settings: Settings, *, runs: int = 3, max_tokens: int = 96, variants: bool = True
) -> dict[str, Any]:
    """Worker vs in-process raw llama-cpp, prefix reuse, and (``variants``) the runtime choices."""
    # The in-process raw path gets the worker's OpenMP policy, so the comparison is like for like.
    if settings.llm_omp_wait_policy:
        os.environ.setdefault("OMP_WAIT_POLICY", settings.llm_omp_wait_policy)
    from rag.llm.llama_inprocess import InProcessLlamaLLM
    from rag.llm.local import LocalLlamaLLM

    cpu = read_cpu_info()
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    engine = InProcessLlamaLLM(settings)
    t0 = time.perf_counter()
    llama = engine.llama
    load_in_process = time.perf_counter() - t0
    worker = LocalLlamaLLM(settings)
    t0 = time.perf_counter()
    info = worker.load()
    load_worker = time.perf_counter() - t0
    try:
        msgs_a, msgs_b = ask_messages(settings), ask_messages(settings, QUESTION_B)
        tok_a, tok_b = engine.prompt_tokens(msgs_a), engine.prompt_tokens(msgs_b)
        shared = llama.longest_token_prefix(tok_a, tok_b)

        def raw(msgs: list[dict], n: int = max_tokens) -> Iterable[str]:
            llama.reset()  # cold KV cache: every run pays the full prompt
            for chunk in llama.create_chat_completion(
                messages=msgs, max_tokens=n, temperature=0.0, stream=True
            ):
                yield chunk["choices"][0]["delta"].get("content") or ""

        def ours(msgs: list[dict], n: int = max_tokens, cold: bool = True) -> Iterable[str]:
            if cold:
                worker.reset_cache()
            return worker.stream(msgs, max_tokens=n, temperature=0.0)

        timed(raw(msgs_a, 4))  # warm-up: page the weights in, both processes
        timed(ours(msgs_a, 4))
        by_path: dict[str, list[dict[str, Any]]] = {"raw": [], "worker": []}
        for i in range(runs):
            order = ("raw", "worker") if i % 2 == 0 else ("worker", "raw")
            for name in order:
                by_path[name].append(timed((raw if name == "raw" else ours)(msgs_a)))
        figures = {name: summary(rows, len(tok_a)) for name, rows in by_path.items()}
        same_text = by_path["raw"][0]["text"] == by_path["worker"][0]["text"]

        def ratio(key: str, invert: bool = False) -> float | None:
            a, b = figures["worker"][key], figures["raw"][key]
            if not a or not b:
                return None
            return round((b / a if invert else a / b) - 1.0, 4)

        timed(ours(msgs_a, 8))
        warm_b = timed(ours(msgs_b, max_tokens, cold=False))
        cold_b = timed(ours(msgs_b))
        # The fixed prefix (template + system prompt) as the idle worker leaves it: cold otherwise.
        fixed = []
        for _ in range(runs):
            worker.reset_cache()
            warmed = worker.warm_prefix()
            fixed.append(timed(ours(msgs_a, max_tokens, cold=False)))
    finally:
        engine.close_model()
    result: dict[str, Any] = {
        "cpu": cpu.summary(),
        "model": worker.model_id,
        "n_threads": settings.n_threads,
        "n_ctx": settings.n_ctx,
        "omp_wait_policy": settings.llm_omp_wait_policy or "(default)",
        "repack": info.get("repack"),
        "repack_reason": info.get("repack_reason"),
        "runs": runs,
        "max_tokens": max_tokens,
        "load_in_process_s": round(load_in_process, 3),
        "load_worker_s": round(load_worker, 3),
        "prompt_tokens": len(tok_a),
        "same_greedy_text": same_text,
        "raw": figures["raw"],
        "worker": figures["worker"],
        "overhead": {
            "ttft": ratio("ttft_s"),
            "gen_tokens_per_s": ratio("gen_tokens_per_s", invert=True),
            "total": ratio("total_s"),
        },
        "prefix_reuse": {
            "shared_prefix_tokens": shared,
            "prompt_tokens": len(tok_b),
            "ttft_cold_s": _round(cold_b["ttft"]),
            "ttft_warm_s": _round(warm_b["ttft"]),
        },
        "fixed_prefix_cached": {"prefix_tokens": warmed, **summary(fixed, len(tok_a) - warmed)},
    }
    if variants:
        from rag.bench.llm_variants import bench_variants

        worker.close()  # one model at a time while the variants load their own
        result["variants"] = bench_variants(settings, runs=runs, max_tokens=max_tokens)
    else:
        worker.close()
    wall = time.perf_counter() - wall0
    result["wall_s"] = round(wall, 1)
    result["cpu_share"] = round((_cpu_seconds() - cpu0) / (wall * max(1, settings.n_threads)), 3)
    return result


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
