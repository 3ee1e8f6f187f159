"""``rag doctor [--json]``: every check with ok / problem / how to fix; exit 1 when not ok."""

from __future__ import annotations

from typing import Annotated

import typer

from rag.cli.common import JsonOpt, print_json
from rag.settings import Settings


def doctor(
    as_json: JsonOpt = False,
    no_model: Annotated[bool, typer.Option("--no-model", help="不加载本机模型（跳过 1 token 生成）")] = False,
) -> None:
    """检查本机环境：依赖版本、模型文件与校验、llama.cpp（AMX/权重重排）、嵌入模型、索引一致性、磁盘与内存。"""
    from rag.doctor import report, run_checks

    checks = run_checks(Settings(), model=not no_model)
    result = report(checks)
    if as_json:
        print_json(result)
    else:
        for c in checks:
            mark = "✓" if c.ok else "✗"
            typer.echo(f"{mark} {c.name:13} {c.detail}")
            if not c.ok and c.fix:
                typer.echo(f"  {'':13} 解决：{c.fix}")
        typer.echo("全部正常" if result["ok"] else "有问题，请按“解决”一行处理")
    if not result["ok"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
