"""The 汇编摘要 (brief) and 评测 (eval) tabs."""

from __future__ import annotations

import html
import json
import tempfile
from pathlib import Path

import gradio as gr
from gradio.events import Dependency

from eval.runner import Run
from rag.documents.files import SUPPORTED_SUFFIXES
from rag.service import Service
from ui.render import escape

SUITES_DIR = Path(__file__).resolve().parent.parent / "eval" / "suites"


def _indexed_choices(service: Service) -> list[tuple[str, str]]:
    """(label, source key) for every indexed document: its file and how many reports it holds."""
    return [
        (f"{d['source']}（{len(d['report_list'])} 篇）", d["source"])
        for d in service.documents()
        if d["report_list"]
    ]


def brief_tab(service: Service) -> None:
    with gr.Row():
        upload = gr.File(
            file_types=list(SUPPORTED_SUFFIXES), label="上传汇编（含多篇述职报告；扫描件、照片经文字识别）"
        )
        with gr.Column():
            picked = gr.Dropdown(
                choices=_indexed_choices(service),
                multiselect=True,
                label="或选择知识库中已导入的报告（可多选，汇编按其中各篇计）",
            )
            refresh = gr.Button("刷新列表", size="sm")
    run = gr.Button("生成综述", variant="primary")
    badge = gr.HTML()
    brief = gr.Markdown()
    with gr.Row():
        docx_file = gr.File(label="下载 .docx（附数据核对表）")
        md_file = gr.File(label="下载 .md")
        xlsx_file = gr.File(label="数据核对表 .xlsx（送审包）")
        csv_file = gr.File(label="数据核对表 .csv")
    nothing = (None, None, None, None)

    def do_brief(f, sources, progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
        if f is None and not sources:
            return "<div class='banner-error'>请上传汇编文件，或选择已导入的报告</div>", "", *nothing

        def report(stage: str, done: int, total: int) -> None:
            # OCR page by page (a scanned 汇编), one step per report read in full, then the reduce step
            if total:
                label = {"pages": "文字识别", "reports": "逐篇提炼"}.get(stage, "汇总核对")
                where = f"第 {done}/{total} 页" if stage == "pages" else f"{done}/{total}"
                progress(done / total, desc=f"{label} {where}")

        try:
            if f is not None:
                # Gradio keeps an upload at <tmp>/gradio/<hash>/<the file's own name>: the brief
                # names the file by that name, never by the temporary path.
                path = Path(f if isinstance(f, str) else f.name)
                result = service.summarize_upload(path, path.name, progress=report)
            else:
                result = service.summarize(service.indexed_reports(sources), progress=report)
            export = service.export_brief(result)
        except Exception as exc:
            return f"<div class='banner-error'>⚠ {escape(str(exc))}</div>", "", *nothing
        ok = result.figures_unsupported == 0
        css = "badge-ok" if ok else "banner-error"
        repaired = result.rewrite_figures_unsupported
        fonts = export.fonts.note()
        fonts_html = f"<div class='fonts-note'><small>{html.escape(fonts)}</small></div>" if fonts else ""
        badge_html = (
            f"<div class='{css}'>核对：{result.figures_checked} 个数字，"
            f"未核实 {result.figures_unsupported} 个；改写中被修复 {repaired} 个</div>{fonts_html}"
        )
        files = export.files
        return (
            badge_html,
            result.markdown,
            *(str(files[k]) for k in ("docx", "md", "xlsx", "csv")),
        )

    run.click(
        do_brief, [upload, picked], [badge, brief, docx_file, md_file, xlsx_file, csv_file], api_name="brief"
    )
    refresh.click(lambda: gr.Dropdown(choices=_indexed_choices(service)), None, picked, api_name=False)


def eval_tab(service: Service) -> None:
    suites = sorted(p.name for p in SUITES_DIR.glob("*.yaml"))
    with gr.Row():
        suite = gr.Dropdown(suites, value="smoke.yaml" if "smoke.yaml" in suites else None, label="评测套件")
        variants = gr.Textbox(label="提示词变体（如 ask=default,strict; draft=default,concise）")
    run = gr.Button("运行评测", variant="primary")
    summary = gr.Markdown()
    report = gr.HTML()
    html_file = gr.File(label="下载 HTML 报告")

    def do_eval(name, variant_text, progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
        from eval.report import html_report, text_report
        from eval.runner import run_suite, write_run
        from eval.suite import load_suite

        parsed: dict[str, list[str]] = {}
        for part in (variant_text or "").split(";"):
            task, _, names = part.partition("=")
            if task.strip() and names.strip():
                parsed[task.strip()] = [n.strip() for n in names.split(",") if n.strip()]
        try:
            loaded = load_suite(SUITES_DIR / name)
            result = run_suite(
                loaded,
                service.settings,
                variants=parsed or None,
                progress=lambda done, total, _cell: progress(done / max(total, 1), desc="评测"),
            )
            write_run(result)
        except Exception as exc:
            return f"⚠ {escape(str(exc))}", "", None
        page = html_report(result)
        out = Path(tempfile.mkdtemp(prefix="eval-")) / "report.html"
        out.write_text(page, encoding="utf-8")
        return f"```\n{text_report(result)}\n```", page, str(out)

    finished = run.click(do_eval, [suite, variants], [summary, report, html_file], api_name="eval_run")
    past_runs(finished)


def _run_label(path: Path) -> str:
    """A saved run's label (id · suite · model · verdict) from its first (header) and last
    (summary) lines: the page lists every run at start-up, so the cells are not parsed."""
    with path.open(encoding="utf-8") as fh:
        header = json.loads(fh.readline())
        last = ""
        for line in fh:
            last = line if line.strip() else last
    summary = json.loads(last) if last else {}
    if summary.get("type") != "summary":  # a run still being written has no summary yet
        summary = {}
    verdict = "通过" if summary.get("passed") else "未通过"
    suite = header.get("suite", {}).get("name", "?")
    return f"{header.get('run_id', path.stem)} · {suite} · {header.get('model', '?')} · {verdict}"


def _run_choices(runs_dir: Path) -> list[tuple[str, str]]:
    """(label, run file stem) of the saved runs, newest first."""
    choices = []
    for path in sorted(runs_dir.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            choices.append((_run_label(path), path.stem))
        except (OSError, ValueError, AttributeError):  # a damaged file: list the rest
            continue
    return choices


def _load_saved(ref: str, runs_dir: Path) -> Run:
    """A saved run by its id (or a unique part of it), looked up only inside runs_dir."""
    from eval.runner import load_run

    name = Path(ref).name
    exact = runs_dir / f"{name}.jsonl"
    return load_run(exact if exact.is_file() else name, runs_dir)


def past_runs(run_finished: Dependency, runs_dir: Path | None = None) -> None:
    """Browse saved runs (eval/runs/*.jsonl) and compare two of them, metric by metric."""
    from eval.runner import RUNS_DIR

    runs_dir = runs_dir or RUNS_DIR
    gr.Markdown("### 历史运行")
    with gr.Row():
        # custom values: a run id typed or sent by an API client; looked up only in runs_dir
        choices = _run_choices(runs_dir)
        run_a = gr.Dropdown(choices, label="运行 A（查看 / 对比的基准）", allow_custom_value=True)
        run_b = gr.Dropdown(choices, label="运行 B（与 A 对比）", allow_custom_value=True)
        refresh = gr.Button("刷新", size="sm")
    with gr.Row():
        show = gr.Button("查看 A")
        diff = gr.Button("对比 A → B")
    shown_text = gr.Markdown()
    shown_html = gr.HTML()

    def refreshed() -> tuple:
        choices = _run_choices(runs_dir)
        return gr.Dropdown(choices=choices), gr.Dropdown(choices=choices)

    def do_show(a):
        from eval.report import html_report, text_report

        if not a:
            return "请先选择运行 A", ""
        try:
            r = _load_saved(a, runs_dir)
        except (OSError, ValueError) as exc:
            return f"⚠ {escape(str(exc))}", ""
        return f"```\n{text_report(r)}\n```", html_report(r)

    def do_compare(a, b):
        from eval.report import compare, compare_text

        if not a or not b:
            return "请选择要对比的两次运行 A 和 B", ""
        try:
            text = compare_text(compare(_load_saved(a, runs_dir), _load_saved(b, runs_dir)))
        except (OSError, ValueError) as exc:
            return f"⚠ {escape(str(exc))}", ""
        return f"```\n{text}\n```", ""

    refresh.click(refreshed, None, [run_a, run_b], api_name=False)
    run_finished.then(refreshed, None, [run_a, run_b], api_name=False)  # a new run joins the list
    show.click(do_show, run_a, [shown_text, shown_html], api_name="eval_show")
    diff.click(do_compare, [run_a, run_b], [shown_text, shown_html], api_name="eval_compare")
