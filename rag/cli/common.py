"""Output helpers shared by the `rag` command modules (rag/cli*.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
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
