"""The 检查 tab: a text checked sentence by sentence against source files (``Service.check``), shown
as the CLI and ``POST /api/check`` give it: verdict, score, and for every figure 原文：… (the source
clause it is bound to) or why it is not."""

from __future__ import annotations

import html
from pathlib import Path

import gradio as gr

from rag.documents.files import SUPPORTED_SUFFIXES
from rag.service import Service

VERDICT_LABELS = {
    "supported": ("✓", "有依据"),
    "unsupported": ("？", "依据不足"),
    "figure_misbound": ("≠", "数字所指不符"),
    "figure_mismatch": ("✗", "数字不见于资料"),
}


def _figure_html(f: dict) -> str:
    b = f.get("binding") or {}
    raw = html.escape(f["raw"])
    if not b or b.get("match") == "absent":
        return f"<li><b>{raw}</b>：不见于任何资料</li>"
    where = html.escape(f"{b.get('source')}#{b.get('index')} {b.get('start')}-{b.get('end')}")
    clause = html.escape(b.get("source_clause") or "")
    if b.get("match") == "bound":
        ocr = _ocr_note(f.get("ocr_confidence"))
        if f.get("ocr_low"):  # read by OCR with low confidence: flagged, not trusted
            line = f"<b>{raw}</b> 原文：{clause} <small>{where}{ocr}，偏低：未予采信</small>"
            return f"<li class='unsupported'>{line}</li>"
        return f"<li><b>{raw}</b> 原文：{clause} <small>{where}{ocr}</small></li>"
    reason = html.escape(b.get("reason") or "")
    line = f"<b>{raw}</b> 所指不符：{reason}<br>原文：{clause} <small>{where}</small>"
    return f"<li class='unsupported'>{line}</li>"


def _ocr_note(confidence: float | None) -> str:
    return "" if confidence is None else f"（OCR识别，置信度 {confidence:.2f}）"


def check_html(data: dict) -> str:
    """The ``rag check --json`` object as HTML; every text from documents or the user is escaped."""
    rows = []
    for s in data["sentences"]:
        mark, label = VERDICT_LABELS.get(s["verdict"], ("", s["verdict"]))
        css = "" if s["verdict"] == "supported" else " class='unsupported'"
        figures = "".join(_figure_html(f) for f in s["figures"])
        ev = s.get("evidence")
        evidence = (
            f"<blockquote>{html.escape(ev['quote'])} <small>{html.escape(ev['source'])}#{ev['report_index']} "
            f"{ev['start']}-{ev['end']}{_ocr_note(ev.get('ocr_confidence'))}</small></blockquote>"
            if ev
            else ""
        )
        note = f"<p>⚠ {html.escape(s['note'])}</p>" if s.get("note") else ""
        rows.append(
            f"<div{css}><b>{mark} {label}</b> <small>{s['score']:.2f}</small> {html.escape(s['text'])}"
            f"<ul>{figures}</ul>{note}{evidence}</div>"
        )
    rate = data.get("support_rate")
    precision = data.get("figure_precision")
    rate_text = "–" if rate is None else f"{rate:.0%}"
    precision_text = "–" if precision is None else f"{precision:.0%}"
    found = f"{data['figures_found']}/{data['figures_checked']}"
    summary = (
        f"<div class='badge-ok'>支持率 {rate_text}，数字精确率 {precision_text}（{found}，"
        f"所指不符 {data.get('figures_misbound', 0)} 个"
        + (f"，OCR识别置信度低、未予采信 {n} 个" if (n := data.get("figures_ocr_low")) else "")
        + f"），判断：{html.escape(str(data['judge']))}</div>"
    )
    return summary + "".join(rows)


def check_tab(service: Service) -> None:
    text = gr.Textbox(label="待核查的文本", lines=6, placeholder="全镇村集体经济总收入达179.25万元。")
    with gr.Row():
        files = gr.File(
            label=f"资料文件（{'/'.join(SUPPORTED_SUFFIXES)}；扫描件、照片经文字识别）",
            file_count="multiple",
            file_types=list(SUPPORTED_SUFFIXES),
        )
        pasted = gr.Textbox(label="或直接粘贴资料原文", lines=6)
    judge = gr.Checkbox(value=True, label="用判断模型打支持分（不勾选只核对数字及其所指）")
    run = gr.Button("核查", variant="primary")
    out = gr.HTML()

    def do_check(body, uploaded, source_text, use_judge):
        sources: list[Path | str] = [Path(f if isinstance(f, str) else f.name) for f in uploaded or []]
        if (source_text or "").strip():
            sources.append(source_text)
        if not (body or "").strip() or not sources:
            return "<div class='banner-error'>⚠ 请给出待核查的文本和至少一份资料</div>"
        try:
            result = service.check(body, sources, judge=bool(use_judge))
        except Exception as exc:
            return f"<div class='banner-error'>⚠ {html.escape(str(exc))}</div>"
        return check_html(result.to_json())

    run.click(do_check, [text, files, pasted, judge], out, api_name="check")
