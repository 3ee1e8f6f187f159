"""scripts/cluster.sh: PostgreSQL + `chroma run` + two `rag serve` nodes, driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from rag.index.index import Index
from rag.settings import Settings
from tests.conftest import REPO, SEEDS
from tests.pg_support import pg_bindir

pytestmark = pytest.mark.server
SCRIPT = REPO / "scripts" / "cluster.sh"


@pytest.fixture
def cluster(tmp_path: Path):
    if pg_bindir() is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install -y postgresql)")
    folder = tmp_path / "cluster"
    env = {**os.environ, "RAG_EMBEDDER": "hash"}
    up = subprocess.run(
        ["bash", str(SCRIPT), "up", str(folder)], env=env, capture_output=True, text=True, timeout=400
    )
    try:
        assert up.returncode == 0, up.stderr
        info = json.loads(up.stdout.strip().splitlines()[-1])
        info["dir"] = folder
        yield info
    finally:
        subprocess.run(["bash", str(SCRIPT), "down", str(folder)], capture_output=True, timeout=120)
    assert not list(folder.glob("*.pid"))


def _ingest(node: str, name: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{node}/api/ingest", files={"files": (name, data, "text/plain")}, timeout=300)


def _sources(node: str) -> set[str]:
    return {d["source"] for d in httpx.get(f"{node}/api/documents", timeout=60).json()}


def test_two_nodes_share_one_knowledge_base(cluster: dict) -> None:
    node1, node2 = cluster["nodes"]
    seeds = sorted(SEEDS.glob("*.txt"))
    r = _ingest(node1, "化眉村.txt", (SEEDS / "002_2f2310b7b8fa1bf8.txt").read_bytes())
    assert r.status_code == 200, r.text
    hits = httpx.post(f"{node2}/api/search", json={"query": "化眉村茶叶加工厂", "k": 3}, timeout=60).json()
    assert hits and hits[0]["source"] == "uploads/化眉村.txt"

    r = httpx.delete(f"{node2}/api/documents/uploads/化眉村.txt", timeout=120)
    assert r.status_code == 200, r.text
    assert _sources(node1) == set()

    # Concurrent ingests on both nodes: the writers take turns, and everything lands.
    results: list[httpx.Response] = []
    threads = [
        threading.Thread(target=lambda n=n, p=p: results.append(_ingest(n, p.name, p.read_bytes())))
        for n, p in zip([node1, node2] * 3, seeds, strict=False)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    expected = {f"uploads/{p.name}" for p in seeds[: len(threads)]}
    assert _sources(node1) == _sources(node2) == expected


def test_sigkill_of_a_node_mid_ingest_is_consistent_after_reconcile(cluster: dict, tmp_path: Path) -> None:
    node1, node2 = cluster["nodes"]
    big = "\n".join(
        (p.read_text(encoding="utf-8").replace("述职报告\n", f"述职报告\n（第{i}份）\n", 1))
        for i in range(8)
        for p in sorted(SEEDS.glob("*.txt"))
    )
    pid = int((cluster["dir"] / "node1.pid").read_text())
    threading.Timer(1.5, lambda: os.kill(pid, signal.SIGKILL)).start()
    with pytest.raises(httpx.HTTPError):
        _ingest(node1, "big.txt", big.encode())
    r = _ingest(node2, "化眉村.txt", (SEEDS / "002_2f2310b7b8fa1bf8.txt").read_bytes())  # reconciles first
    assert r.status_code == 200, r.text
    settings = Settings(
        index_dir=tmp_path / "check",
        embedder="hash",
        database_url=cluster["postgres"],
        chroma_url=cluster["chroma"],
    )
    index = Index(settings)
    store_ids = set(index.store.chunk_ids())
    assert index.vectors.ids() == store_ids
    assert set(index.ensure_keywords().ids) == store_ids
    assert "uploads/化眉村.txt" in _sources(node2)
