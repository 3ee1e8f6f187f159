"""Output helpers shared by the `rag` command modules (rag/cli*.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, NoReturn

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def print_json(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit, never a traceback."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


Progress = Callable[[str, int, int], None]


def progress_bars(
    labels: Mapping[str, str], *, unit: str = "it", leave: bool = True
) -> tuple[Progress, Callable[[], None]]:
    """(update, close): a tqdm bar per stage on a terminal (a new bar when a stage's total
    changes); silent when stderr is not a TTY (pipes, CI)."""
    if not sys.stderr.isatty():
        return (lambda stage, done, total: None), (lambda: None)
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            desc = labels.get(stage, stage)
            bar = bars[stage] = tqdm(total=total, desc=desc, unit=unit, leave=leave, file=sys.stderr)
        bar.n = done
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def write_draft_files(title: str, text: str, table, out: Path | None, evidence: Path | None) -> None:
    """A draft (a section or a whole report) as .docx with its evidence table appended, and/or
    the table alone (.xlsx/.csv); what was written on stderr, a bad path as one clear line."""
    from rag.export import ExportError, draft_to_docx, fonts_note, write_draft_evidence

    try:
        if out is not None:
            draft_to_docx(title, text, out, evidence=table)
            typer.echo(f"已写入 {out}（待补充 {len(table.open_placeholders)} 处）", err=True)
            if note := fonts_note():
                typer.echo(note, err=True)
        if evidence is not None:
            write_draft_evidence(table, evidence)
            typer.echo(f"已写入核对表 {evidence}", err=True)
    except ExportError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: 无法写入（{exc.strerror}）— 请检查输出路径和权限")
