"""Shared pieces of the LLM benchmarks: the ask prompt they time, timing of streamed calls,
medians, and a worker loaded for one measurement (rag/bench/llm.py, rag/bench/llm_variants.py)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from typing import Any

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


def median(xs: Iterable[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return round(statistics.median(vals), 4) if vals else None


def timed(pieces: Iterable[str]) -> dict[str, Any]:
    """TTFT, total seconds, pieces and generation speed of one streamed call."""
    start = time.perf_counter()
    first = None
    n = 0
    text = []
    for piece in pieces:
        if not piece:
            continue
        if first is None:
            first = time.perf_counter() - start
        n += 1
        text.append(piece)
    total = time.perf_counter() - start
    gen = total - first if first is not None else 0.0
    return {
        "ttft": first,
        "seconds": total,
        "pieces": n,
        "gen_tps": (n - 1) / gen if n > 1 and gen > 0 else None,
        "text": "".join(text),
    }


def summary(rows: list[dict[str, Any]], prompt_tokens: int | None = None) -> dict[str, Any]:
    out = {
        "ttft_s": median(r["ttft"] for r in rows),
        "gen_tokens_per_s": median(r["gen_tps"] for r in rows),
        "total_s": median(r["seconds"] for r in rows),
    }
    if prompt_tokens:
        out["prompt_tokens_per_s"] = median(prompt_tokens / r["ttft"] for r in rows if r["ttft"])
    return out


def ask_messages(settings: Settings, question: str = QUESTION_A) -> list[dict]:
    return load_prompt(settings, "ask").render(
        question=question, passages=format_passages(PASSAGES), history=""
    )


def run_worker(
    settings: Settings,
    fn: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """Load a worker with ``settings``, run ``fn(worker)``, close it; figures plus load time."""
    from rag.llm.local import LocalLlamaLLM

    worker = LocalLlamaLLM(settings)
    try:
        t0 = time.perf_counter()
        info = worker.load()
        load = time.perf_counter() - t0
        out = fn(worker)
        return {"load_s": round(load, 3), "repack": info.get("repack"), **out}
    finally:
        worker.close()
