"""The web app: FastAPI with the REST API under /api and the Gradio UI mounted at /.

``create_app`` builds everything from settings (tests call it); ``serve`` runs it."""

from __future__ import annotations

import gradio as gr
import uvicorn
from fastapi import FastAPI

from rag.service import Service
from rag.settings import Settings
from ui.api import create_router, install_error_handlers
from ui.auth import basic_auth_middleware, check_credentials, load_users
from ui.blocks import CSS, build_blocks


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    service = service or Service(settings)
    users = load_users(settings.auth)
    app = FastAPI(title="述职报告 RAG API", docs_url="/docs")
    app.state.service = service
    install_error_handlers(app)
    app.middleware("http")(basic_auth_middleware(users))
    app.include_router(create_router(service))
    blocks = build_blocks(service)
    auth = (lambda u, p: check_credentials(users, u, p)) if users else None
    max_size = int(settings.max_file_mb * 1048576)  # bytes: a limit under 1 MB stays a limit
    return gr.mount_gradio_app(
        app, blocks, path="", auth=auth, max_file_size=max_size, css=CSS, footer_links=["api"]
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
