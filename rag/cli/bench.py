"""``rag bench search|quality|llm|summarize|ocr-floor|all``: benchmark figures beside their baselines.

Registered by rag/cli/app.py on its ``bench`` group (``rag bench ingest`` lives there):
``from rag.cli.bench import register as register_bench; register_bench(bench_app)``.
Progress goes to stderr; ``--json`` prints every figure on stdout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.settings import Settings

JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON（全部数据）")]
SeedsOpt = Annotated[Path, typer.Option("--seeds", help="种子报告目录（合成语料与质量评测的来源）")]
_SEEDS = Path(__file__).resolve().parents[2] / "seeds"
_SUITE = _SEEDS.parent / "eval" / "suites" / "ask.yaml"
_FIXTURES = _SEEDS.parent / "tests" / "fixtures" / "reports"


def _log(message: str) -> None:
    typer.echo(message, err=True)


def _print(figures: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    for key, value in _flatten(figures):
        typer.echo(f"{key:60} {value}")


def _flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for i, v in enumerate(obj):
            yield from _flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def _sizes(raw: str) -> list[int]:
    try:
        sizes = sorted({int(x.replace("_", "").replace("k", "000")) for x in raw.split(",") if x.strip()})
    except ValueError:
        raise typer.BadParameter(
            f"{raw!r}: 用逗号分隔的分块数，例如 1000,10000,100000 或 1k,10k,100k"
        ) from None
    if not sizes or sizes[0] < 10:
        raise typer.BadParameter("每个规模至少 10 个分块")
    return sizes


@contextmanager
def _user_errors() -> Iterator[None]:
    """Known failures: one clear line on stderr and exit 1, not a traceback."""
    from rag.index.embeddings import EmbedderError
    from rag.llm.base import LLMError

    try:
        yield
    except (EmbedderError, LLMError, FileNotFoundError, ValueError) as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(1) from None


def register(bench_app: typer.Typer) -> None:
    @bench_app.command("search")
    def search_cmd(
        sizes: Annotated[str, typer.Option(help="规模（分块数），逗号分隔")] = "1000,10000,100000",
        queries: Annotated[int, typer.Option(help="查询条数（问答评测集的问题在前）")] = 100,
        real_max: Annotated[
            int, typer.Option("--real-embedder-max", help="不超过此规模用真实嵌入模型，更大的用哈希嵌入")
        ] = 0,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="大规模索引也重新构建（很慢）")] = False,
        backend: Annotated[
            str, typer.Option(help="sqlite（默认）或 postgres（用 RAG_DATABASE_URL 的库存储与关键词检索）")
        ] = "sqlite",
        seeds: SeedsOpt = _SEEDS,
        as_json: JsonOpt = False,
    ) -> None:
        """混合检索 p50/p95（1k/10k/100k 分块）对比 LangChain+Chroma 与 rank_bm25，同次运行、交替测量。"""
        from rag.bench.search import bench_search

        with _user_errors():
            figures = bench_search(
                Settings(),
                seeds_dir=seeds,
                sizes=_sizes(sizes),
                queries=queries,
                real_embedder_max=real_max,
                cache=not no_cache,
                backend=backend,
                log=_log,
            )
        _print(figures, as_json)

    @bench_app.command("ocr-floor")
    def ocr_floor_cmd(
        folder: Annotated[Path, typer.Option(help="报告文本目录（渲染为降质扫描页）")] = _FIXTURES,
        reports: Annotated[int, typer.Option(help="页数（每篇报告一页）")] = 15,
        as_json: JsonOpt = False,
    ) -> None:
        """文字识别置信度能否区分认错的数字：各阈值（RAG_OCR_MIN_CONFIDENCE）标出的认错数字与正确数字。"""
        from rag.bench.ocr_floor import bench_ocr_floor

        with _user_errors():
            figures = bench_ocr_floor(Settings(), folder, reports=reports)
        _print(figures, as_json)

    @bench_app.command("quality")
    def quality_cmd(
        suite: Annotated[Path, typer.Option(help="问答评测集（取其中的问题与期望片段）")] = _SUITE,
        seeds: SeedsOpt = _SEEDS,
        parts: Annotated[
            str, typer.Option(help="改写问法评测集的部分，逗号分隔（默认全部：rag/bench/quality.py PARTS）")
        ] = "",
        as_json: JsonOpt = False,
    ) -> None:
        """检索质量：recall@1/3/10 与 MRR@10，本项目 vs LangChain+Chroma 与 rank_bm25（真实嵌入模型）。"""
        from rag.bench.search import bench_quality

        chosen = [x.strip() for x in parts.split(",") if x.strip()] or None
        with _user_errors():
            figures = bench_quality(Settings(), seeds_dir=seeds, suite=suite, parts=chosen, log=_log)
        _print(figures, as_json)

    @bench_app.command("llm")
    def llm_cmd(
        runs: Annotated[int, typer.Option(help="每条路径的次数，取中位数")] = 3,
        variants: Annotated[
            bool,
            typer.Option(
                "--variants/--no-variants", help="另测权重重排、提示查找解码、OpenMP 等待策略与线程数"
            ),
        ] = True,
        as_json: JsonOpt = False,
    ) -> None:
        """内置模型：首字延迟与生成速度，模型进程 vs 本进程直接调用 llama-cpp；KV 前缀复用；运行参数对比。"""
        from rag.bench.llm import bench_llm

        with _user_errors():
            figures = bench_llm(Settings(), runs=runs, variants=variants)
        _print(figures, as_json)

    @bench_app.command("summarize")
    def summarize_cmd(
        path: Annotated[Path | None, typer.Argument(help="汇编文件（默认种子 003）")] = None,
        concurrency: Annotated[
            bool, typer.Option("--concurrency", help="另测：本机 llama_cpp.server（0.5B）上 1 与 4 路并发")
        ] = False,
        as_json: JsonOpt = False,
    ) -> None:
        """汇编摘要的总耗时（内置模型，目标 ≤ 120 秒）。"""
        from rag.bench.summarize import DEFAULT_FILE, bench_summarize, bench_summarize_concurrency

        settings = Settings()
        with _user_errors():
            figures: dict[str, Any] = {"embedded": bench_summarize(settings, path or DEFAULT_FILE)}
            if concurrency:
                figures["concurrency"] = bench_summarize_concurrency(settings, path or DEFAULT_FILE)
        _print(figures, as_json)

    @bench_app.command("all")
    def all_cmd(
        skip: Annotated[
            list[str] | None, typer.Option("--skip", help="跳过某阶段：ingest/quality/search/llm/summarize/…")
        ] = None,
        sizes: Annotated[str, typer.Option(help="检索规模（分块数），逗号分隔")] = "1000,10000,100000",
        no_cache: Annotated[bool, typer.Option("--no-cache", help="大规模索引也重新构建（很慢）")] = False,
        seeds: SeedsOpt = _SEEDS,
        as_json: JsonOpt = False,
    ) -> None:
        """全部基准（导入、质量、检索、LLM、摘要、内存），每项都与同次运行的基线和目标对照。"""
        from rag.bench.all import PHASES, bench_all, figure_table

        phases = [p for p in PHASES if p not in set(skip or [])]
        with _user_errors():
            out = bench_all(
                Settings(), seeds_dir=seeds, phases=phases, sizes=_sizes(sizes), cache=not no_cache, log=_log
            )
        if as_json:
            _print(out, True)
            return
        for figure, ours, other in figure_table(out):
            typer.echo(f"{figure:48} {ours:32} {other}")
        typer.echo("")
        for t in out["targets"]:
            mark = {True: "达标", False: "未达标", None: "未测"}[t["met"]]
            typer.echo(f"[{mark}] {t['target']}: {t['measured']} (目标 {t['goal']})")
