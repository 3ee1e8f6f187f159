"""The 汇编摘要 (brief) and 评测 (eval) tabs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr

from rag.service import Service
from ui.render import escape

SUITES_DIR = Path(__file__).resolve().parent.parent / "eval" / "suites"


def brief_tab(service: Service) -> None:
    upload = gr.File(file_types=[".txt", ".md", ".docx", ".pdf"], label="上传汇编（含多篇述职报告）")
    run = gr.Button("生成综述", variant="primary")
    badge = gr.HTML()
    brief = gr.Markdown()
    with gr.Row():
        docx_file = gr.File(label="下载 .docx")
        md_file = gr.File(label="下载 .md")

    def do_brief(f, progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
        if f is None:
            return "<div class='banner-error'>请先上传汇编文件</div>", "", None, None

        def report(stage: str, done: int, total: int) -> None:
            if total:
                progress(done / total, desc=f"{stage} {done}/{total}")

        path = Path(f if isinstance(f, str) else f.name)
        try:
            result = service.summarize(path, progress=report)
        except Exception as exc:
            return f"<div class='banner-error'>⚠ {escape(str(exc))}</div>", "", None, None
        out_dir = Path(tempfile.mkdtemp(prefix="brief-"))
        from rag.export import write_brief

        docx_path = write_brief(result, out_dir / "综述.docx")
        md_path = write_brief(result, out_dir / "综述.md")
        ok = result.figures_unsupported == 0
        css = "badge-ok" if ok else "banner-error"
        repaired = result.rewrite_figures_unsupported
        badge_html = (
            f"<div class='{css}'>核对：{result.figures_checked} 个数字，"
            f"未核实 {result.figures_unsupported} 个；改写中被修复 {repaired} 个</div>"
        )
        return badge_html, result.markdown, str(docx_path), str(md_path)

    run.click(do_brief, upload, [badge, brief, docx_file, md_file])


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

    run.click(do_eval, [suite, variants], [summary, report, html_file])
