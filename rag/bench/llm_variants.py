"""The embedded model's runtime choices, each measured against the current one in one run.

- ``repack``: llama.cpp weight repacking on vs off (rag/llm/cpu.py decides it per CPU).
- ``prompt_lookup``: llama-cpp-python's ``LlamaPromptLookupDecoding`` (speculative decoding
  that drafts tokens from n-grams of the prompt) on the brief's map prompt, whose output
  copies its input, with and without; the greedy text must stay the same.
- ``omp``: OpenMP wait policy (PASSIVE vs the default) and 2 vs 1 threads, quiet and with
  another process spinning on one core (bounded; it stops by itself).

Every figure is a median of ``runs`` cold-cache calls through the worker process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rag.bench.llm_timing import ask_messages, run_worker, summary, timed
from rag.prompts import load_prompt
from rag.settings import Settings

# Source sentences of the seeds, as the brief's map step sends them (figures in 【】).
MAP_ITEMS = (
    "1. 2023年共批复实施项目14个，计划投资2210万元，项目开工11个，正在进行招投标3个"
    "【14个、2210万元、11个、3个】\n"
    "2. 共完成沿江污水治理项目2个，完成投资938.47万元，完成污水管埋设16.46km，氧化塘建设（含改造）2座"
    "【2个、938.47万元、16.46km、2座】\n"
    "3. 烤烟种植合同面积4605亩，涉及6个村、36个村民小组、318户烟农，收购烟叶1.28万担，上等烟比例达71.06％"
    "【4605亩、6个、36个、318户、1.28万担、71.06％】\n"
    "4. 组织77户农户以土地经营权入股270亩，12户现金入股140股9.8万元【77户、270亩、12户、140股、9.8万元】"
)


def _cold_runs(worker: Any, msgs: list[dict], runs: int, max_tokens: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(runs):
        worker.reset_cache()
        rows.append(timed(worker.stream(msgs, max_tokens=max_tokens, temperature=0.0)))
    return rows


def _measure(settings: Settings, msgs: list[dict], runs: int, max_tokens: int) -> dict[str, Any]:
    def fn(worker: Any) -> dict[str, Any]:
        tokens = len(worker.prompt_tokens(msgs))
        timed(worker.stream(msgs, max_tokens=4, temperature=0.0))  # warm-up
        rows = _cold_runs(worker, msgs, runs, max_tokens)
        return {**summary(rows, tokens), "text": rows[0]["text"]}

    return run_worker(settings, fn)


@contextmanager
def _busy_core(seconds: float) -> Iterator[None]:
    """Another process spinning on one core for at most ``seconds`` (it stops by itself)."""
    code = f"import time\nend = time.time() + {seconds:.0f}\nwhile time.time() < end:\n    pass\n"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def bench_repack(settings: Settings, runs: int, max_tokens: int) -> dict[str, Any]:
    msgs = ask_messages(settings)
    out = {}
    for mode in ("on", "off"):
        figures = _measure(settings.model_copy(update={"llm_repack": mode}), msgs, runs, max_tokens)
        figures.pop("text")
        out[mode] = figures
    return out


def bench_prompt_lookup(settings: Settings, runs: int, max_tokens: int = 160) -> dict[str, Any]:
    msgs = load_prompt(settings, "summarize_item").render(items_with_figures=MAP_ITEMS, count=4)
    off = _measure(settings.model_copy(update={"llm_prompt_lookup": 0}), msgs, runs, max_tokens)
    on = _measure(settings.model_copy(update={"llm_prompt_lookup": 10}), msgs, runs, max_tokens)
    same = off.pop("text") == on.pop("text")
    speedup = off["total_s"] / on["total_s"] if off["total_s"] and on["total_s"] else None
    return {"off": off, "on": on, "same_greedy_text": same, "total_speedup": round(speedup or 0, 3)}


def bench_omp(settings: Settings, runs: int, max_tokens: int = 48) -> dict[str, Any]:
    msgs = ask_messages(settings)
    out: dict[str, Any] = {}
    configs: list[tuple[str, dict[str, Any]]] = [
        ("passive_2t", {"llm_omp_wait_policy": "PASSIVE", "n_threads": 2}),
        ("default_2t", {"llm_omp_wait_policy": "", "n_threads": 2}),
        ("passive_1t", {"llm_omp_wait_policy": "PASSIVE", "n_threads": 1}),
    ]
    for name, update in configs:
        variant = settings.model_copy(update=update)
        quiet = _measure(variant, msgs, runs, max_tokens)
        quiet.pop("text")
        with _busy_core(600):
            loaded = _measure(variant, msgs, runs, max_tokens)
        loaded.pop("text")
        out[name] = {"quiet": quiet, "one_core_taken": loaded}
    return out


def bench_variants(settings: Settings, *, runs: int = 3, max_tokens: int = 96) -> dict[str, Any]:
    from rag.llm.base import LLMError

    runs = max(1, min(runs, 3))
    out: dict[str, Any] = {}
    for name, fn in (
        ("repack", lambda: bench_repack(settings, runs, max_tokens)),
        ("prompt_lookup", lambda: bench_prompt_lookup(settings, runs)),
        ("omp", lambda: bench_omp(settings, max(1, runs - 1))),
    ):
        try:
            out[name] = fn()
        except LLMError as exc:  # one variant failing must not lose the others' figures
            out[name] = {"error": str(exc)}
    return out
