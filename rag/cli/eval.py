"""``rag check`` and ``rag eval run|compare|judge``; attached to the main app by ``register(app)``.

Exit codes: 0 ok; 1 a threshold failed (``eval run``) or the command failed; 2 a bad
suite, run reference or option.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.common import JsonOpt
from rag.cli.common import fail as _fail
from rag.cli.common import print_json as _print_json
from rag.documents.files import SUPPORTED_SUFFIXES
from rag.settings import Settings

eval_app = typer.Typer(no_args_is_help=True, help="提示词评测：套件矩阵、运行对比、判断模型校准")
RunsDir = Annotated[Path, typer.Option("--runs-dir", help="运行记录与缓存目录")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="模型：1.5b / 0.5b / .gguf 路径；设置了 RAG_LLM_BASE_URL 时为服务端模型名"),
]


def register(app: typer.Typer) -> None:
    app.command("check")(check_cmd)
    app.add_typer(eval_app, name="eval")


@contextmanager
def _user_errors() -> Iterator[None]:
    from eval.suite import SuiteError
    from rag.documents.errors import DocumentError
    from rag.index.embeddings import EmbedderError
    from rag.index.index import IndexError_
    from rag.llm.base import LLMError
    from rag.prompts import PromptError
    from rag.retrieval import QueryError

    try:
        yield
    except (SuiteError, PromptError, FileNotFoundError) as exc:
        _fail(str(exc), 2)
    except (DocumentError, EmbedderError, IndexError_, QueryError, LLMError, ValueError) as exc:
        _fail(str(exc))


def _llm(settings: Settings, model: str | None):
    from rag.llm.factory import create_llm

    if model:
        key = "llm_model" if settings.llm_base_url else "local_model"
        settings = settings.model_copy(update={key: model})
    return create_llm(settings)


def _read_text(path: Path) -> str:
    from rag.documents.decode import decode_text

    if str(path) == "-":
        return sys.stdin.read()
    try:
        return decode_text(path.read_bytes(), path)[0]  # UTF-8, BOM or GB18030, as ingest does
    except OSError as exc:
        _fail(f"{path}: 无法读取（{exc}）— 给出一个 UTF-8 或 GBK 文本文件，或用 - 从标准输入读取", 2)
        raise  # unreachable: _fail exits


# --- rag check --------------------------------------------------------------------------

_MARKS = {"supported": "✓", "unsupported": "？", "figure_misbound": "≠", "figure_mismatch": "✗"}


def check_cmd(
    source: Annotated[
        list[Path], typer.Option("--source", help=f"资料文件（{'/'.join(SUPPORTED_SUFFIXES)}），可多次")
    ],
    text: Annotated[Path, typer.Option("--text", help="待核查的文本文件；- 表示标准输入")],
    no_judge: Annotated[
        bool, typer.Option("--no-judge", help="不加载模型：只核对数字及其所指，支持度按与证据的字面重合计")
    ] = False,
    threshold: Annotated[float, typer.Option(help="判断为“支持”的最低分")] = 0.5,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """逐句核查文本：每个数字是否见于资料、在资料中是否指同一对象（原文分句）、最佳证据片段、判断模型的支持分。"""
    from rag.grounding.check import check_text

    settings = Settings()
    body = _read_text(text)
    with _user_errors():
        llm = None if no_judge else _llm(settings, model)
        result = check_text(body, source, llm, settings, threshold=threshold)
    if as_json:
        _print_json(result.to_json())
        return
    for s in result.sentences:
        typer.echo(f"{_MARKS[s.verdict]} {s.score:.2f}  {s.text}")
        for f in s.figures:
            for line in _figure_lines(f):
                typer.echo(f"      {line}")
        if s.note:
            typer.echo(f"      ⚠ {s.note}")
        if s.evidence:
            ev = s.evidence
            where = f"{ev.source}#{ev.report_index} {ev.start}-{ev.end}{_ocr_note(ev.ocr_confidence)}"
            typer.echo(f"      证据 {where}：{ev.quote[:80]}")
    found = f"{result.figures_found}/{result.figures_checked}"
    judge = result.judge + (f"（{result.model}）" if result.model else "")
    rates = f"支持率 {_pct(result.support_rate)}，数字精确率 {_pct(result.figure_precision)}"
    misbound = f"，所指不符 {result.figures_misbound} 个" if result.figures_misbound else ""
    misbound += f"，OCR识别置信度低、未予采信 {result.figures_ocr_low} 个" if result.figures_ocr_low else ""
    typer.echo(f"{rates}（{found}{misbound}），判断：{judge}")


def _figure_lines(f) -> list[str]:
    """The lines of one figure: 原文 for a bound one, what is wrong for the others."""
    b = f.binding
    if b is None or b.match == "absent":
        return [f"数字 {f.raw} 不见于任何资料"]
    where = f"{b.source}#{b.index} {b.start}-{b.end}"
    if b.ok:
        return [f"数字 {f.raw} 原文：{b.source_clause}（{where}{_ocr_note(f.ocr_confidence, f.ocr_low)}）"]
    return [f"数字 {f.raw} 所指不符：{b.reason}", f"  原文：{b.source_clause}（{where}）"]


def _ocr_note(confidence: float | None, low: bool = False) -> str:
    """What stands beside a source read by OCR (as with citations): ，OCR识别，置信度 0.91."""
    if confidence is None:
        return ""
    return f"，OCR识别，置信度 {confidence:.2f}" + ("，偏低：未予采信" if low else "")


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


# --- rag eval ---------------------------------------------------------------------------


def _parse_variants(pairs: list[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs or []:
        task, sep, variant = pair.partition("=")
        if not sep or not task.strip() or not variant.strip():
            _fail(f"--variant {pair!r} 格式不对：应为 task=variant，例如 ask=strict", 2)
        out.setdefault(task.strip(), []).append(variant.strip())
    return out


def _progress(n: int, total: int, cell: dict) -> None:
    mark = "✓" if cell["passed"] else "✗"
    latency = cell["metrics"].get("latency_s")
    where = "缓存" if cell["cached"] else (f"{latency:.1f}s" if latency is not None else "出错")
    typer.echo(f"[{n}/{total}] {mark} {cell['prompt_id']} {cell['case']}（{where}）", err=True)


@eval_app.command("run")
def eval_run(
    suite: Annotated[Path, typer.Argument(help="套件 YAML，如 eval/suites/ask.yaml")],
    variant: Annotated[
        list[str] | None, typer.Option("--variant", help="task=variant，可多次；默认套件所列或全部变体")
    ] = None,
    model: ModelOpt = None,
    html: Annotated[Path | None, typer.Option("--html", help="另写一份自包含 HTML 报告")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="不读缓存，全部重算")] = False,
    runs_dir: RunsDir = Path("eval/runs"),
    as_json: JsonOpt = False,
) -> None:
    """运行套件的 用例 × 提示词变体 矩阵；任一阈值不达标时退出码为 1。"""
    from eval.report import html_report, text_report
    from eval.runner import run_suite
    from eval.suite import load_suite

    variants = _parse_variants(variant)
    with _user_errors():
        spec = load_suite(suite)
        run = run_suite(
            spec,
            Settings(),
            variants=variants,
            model=model,
            runs_dir=runs_dir,
            use_cache=not no_cache,
            progress=_progress,
        )
    if html is not None:
        html.write_text(html_report(run), encoding="utf-8")
    if as_json:
        _print_json(run.to_json())
    else:
        typer.echo(text_report(run))
        if html is not None:
            typer.echo(f"HTML 报告：{html}")
    if not run.passed:
        raise typer.Exit(1)


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[str, typer.Argument(help="运行 A（路径、id 或 id 的唯一片段）")],
    run_b: Annotated[str, typer.Argument(help="运行 B")],
    runs_dir: RunsDir = Path("eval/runs"),
    as_json: JsonOpt = False,
) -> None:
    """两次运行逐变体、逐指标的差值（B − A），以及通过/失败有变化的单元。"""
    from eval.report import compare, compare_text
    from eval.runner import load_run

    with _user_errors():
        diff = compare(load_run(run_a, runs_dir), load_run(run_b, runs_dir))
    _print_json(diff) if as_json else typer.echo(compare_text(diff))


@eval_app.command("judge")
def eval_judge(
    labeled: Annotated[
        list[Path] | None, typer.Option("--set", help="标注集 YAML，可多次；默认种子集、调参集与留出集")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="每个集只用前 N 条")] = None,
    model: ModelOpt = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="另写一份自包含 HTML 报告（集 × 类别矩阵）")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="不读判断分缓存，全部重新打分")] = False,
    runs_dir: RunsDir = Path("eval/runs"),
    as_json: JsonOpt = False,
) -> None:
    """在标注集上校准核查：每集、每类的准确率、误收率（改动被放过）、误拒率（原文支持被拒）。

    另列数字绑定单独（仅代码）的同样指标，以及判断模型单独的准确率与 AUC。
    """
    from eval.calibrate import SETS, calibrate_sets
    from eval.report import judge_html

    settings = Settings()
    sets = {p.stem: p for p in labeled} if labeled else SETS

    def progress(name: str, n: int, total: int, row: dict) -> None:
        mark = "✓" if (row["verdict"] == "supported") == row["label"] else "✗"
        typer.echo(
            f"[{name} {n}/{total}] {mark} {row['id']} {row['kind']} {row['verdict']} {row['score']:.3f}",
            err=True,
        )

    with _user_errors():
        llm = _llm(settings, model)
        result = calibrate_sets(
            llm, settings, sets=sets, runs_dir=runs_dir, limit=limit, progress=progress, cache=not no_cache
        )
    if html is not None:
        html.write_text(judge_html(result), encoding="utf-8")
    if as_json:
        _print_json(result)
        return
    typer.echo(judge_text(result))
    if html is not None:
        typer.echo(f"HTML 报告：{html}")


def judge_text(result: dict) -> str:
    """The terminal report of ``rag eval judge``: per set the checker, the binding alone and the
    judge alone, then one line per kind."""
    lines = [f"模型 {result['model']}，提示 {result['prompt_id']}@{result['prompt_hash']}"]
    for name, r in result["sets"].items():
        checker = (r["checker_accuracy"], r["checker_false_accept_rate"], r["checker_false_reject_rate"])
        binding = (r["binding_accuracy"], r["binding_false_accept_rate"], r["binding_false_reject_rate"])
        best = f"{_num(r['best_threshold'])}：{_num(r['best_threshold_accuracy'])}"
        header = ("类别", "n", "标签", "核查准确率", "误收/误拒", "绑定准确率", "判断准确率", "平均分")
        lines += [
            "",
            f"== {name}（{r['set']}）{r['n']} 条：原文支持 {r['positives']}，改动 {r['negatives']}",
            f"  核查（绑定 + 判断）：{_rates_text(*checker)}  AUC {_num(r['checker_auc'])}",
            f"  数字绑定（仅代码）：{_rates_text(*binding)}",
            f"  判断（仅模型）：准确率 {_num(r['judge_accuracy'])}（阈值 {r['threshold']}）"
            f"  AUC {_num(r['judge_auc'])}  本集最佳阈值 {best}（样本内）",
            "  " + "  ".join(header),
        ]
        for kind, k in r["by_kind"].items():
            wrong = k.get("checker_false_accept_rate", k.get("checker_false_reject_rate"))
            tag = "误拒" if k["label"] else "误收"
            lines.append(
                f"  {kind:12}{k['n']:>4}{k['label']:>6}{_num(k['checker_accuracy']):>13}"
                f"{tag:>6} {_pct1(wrong):>6}{_num(k['binding_accuracy']):>13}{_num(k['judge_accuracy']):>13}"
                f"{_num(k['mean_score']):>10}"
            )
        lines.append(f"  耗时 {r['seconds']}s（每条 {r['seconds_per_item']}s）")
    return "\n".join(lines)


def _rates_text(accuracy: float | None, false_accept: float | None, false_reject: float | None) -> str:
    return f"准确率 {_num(accuracy)}  误收率 {_pct1(false_accept)}  误拒率 {_pct1(false_reject)}"


def _pct1(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"
