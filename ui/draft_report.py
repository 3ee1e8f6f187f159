"""The 起草 tab's whole report: an outline, facts per section, every section drafted in order
(streamed), the closing line, and the .docx with the evidence of every section.

Thin like the other handlers: the same Service.draft_report_stream and export_report the
HTTP API uses (POST /api/draft/report)."""

from __future__ import annotations

import html

import gradio as gr

from rag.drafting.report import (
    CANONICAL_SECTIONS,
    DEFAULT_CLOSING,
    ReportRequest,
    ReportResult,
    SectionPlan,
    SectionStarted,
)
from rag.drafting.section import DraftResult
from rag.service import Service
from ui.render import (
    answer_html,
    citations_html,
    copy_note_html,
    facts_unused_html,
    literal,
    placeholders_html,
)


def facts_lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip(" -•\t") for line in (text or "").splitlines() if line.strip(" -•\t"))


def report_request(role, year, topic, outline, name, closing, facts_by_section) -> ReportRequest:
    """The outline in the standard order, each chosen section with the facts typed for it."""
    chosen = set(outline or ())
    plans = tuple(
        SectionPlan(s, facts_lines(f))
        for s, f in zip(CANONICAL_SECTIONS, facts_by_section, strict=True)
        if s in chosen
    )
    return ReportRequest(
        role=(role or "").strip(),
        year=int(year) if year else None,
        topic=(topic or "").strip(),
        sections=plans,
        name=(name or "").strip(),
        closing=(closing or "").strip() or DEFAULT_CLOSING,
    )


def _body_html(
    title: str,
    done: list[tuple[str, str]],
    current: tuple[str, str] | None = None,
    closing: list[str] | None = None,
) -> str:
    """The report so far: finished sections as guarded text (placeholders highlighted), the one
    being written as it streams; at the end the closing lines."""
    parts = [f"<h3>{literal(title)}</h3>"] if title else []
    for head, text in done:
        parts.append(f"<h4>{literal(head)}</h4><p>{answer_html(text)}</p>")
    if current is not None:
        head, streamed = current
        parts.append(f"<h4>{literal(head)}</h4><p>{literal(streamed)} ▌</p>")
    if closing:
        parts.append(f"<p>{answer_html(chr(10).join(closing))}</p>")
    return f"<div class='report-body'>{''.join(parts)}</div>"


def _error(exc: Exception) -> str:
    return f"<div class='banner-error'>⚠ {html.escape(str(exc))}</div>"


def whole_report_panel(service: Service, role, year, topic, variant) -> None:
    with gr.Accordion("整篇报告：按提纲依次起草各部分，附结尾，可下载 .docx", open=False):
        outline = gr.CheckboxGroup(
            list(CANONICAL_SECTIONS), value=list(CANONICAL_SECTIONS), label="提纲（按此顺序起草）"
        )
        with gr.Row():
            boxes = [
                gr.Textbox(label=f"{s}的事实（每行一条）", lines=4, placeholder="如：全年开展安全检查14次")
                for s in CANONICAL_SECTIONS
            ]
        with gr.Row():
            name = gr.Textbox(label="述职人（空则留“待补充”）", placeholder="姓名")
            closing = gr.Textbox(label="结尾", value=DEFAULT_CLOSING)
        start = gr.Button("起草整篇", variant="primary")
        progress = gr.HTML()
        body = gr.HTML()
        unused = gr.HTML()
        placeholders = gr.HTML()
        sources = gr.HTML()
        with gr.Row():
            docx_file = gr.File(label="下载整篇 .docx（附起草依据核对表）")
            xlsx_file = gr.File(label="起草依据核对表 .xlsx")
            csv_file = gr.File(label="起草依据核对表 .csv")
        note = gr.HTML()

    def write(role_v, year_v, topic_v, variant_v, outline_v, name_v, closing_v, *facts_v):
        empty = ("", "", "", None, None, None, "")
        try:
            req = report_request(role_v, year_v, topic_v, outline_v, name_v, closing_v, facts_v)
            events = service.draft_report_stream(req, variant=variant_v or "default")
            done: list[tuple[str, str]] = []
            head, streamed = "", ""
            for event in events:
                if isinstance(event, SectionStarted):
                    head, streamed = event.heading, ""
                    yield (
                        f"<small>正在起草 {literal(event.heading)}（{event.n}/{event.total}）…</small>",
                        _body_html("", done, (head, "")),
                        *empty,
                    )
                elif isinstance(event, str):
                    streamed += event
                    yield gr.skip(), _body_html("", done, (head, streamed)), *empty
                elif isinstance(event, DraftResult):
                    done.append((head, event.text))
                elif isinstance(event, ReportResult):
                    yield from _finish(event)
        except Exception as exc:  # keep what was written; say what went wrong
            yield _error(exc), gr.skip(), *empty

    def _finish(report: ReportResult):
        data = report.to_json()
        done = [(s["heading"], s["body"]) for s in data["sections"]]
        body_html = _body_html(data["title"], done, closing=data["closing"])
        export = service.export_report(data)
        files = export.files
        font_note = export.fonts.note()
        seconds = data["timing"].get("total_s", 0)
        yield (
            f"<small>已完成 {len(data['sections'])} 个部分，用时 {seconds:.0f} 秒</small>",
            body_html,
            facts_unused_html(data["facts_unused"])
            + copy_note_html([s["longest_copy"] for s in data["sections"]]),
            placeholders_html(data["placeholders"]),
            citations_html(data["citations"], "参考范文"),
            str(files["docx"]),
            str(files["xlsx"]),
            str(files["csv"]),
            f"<small>{html.escape(font_note)}</small>" if font_note else "",
        )

    start.click(
        write,
        [role, year, topic, variant, outline, name, closing, *boxes],
        [progress, body, unused, placeholders, sources, docx_file, xlsx_file, csv_file, note],
        api_name="draft_report",
    )


__all__ = ["report_request", "whole_report_panel"]
