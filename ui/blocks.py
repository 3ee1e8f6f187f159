"""The Gradio UI: 起草 (drafting chat), 问答, 知识库 (library); later tabs plug in here.

Handlers are thin: they call the same Service the HTTP API uses."""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from rag.ask import AskResult
from rag.documents.files import SUPPORTED_SUFFIXES
from rag.drafting.section import DraftRequest, DraftResult
from rag.retrieval import validate_where
from rag.service import Service
from ui.draft_report import facts_lines, whole_report_panel
from ui.render import (
    CSS,
    answer_html,
    citations_html,
    copy_note_html,
    escape,
    facts_unused_html,
    placeholders_html,
)
from ui.tab_check import check_tab
from ui.tabs_more import brief_tab, eval_tab

ROLES = [
    "乡长",
    "副乡长",
    "镇党委书记",
    "乡党委书记",
    "村党总支书记",
    "支部书记",
    "组织部长",
    "宣传部长",
    "组织委员",
    "宣传委员",
]
SECTIONS = ["履职情况", "存在问题", "原因分析", "下步打算"]


_facts = facts_lines


def _error_text(exc: Exception) -> str:
    return f"⚠ {exc}"


def draft_tab(service: Service) -> None:
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            role = gr.Dropdown(ROLES, value="副乡长", label="职务", allow_custom_value=True)
            section = gr.Dropdown(SECTIONS, value="存在问题", label="部分")
            year = gr.Number(value=2024, precision=0, label="年度")
            topic = gr.Textbox(label="侧重点", placeholder="如：安全生产、党员教育")
            facts = gr.Textbox(
                label="我的事实（每行一条：次数、金额、项目名…）",
                lines=6,
                placeholder="全年开展安全生产检查26次",
            )
            variant = gr.Dropdown(["default", "concise"], value="default", label="提示词变体")
        with gr.Column(scale=3):
            chat = gr.Chatbot(
                label="起草对话",
                height=420,
                buttons=["copy"],
                sanitize_html=True,
                placeholder="在下方输入要求，如“写存在问题部分”；草稿出来后可以继续提修改意见",
            )
            message = gr.Textbox(
                label="输入要求或修改意见", placeholder="写存在问题部分 / 再精简一些 / 加一条关于意识形态的"
            )
            with gr.Row():
                send = gr.Button("发送", variant="primary")
                clear = gr.Button("清空对话")
                export = gr.Button("导出 .docx")
            with gr.Row():
                export_file = gr.File(label="下载草稿 .docx（附起草依据核对表）", visible=True)
                evidence_xlsx = gr.File(label="起草依据核对表 .xlsx")
                evidence_csv = gr.File(label="起草依据核对表 .csv")
            export_note = gr.HTML()
            unused = gr.HTML()
            placeholders = gr.HTML()
            sources = gr.HTML()
    state = gr.State([])  # the plain-text history (drafts as guarded text), per browser session
    last = gr.State(None)  # the last DraftResult's JSON: its citations and placeholders, for the export

    def respond(msg, history, plain, last_v, role_v, section_v, year_v, topic_v, facts_v, variant_v):
        msg = (msg or "").strip() or f"写{section_v}部分"
        req = DraftRequest(
            role=role_v or "",
            section=section_v or "",
            year=int(year_v) if year_v else None,
            topic=topic_v or "",
            facts=_facts(facts_v),
        )
        history = [*history, {"role": "user", "content": escape(msg)}, {"role": "assistant", "content": ""}]
        streamed = ""
        try:
            for event in service.draft_stream(req, message=msg, history=plain, variant=variant_v):
                if isinstance(event, DraftResult):
                    history[-1]["content"] = answer_html(event.text, event.citations)
                    plain = [
                        *plain,
                        {"role": "user", "content": msg},
                        {"role": "assistant", "content": event.text},
                    ]
                    data = event.to_json()
                    yield (
                        history,
                        plain,
                        data,
                        facts_unused_html(data.get("facts_unused") or [])
                        + copy_note_html([data.get("longest_copy")]),
                        placeholders_html(event.placeholders),
                        citations_html(event.citations, "参考范文"),
                        "",
                    )
                    return
                streamed += event
                history[-1]["content"] = escape(streamed) + " ▌"
                yield history, plain, last_v, "", "", "", ""
        except Exception as exc:  # keep what was streamed; say what went wrong
            history[-1]["content"] = escape(streamed) + f"\n\n{_error_text(exc)}"
            yield history, plain, last_v, "", "", "", ""

    inputs = [message, chat, state, last, role, section, year, topic, facts, variant]
    outputs = [chat, state, last, unused, placeholders, sources, message]
    send.click(respond, inputs, outputs)
    message.submit(respond, inputs, outputs)
    clear.click(lambda: ([], [], None, "", "", ""), None, [chat, state, last, unused, placeholders, sources])

    def do_export(plain, last_v, role_v, section_v, year_v, facts_v):
        drafts = [m["content"] for m in plain if m["role"] == "assistant"]
        if not drafts:
            return None, None, None, "<div class='banner-error'>还没有草稿：请先起草</div>"
        result = draft_export_input(drafts[-1], last_v, role_v, section_v, year_v, _facts(facts_v))
        try:
            export = service.export_draft(result)
        except Exception as exc:
            return None, None, None, f"<div class='banner-error'>{html.escape(_error_text(exc))}</div>"
        note = export.fonts.note()
        files = export.files
        note_html = f"<small>{html.escape(note)}</small>" if note else ""  # gr.HTML, not Markdown
        return str(files["docx"]), str(files["xlsx"]), str(files["csv"]), note_html

    export.click(
        do_export,
        [state, last, role, section, year, facts],
        [export_file, evidence_xlsx, evidence_csv, export_note],
        api_name="draft_export",
    )
    whole_report_panel(service, role, year, topic, variant)


def draft_export_input(text: str, last: dict | None, role: str, section: str, year, facts) -> dict:
    """The draft to export, as DraftResult JSON: the last result's citations and placeholders
    when ``text`` is still that result's text, else the text alone (its 【待补充】 still listed)."""
    if last and last.get("text") == text:
        return last
    request = {"role": role or "", "section": section or "", "year": int(year) if year else None}
    return {"text": text, "request": {**request, "facts": list(facts)}, "citations": [], "placeholders": []}


def ask_tab(service: Service) -> None:
    chat = gr.Chatbot(
        label="依据资料问答", height=380, sanitize_html=True, placeholder="提问后，回答逐句标注出处"
    )
    with gr.Row():
        question = gr.Textbox(label="问题", placeholder="化眉村的茶叶加工厂有多大？", scale=4)
        k = gr.Slider(1, 10, value=4, step=1, label="检索条数", scale=1)
    send = gr.Button("提问", variant="primary")
    sources = gr.HTML()
    state = gr.State([])

    def respond(q, history, plain, k_v):
        q = (q or "").strip()
        history = [*history, {"role": "user", "content": escape(q)}, {"role": "assistant", "content": ""}]
        streamed = ""
        try:
            for event in service.ask_stream(q, k=int(k_v), history=plain):
                if isinstance(event, AskResult):
                    history[-1]["content"] = answer_html(event.answer, event.citations, event.unsupported)
                    plain = [
                        *plain,
                        {"role": "user", "content": q},
                        {"role": "assistant", "content": event.answer},
                    ]
                    yield history, plain, citations_html(event.citations), ""
                    return
                streamed += event
                history[-1]["content"] = escape(streamed) + " ▌"
                yield history, plain, "", ""
        except Exception as exc:
            history[-1]["content"] = escape(streamed) + f"\n\n{_error_text(exc)}"
            yield history, plain, "", ""

    send.click(respond, [question, chat, state, k], [chat, state, sources, question])
    question.submit(respond, [question, chat, state, k], [chat, state, sources, question])


def _documents_rows(service: Service) -> list[list]:
    rows = []
    for d in service.documents():
        for r in d["report_list"]:
            rows.append(
                [d["source"], r["title"], r["role"] or "", r["year"] or "", r["level"] or "", d["chunks"]]
            )
    return rows


def library_tab(service: Service) -> None:
    gr.Markdown("### 导入文件（.txt .md .docx .pdf .doc .wps；扫描件、照片 .png .jpg .tif 自动识别文字）")
    files = gr.File(file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), label="选择文件")
    ingest_btn = gr.Button("导入", variant="primary")
    ingest_log = gr.Dataframe(
        headers=["文件", "结果", "报告", "分块", "错误"], label="导入结果", interactive=False
    )
    gr.Markdown("### 已导入的报告")
    docs = gr.Dataframe(
        headers=["文件", "标题", "职务", "年度", "层级", "分块"],
        value=lambda: _documents_rows(service),
        interactive=False,
    )
    with gr.Row():
        to_delete = gr.Textbox(label="要删除的文件（路径或文件名）", scale=3)
        delete_btn = gr.Button("删除", variant="stop", scale=1)
    delete_msg = gr.Markdown()

    def do_ingest(uploaded, progress=gr.Progress()):  # noqa: B008 - Gradio's progress idiom
        saved, rows = [], []
        for f in uploaded or []:
            path = Path(f if isinstance(f, str) else f.name)
            try:
                saved.append(service.save_upload_file(path, path.name))
            except Exception as exc:
                rows.append([path.name, "error", 0, 0, str(exc)])

        def report(stage: str, done: int, total: int) -> None:
            if total:
                desc = {"files": "文件", "pages": f"文字识别 第 {done}/{total} 页"}.get(stage, "向量化")
                progress(done / total, desc=desc)

        try:
            if saved:
                result = service.ingest_uploads(saved, progress=report)
                rows += [[f.source, f.status, f.reports, f.chunks, f.error or ""] for f in result.files]
        except Exception as exc:
            rows.append(["（全部）", "error", 0, 0, str(exc)])
        return rows, _documents_rows(service)

    def do_delete(source):
        try:
            key, n = service.remove((source or "").strip())
            message = f"已删除 {escape(key)}（{n} 个分块）"
        except Exception as exc:
            message = _error_text(exc)
        return message, _documents_rows(service)

    ingest_btn.click(do_ingest, files, [ingest_log, docs], api_name="ingest")
    delete_btn.click(do_delete, to_delete, [delete_msg, docs], api_name="delete_document")

    gr.Markdown("### 检索试验")
    with gr.Row():
        query = gr.Textbox(label="查询", scale=3)
        k = gr.Slider(1, 20, value=5, step=1, label="条数", scale=1)
    with gr.Row():
        f_role = gr.Textbox(label="职务过滤")
        f_year = gr.Textbox(label="年度过滤")
        f_section = gr.Dropdown(
            ["", "前言", "履职", "问题", "原因", "打算", "结语", "其他"], value="", label="部分过滤"
        )
    search_btn = gr.Button("检索")
    hits = gr.Dataframe(headers=["得分", "报告", "部分", "位置", "内容"], interactive=False, wrap=True)
    search_msg = gr.Markdown()

    def do_search(q, k_v, role_v, year_v, section_v):
        where = {key: v for key, v in (("role", role_v), ("year", year_v), ("section", section_v)) if v}
        try:
            passages = service.search(q or "", k=int(k_v), where=validate_where(where))
        except Exception as exc:
            return [], _error_text(exc)
        rows = [
            [
                round(p.score, 4),
                p.chunk.report_title,
                " > ".join(p.chunk.heading_path),
                f"{p.chunk.source} {p.chunk.start}-{p.chunk.end}",
                p.chunk.text,
            ]
            for p in passages
        ]
        return rows, f"{len(rows)} 条结果"

    search_btn.click(do_search, [query, k, f_role, f_year, f_section], [hits, search_msg], api_name="search")
    query.submit(do_search, [query, k, f_role, f_year, f_section], [hits, search_msg])


def build_blocks(service: Service) -> gr.Blocks:
    with gr.Blocks(title="述职报告写作与摘要") as blocks:
        gr.Markdown("## 述职报告 · 起草 / 摘要 / 问答（每个数字都有出处）")

        def status_line() -> str:
            # Built on every page load: a model worker that stopped starting shows up on reload.
            problem = service.llm_status()
            banner = f"<div class='banner-error'>⚠ {escape(problem)}</div>" if problem else ""
            embedder = service.index.store.get_meta("embedder_id") or service.settings.embedder
            llm = escape(service.llm_description())
            return f"<small>大模型：{llm}；嵌入模型：{escape(embedder)}</small>{banner}"

        status = gr.HTML(status_line())
        blocks.load(status_line, outputs=status)
        with gr.Tabs():
            with gr.Tab("起草"):
                draft_tab(service)
            with gr.Tab("汇编摘要"):
                brief_tab(service)
            with gr.Tab("问答"):
                ask_tab(service)
            with gr.Tab("检查"):
                check_tab(service)
            with gr.Tab("知识库"):
                library_tab(service)
            with gr.Tab("评测"):
                eval_tab(service)
    return blocks


__all__ = ["CSS", "build_blocks"]
