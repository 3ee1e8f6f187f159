"""``rag summarize``: a 汇编 → a leader's brief (Markdown on stdout, or .docx/.md, or JSON).

Registered on the main app by rag/cli/app.py: ``from rag.cli.summarize import register; register(app)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rag.cli.common import fail as _fail
from rag.cli.common import progress_bars
from rag.documents.files import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from rag.schema import Report
    from rag.settings import Settings

_STAGES = {"pages": "文字识别（页）", "reports": "报告", "reduce": "汇总"}


@contextmanager
def _user_errors() -> Iterator[None]:
    """Known failures: one clear line on stderr and exit 1, never a traceback."""
    from rag.brief.summarize import SummarizeError
    from rag.documents.errors import DocumentError
    from rag.export import ExportError
    from rag.llm.base import LLMError
    from rag.prompts import PromptError

    try:
        yield
    except (DocumentError, SummarizeError, LLMError, PromptError, ExportError) as exc:
        _fail(str(exc))
    except OSError as exc:  # writing --out: permission denied, disk full …
        _fail(f"{exc.filename or ''}: 无法写入（{exc.strerror}）— 请检查输出路径和权限")


def _indexed_reports(settings: Settings, sources: list[str]) -> list[Report]:
    from rag.index.index import IndexError_
    from rag.service import Service

    try:
        return Service(settings).indexed_reports(sources)
    except IndexError_ as exc:
        _fail(str(exc))


def summarize_command(
    path: Annotated[
        Path | None,
        typer.Argument(help=f"汇编文件（{'/'.join(SUPPORTED_SUFFIXES)}，含多篇述职报告；扫描件经文字识别）"),
    ] = None,
    indexed: Annotated[
        list[str] | None,
        typer.Option("--indexed", help="改用已导入的文档（可多次给出；文件名或 rag index info 中的键）"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="写入 brief.docx（GB/T 9704 版式，附数据核对表）或 brief.md"),
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence", help="数据核对表（送审包）写入 .xlsx 或 .csv：每条表述的原句、位置和核对结论"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（含每条的原文位置与核对结果）")] = False,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            max=32,
            help="并发调用模型数（仅 OpenAI 兼容服务；本地模型始终串行）",
        ),
    ] = 1,
    variant: Annotated[
        str, typer.Option("--variant", help="提示变体 prompts/summarize_item/<变体>.yaml")
    ] = "default",
    max_items: Annotated[int, typer.Option("--max-items", min=1, max=20, help="每篇列入综述的成效条数")] = 5,
) -> None:
    """把述职报告汇编整理成领导阅读的综述：每个数据都可回查到原文位置。"""
    from rag.brief.summarize import summarize
    from rag.export import fonts_note, write_brief, write_brief_evidence
    from rag.llm.factory import create_llm
    from rag.settings import Settings

    settings = Settings()
    with _user_errors():
        if out is not None and out.suffix.lower() not in (".docx", ".md", ".markdown"):
            _fail(f"{out}: 不支持的输出格式 {out.suffix or '（无扩展名）'} — 请用 .docx 或 .md")
        if evidence is not None and evidence.suffix.lower() not in (".xlsx", ".csv"):
            _fail(f"{evidence}: 核对表只支持 .xlsx 或 .csv（不是 {evidence.suffix or '无扩展名'}）")
        if (path is None) == (not indexed):
            _fail("请给出一个汇编文件，或用 --indexed 选择已导入的文档（二者选一）")
        what = path if path is not None else _indexed_reports(settings, indexed or [])
        update, close = progress_bars(_STAGES, unit="篇")
        try:
            brief = summarize(
                what,
                create_llm(settings),
                settings,
                progress=update,
                concurrency=concurrency,
                variant=variant,
                max_items=max_items,
            )
        finally:
            close()
        written = write_brief(brief, out) if out is not None else None
        table = write_brief_evidence(brief, evidence) if evidence is not None else None
    if as_json:
        typer.echo(json.dumps(brief.to_json(), ensure_ascii=False, indent=2))
    elif written is None:
        typer.echo(brief.markdown)
    if written is not None:
        typer.echo(
            f"已写入 {written}（数据核对 {brief.figures_checked} 项，未核实 {brief.figures_unsupported} 项）",
            err=True,
        )
    if table is not None:
        typer.echo(f"已写入核对表 {table}", err=True)
    if written is not None and written.suffix.lower() == ".docx" and (note := fonts_note()):
        typer.echo(note, err=True)


def register(app: typer.Typer) -> None:
    """Add ``rag summarize`` to the main app."""
    app.command("summarize")(summarize_command)
