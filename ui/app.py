"""The web app: FastAPI with the REST API under /api and the Gradio UI mounted at /.

``create_app`` builds everything from settings (tests call it); ``serve`` runs it."""

from __future__ import annotations

import json

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from rag.service import Service
from rag.settings import Settings
from ui.api import create_router, install_error_handlers
from ui.auth import basic_auth_middleware, check_credentials, load_users
from ui.blocks import CSS, build_blocks

# Gradio's frontend picks its own strings (Drop File Here, Clear, Submit, Error, Loading…) from
# navigator.language, read once when it starts; it has no option to fix the language (gr.I18n only
# adds translations, and Gradio's English ones win for an English browser). This app speaks Chinese
# to every browser: the page says its language is zh-CN before Gradio's script runs, and Gradio
# loads its own zh-CN strings.
_SET_LANGUAGE = (
    "const langs = ['zh-CN', 'zh'];"
    " Object.defineProperty(Navigator.prototype, 'language', {get: () => langs[0], configurable: true});"
    " Object.defineProperty(Navigator.prototype, 'languages', {get: () => langs, configurable: true});"
)
# Keys Gradio's frontend uses but its zh-CN (and en) strings lack: shown raw otherwise.
MISSING_ZH = {"common.complete": "完成", "common.upload": "上传"}
# Tooltips and screen-reader labels Gradio writes in English whatever the language (not i18n keys).
LABELS_ZH = {
    "Click to upload or drop files": "点击上传或拖放文件",
    "Copy table data": "复制表格数据",
    "Copied to clipboard": "已复制",
    "Fullscreen": "全屏",
    "Exit fullscreen": "退出全屏",
    "Reset to default value": "恢复默认值",
    "Remove file": "移除文件",
    "Uploaded files": "已上传的文件",
    "Uploading": "正在上传",
    "Empty value": "空",
    "chatbot conversation": "对话",
    "Table actions": "表格操作",
    "Gradio footer navigation": "页脚导航",
}
_RELABEL = (
    f"const zh = {json.dumps(LABELS_ZH, ensure_ascii=False)};"
    " const relabel = (el) => { for (const a of ['title', 'aria-label']) {"
    " const v = el.getAttribute(a); if (v && zh[v]) el.setAttribute(a, zh[v]); } };"
    " const scan = (node) => { if (node.nodeType !== 1) return; relabel(node);"
    " node.querySelectorAll('[title],[aria-label]').forEach(relabel); };"
    " new MutationObserver((records) => records.forEach("
    "(r) => (r.type === 'attributes' ? relabel(r.target) : r.addedNodes.forEach(scan))))"
    ".observe(document, {subtree: true, childList: true, attributes: true,"
    " attributeFilter: ['title', 'aria-label']});"
)
CHINESE_UI = f"<script>(() => {{ {_SET_LANGUAGE} {_RELABEL} }})();</script>"


async def chinese_pages(request: Request, call_next):
    """The HTML pages Gradio serves, with CHINESE_UI first in their <head> and lang="zh-CN"."""
    response = await call_next(request)
    if request.method != "GET" or not response.headers.get("content-type", "").startswith("text/html"):
        return response
    body = b"".join([chunk async for chunk in response.body_iterator])
    page = body.decode("utf-8", errors="replace")
    if "<head>" in page:
        page = page.replace("<head>", "<head>" + CHINESE_UI, 1)
        page = page.replace('lang="en"', 'lang="zh-CN"', 1)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(page, status_code=response.status_code, headers=headers, media_type="text/html")


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    service = service or Service(settings)
    users = load_users(settings.auth)
    app = FastAPI(title="述职报告 RAG API", docs_url="/docs")
    app.state.service = service
    install_error_handlers(app)
    app.middleware("http")(basic_auth_middleware(users))
    app.middleware("http")(chinese_pages)
    app.include_router(create_router(service))
    blocks = build_blocks(service)
    auth = (lambda u, p: check_credentials(users, u, p)) if users else None
    max_size = int(settings.max_file_mb * 1048576)  # bytes: a limit under 1 MB stays a limit
    return gr.mount_gradio_app(
        app,
        blocks,
        path="",
        auth=auth,
        max_file_size=max_size,
        css=CSS,
        footer_links=["api"],
        i18n=gr.I18n(**{"zh-CN": MISSING_ZH}),
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
