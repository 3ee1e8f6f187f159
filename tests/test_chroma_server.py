"""Server mode: a real `chroma run` on 127.0.0.1, used through RAG_CHROMA_URL."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.index.index import Index
from rag.retrieval import hybrid_search
from rag.settings import Settings
from tests.conftest import SEEDS

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"chroma server did not start on {url}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_ingest_and_search_against_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "local", chroma_url=chroma_server, embedder="hash")
    index = Index(settings)
    result = index.ingest([SEEDS])
    assert result.count("added") == 5
    assert index.vectors.count() == index.store.counts()["chunks"]
    assert not (tmp_path / "local" / "chroma").exists(), "server mode must not write a local Chroma"
    hits = hybrid_search(Index(settings), "化眉村的茶叶加工厂有多大", k=5)
    assert any("800平米" in p.chunk.text for p in hits)
