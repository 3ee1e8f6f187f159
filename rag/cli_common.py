"""Output helpers shared by the `rag` command modules (rag/cli*.py)."""

from __future__ import annotations

import json
from typing import Annotated, NoReturn

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def print_json(obj: object) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit, never a traceback."""
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)
