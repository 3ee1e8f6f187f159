"""Benchmark of the embedded LLM: our LocalLlamaLLM.stream vs raw llama-cpp on the same loaded model.

``bench_llm(settings, runs=3)`` returns plain numbers (seconds, tokens/s, ratios):

- ``wrapper`` / ``raw``: median TTFT, generation tokens/s and total seconds for the same
  ask-style prompt (prompts/ask/default.yaml), greedy, cold KV cache each run, calls interleaved.
- ``overhead``: wrapper/raw ratios minus 1 (target ≤ 0.10).
- ``prefix_reuse``: TTFT of a second question over the same passages right after the first
  (llama.cpp reuses the KV of the shared prefix) vs the same call on a cold cache.
- ``ram_cache``: a call that follows an unrelated one (the judge between two questions),
  without and with ``llama_cpp.LlamaRAMCache``, which restores the saved state of an earlier prompt.
  (LocalLlamaLLM does not enable it: in llama-cpp-python 0.3.36 every saved state also copies
  the logits buffer, up to n_batch x n_vocab floats = ~300 MB that the capacity does not count,
  and saving/restoring costs ~1 s per call.)
- ``cpu_share``: CPU time used / (wall time x n_threads). Well below 1.0 means other processes
  took the cores and the timings are not representative (llama.cpp's spinning OpenMP threads
  degrade badly when a core is taken away).

Generation speed counts streamed pieces (llama.cpp yields one per token, a few multi-byte
characters excepted), the same way for both paths.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

from rag.llm.local import LocalLlamaLLM
from rag.prompts import format_passages, load_prompt
from rag.settings import Settings

PASSAGES = [
    (
        "乡长2023年度述职报告 / 一、履职情况 /（二）",
        "投入资金179.25万元，新建村级文化广场800平米，组织文艺演出26场次，群众满意度达到96.5％。",
    ),
    (
        "乡长2023年度述职报告 / 一、履职情况 /（三）",
        "开展安全生产大检查三轮次，排查整治隐患142处，全年未发生较大以上安全事故。",
    ),
    (
        "副乡长2024年抓党建述职报告 / 二、存在问题",
        "一是理论学习不够深入，以干代学现象仍然存在；二是基层党组织带头作用发挥不均衡，个别支部组织生活不规范。",
    ),
    (
        "组织委员2023年述职报告 / 三、下步打算",
        "持续推进党员积分制管理，年内完成两个后进支部整顿，发展党员5名，培训入党积极分子30人次。",
    ),
]
QUESTION_A = "概括资料中2023年文化建设和安全生产两方面的主要工作和数据。"
QUESTION_B = "安全生产方面做了哪些工作？"
JUDGE = [
    {"role": "system", "content": "判断资料是否支持陈述，只回答“是”或“否”。"},
    {"role": "user", "content": "资料：全年发展党员5名。\n陈述：全年发展党员5名。\n资料是否支持该陈述？"},
]


def _median(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.median(vals), 4) if vals else None


def _timed(pieces: Iterable[str]) -> dict[str, Any]:
    start = time.perf_counter()
    first = None
    n = 0
    for piece in pieces:
        if not piece:
            continue
        if first is None:
            first = time.perf_counter() - start
        n += 1
    total = time.perf_counter() - start
    gen = total - first if first is not None else 0.0
    return {
        "ttft": first,
        "seconds": total,
        "pieces": n,
        "gen_tps": (n - 1) / gen if n > 1 and gen > 0 else None,
    }


def bench_llm(
    settings: Settings, *, runs: int = 3, max_tokens: int = 96, ram_cache: bool = True
) -> dict[str, Any]:
    """``ram_cache=False`` skips the optional LlamaRAMCache comparison (~70 s on 2 cores)."""
    llm = LocalLlamaLLM(settings)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    t0 = time.perf_counter()
    llama = llm.llama
    load_seconds = time.perf_counter() - t0

    ask = load_prompt(settings, "ask")
    passages = format_passages(PASSAGES)
    msgs_a = ask.render(question=QUESTION_A, passages=passages, history="")
    msgs_b = ask.render(question=QUESTION_B, passages=passages, history="")
    tok_a, tok_b = llm.prompt_tokens(msgs_a), llm.prompt_tokens(msgs_b)
    shared = llama.longest_token_prefix(tok_a, tok_b)

    def raw(msgs: list[dict], n: int = max_tokens) -> Iterable[str]:
        for chunk in llama.create_chat_completion(messages=msgs, max_tokens=n, temperature=0.0, stream=True):
            yield chunk["choices"][0]["delta"].get("content") or ""

    def ours(msgs: list[dict], n: int = max_tokens) -> Iterable[str]:
        return llm.stream(msgs, max_tokens=n, temperature=0.0)

    def cold(fn: Callable[..., Iterable[str]], msgs: list[dict], n: int = max_tokens) -> dict[str, Any]:
        llama.reset()  # forget the KV cache: every run pays the full prompt
        return _timed(fn(msgs, n))

    _timed(raw(msgs_a, 4))  # warm-up: page the weights in
    by_path: dict[str, list[dict[str, Any]]] = {"raw": [], "wrapper": []}
    for i in range(runs):
        order = ("raw", "wrapper") if i % 2 == 0 else ("wrapper", "raw")
        for name in order:
            by_path[name].append(cold(raw if name == "raw" else ours, msgs_a))
    usage = llm.last_completion

    summary = {
        name: {
            "ttft_s": _median(r["ttft"] for r in rs),
            "gen_tokens_per_s": _median(r["gen_tps"] for r in rs),
            "total_s": _median(r["seconds"] for r in rs),
            "prompt_tokens_per_s": _median(len(tok_a) / r["ttft"] for r in rs if r["ttft"]),
        }
        for name, rs in by_path.items()
    }

    def ratio(key: str, invert: bool = False) -> float | None:
        a, b = summary["wrapper"][key], summary["raw"][key]
        if not a or not b:
            return None
        return round((b / a if invert else a / b) - 1.0, 4)

    # Prefix reuse: question B right after question A (same system prompt + passages).
    llama.reset()
    _timed(ours(msgs_a, 8))
    warm_b = _timed(ours(msgs_b))
    cold_b = cold(ours, msgs_b)

    # LlamaRAMCache: A, then an unrelated judge call, then B.
    def alternating() -> tuple[float | None, float]:
        llama.reset()
        start = time.perf_counter()
        _timed(ours(msgs_a, 8))
        _timed(ours(JUDGE, 2))
        ttft = _timed(ours(msgs_b, 8))["ttft"]
        return ttft, time.perf_counter() - start

    without_cache: tuple[float | None, float | None] = (None, None)
    with_cache: tuple[float | None, float | None] = (None, None)
    if ram_cache:
        from llama_cpp import LlamaRAMCache

        without_cache = alternating()
        llama.set_cache(LlamaRAMCache(capacity_bytes=1 << 30))
        try:
            with_cache = alternating()
        finally:
            llama.set_cache(None)

    wall = time.perf_counter() - wall0
    cpu_share = (time.process_time() - cpu0) / (wall * max(1, settings.n_threads))
    return {
        "model": llm.model_id,
        "cpu_share": round(cpu_share, 3),
        "n_threads": settings.n_threads,
        "n_ctx": settings.n_ctx,
        "runs": runs,
        "max_tokens": max_tokens,
        "load_s": round(load_seconds, 3),
        "prompt_tokens": len(tok_a),
        "completion_tokens": usage.completion_tokens if usage else None,
        "raw": summary["raw"],
        "wrapper": summary["wrapper"],
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
        "ram_cache": {
            "ttft_b_after_judge_s": _round(without_cache[0]),
            "ttft_b_after_judge_with_ram_cache_s": _round(with_cache[0]),
            "sequence_s": _round(without_cache[1]),
            "sequence_with_ram_cache_s": _round(with_cache[1]),
        },
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
