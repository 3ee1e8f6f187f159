"""Helpers for UI/API tests: a scripted service over the hashed seed index, and a real
uvicorn server on 127.0.0.1 in a background thread."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from rag.llm.fake import ScriptedLLM
from rag.service import Service
from rag.settings import Settings
from tests.conftest import SEEDS
from ui.app import create_app

DRAFT_REPLY = "一是安全生产检查26次，排查隐患45处。[1]二是党员教育方式单一。"


def scripted_service(tmp: Path, **settings_kw) -> Service:
    settings = Settings(index_dir=tmp / "index", embedder="hash", **settings_kw)
    llm = ScriptedLLM(default=DRAFT_REPLY).on("茶叶加工厂", "化眉村茶叶加工厂面积800平米。[1]")
    service = Service(settings, llm=llm)
    service.ingest([SEEDS])
    return service


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(service: Service) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        create_app(service.settings, service), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/health", timeout=2)
            break
        except urllib.error.HTTPError:
            break  # up, but behind a login
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start on {url}") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)
