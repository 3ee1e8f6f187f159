"""Stateless nodes: two Services (as two nodes, each with its own RAG_INDEX_DIR) on one PostgreSQL
and one `chroma run`. An upload through node 1 is listed, searched, read and deleted through node 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.retrieval import hybrid_search
from rag.service import Service
from rag.settings import Settings
from tests.conftest import SEEDS
from tests.test_chroma_server import chroma_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.server


def _node(tmp_path: Path, name: str, pg_url: str, chroma: str) -> Service:
    settings = Settings(
        index_dir=tmp_path / name / "index", embedder="hash", database_url=pg_url, chroma_url=chroma
    )
    return Service(settings)


def test_an_upload_through_one_node_is_served_and_deleted_by_another(
    tmp_path: Path, pg_url: str, request: pytest.FixtureRequest
) -> None:
    chroma = request.getfixturevalue("chroma_server")
    node1, node2 = _node(tmp_path, "n1", pg_url, chroma), _node(tmp_path, "n2", pg_url, chroma)
    data = (SEEDS / "002_2f2310b7b8fa1bf8.txt").read_bytes()
    saved = node1.save_upload("化眉村述职.txt", data)
    result = node1.ingest_uploads([saved])
    assert result.count("added") == 1
    [key] = [f.source for f in result.files]
    assert key == "uploads/化眉村述职.txt"  # the same key on every node, not node 1's path

    assert [d["source"] for d in node2.index.store.documents()] == [key]
    hits = hybrid_search(node2.index, "化眉村茶叶加工厂", k=3)
    assert hits and hits[0].chunk.source == key
    assert node2.index.vectors.count() == node1.index.store.counts()["chunks"]
    assert node2.upload_original(key) == data
    assert node2.index.store.reports(key)

    removed, n = node2.remove("化眉村述职.txt")
    assert removed == key and n > 0
    assert node1.index.store.documents() == []
    assert node1.upload_original(key) is None
    assert hybrid_search(node1.index, "化眉村茶叶加工厂", k=3) == []
    assert node1.index.vectors.count() == 0
