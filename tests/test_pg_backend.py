"""The PostgreSQL backend (RAG_DATABASE_URL): the store on its own, keyword search against bm25s,
and writers on several Index objects (as on several nodes) taking turns on the advisory lock."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rag.index.index import Index, IndexBusyError
from rag.index.pg_keyword import PgKeywordIndex
from rag.index.pg_store import PgStore, tsquery_literal, tsvector_literal, write_lock
from rag.settings import Settings


def _pg_settings(tmp_path: Path, url: str, name: str = "node1", **kw) -> Settings:
    return Settings(index_dir=tmp_path / name, embedder="hash", database_url=url, **kw)


def test_literals_survive_quotes_and_backslashes(pg_url: str) -> None:
    import psycopg

    text = "党建工作 it's a \\ test 2024年 179.25万元"
    with psycopg.connect(pg_url) as conn:
        vec = conn.execute("SELECT %s::tsvector", (tsvector_literal(text),)).fetchone()[0]
        assert "党建" in vec and "it" in vec
        hit = conn.execute(
            "SELECT %s::tsvector @@ %s::tsquery", (tsvector_literal(text), tsquery_literal("党建 s"))
        ).fetchone()[0]
        assert hit is True
    assert tsquery_literal("的了和") is None  # stop words only: no query


def test_store_roundtrip_generation_cache_and_uploads(pg_url: str, tmp_path: Path, seeds_copy: Path) -> None:
    index = Index(_pg_settings(tmp_path, pg_url))
    index.ingest([seeds_copy / "000_ee762d4aa9d80f7b.txt"])
    store = index.store
    assert isinstance(store, PgStore) and store.generation >= 1
    counts = store.counts()
    assert counts["documents"] == 1 and counts["chunks"] == len(store.chunk_ids()) > 5
    key = store.documents()[0]["source"]
    reports = store.reports(key)
    for chunk in store.chunks_by_ids(store.chunk_ids(key)).values():
        assert reports[chunk.report_index].text[chunk.start : chunk.end] == chunk.text
    assert len(store.cached_vectors([index._cache_key(c.embedding_text()) for c in store.iter_chunks()])) > 0
    store.put_upload("uploads/a.txt", b"\x00abc")
    assert store.get_upload("uploads/a.txt") == b"\x00abc"
    store.delete_upload("uploads/a.txt")
    assert store.get_upload("uploads/a.txt") is None
    # A second node sees the same store; its keyword index is always at the store's generation.
    other = Index(_pg_settings(tmp_path, pg_url, "node2"))
    assert other.store.chunk_ids() == store.chunk_ids()
    assert other.ensure_keywords().generation == store.generation
    assert not (tmp_path / "node1" / "store.sqlite").exists()


def test_collections_are_separate_schemas(pg_url: str, tmp_path: Path, seeds_copy: Path) -> None:
    a = Index(_pg_settings(tmp_path, pg_url, collection="kb_a"))
    a.ingest([seeds_copy / "000_ee762d4aa9d80f7b.txt"])
    b = Index(_pg_settings(tmp_path, pg_url, "other", collection="kb_b"))
    assert b.store.counts()["chunks"] == 0 and a.store.counts()["chunks"] > 0


def test_keyword_search_agrees_with_bm25s(pg_url: str, tmp_path: Path, seeds_copy: Path) -> None:
    sqlite = Index(Settings(index_dir=tmp_path / "lite", embedder="hash"))
    pg = Index(_pg_settings(tmp_path, pg_url))
    for index in (sqlite, pg):
        index.ingest([seeds_copy])
    assert isinstance(pg.ensure_keywords(), PgKeywordIndex)
    for query in ("化眉村茶叶加工厂", "香料烟种植面积", "安全生产大检查", "党风廉政建设"):
        lite = [cid for cid, _ in sqlite.keyword_search(query, 5)]
        ours = [cid for cid, _ in pg.keyword_search(query, 5)]
        assert ours and lite
        assert ours[0] in lite[:3], query  # the best hit is one of bm25s' top three
    hits = pg.keyword_search("存在问题", 20, {"role": "副乡长"})
    chunks = pg.store.chunks_by_ids([cid for cid, _ in hits])
    assert hits and all(c.role == "副乡长" for c in chunks.values())
    with pytest.raises(KeyError):
        pg.keyword_search("问题", 5, {"colour": "red"})


def test_a_second_writer_waits_for_the_first(pg_url: str, tmp_path: Path, seeds_copy: Path) -> None:
    settings = _pg_settings(tmp_path, pg_url)
    holder_ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(pg_url, settings.collection, 5):
            holder_ready.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert holder_ready.wait(10)
    threading.Timer(1.0, release.set).start()
    writer = Index(_pg_settings(tmp_path, pg_url, "node2"))
    reader = Index(_pg_settings(tmp_path, pg_url, "node3"))
    start = time.monotonic()
    assert reader.store.counts()["chunks"] == 0  # readers never wait for the lock
    result = writer.ingest([seeds_copy / "000_ee762d4aa9d80f7b.txt"])
    waited = time.monotonic() - start
    t.join()
    assert result.count("added") == 1 and waited >= 0.9
    first = next(reader.store.iter_chunks())  # the reader sees the commit at once (its Chroma is local)
    assert reader.keyword_search(first.text, 3)[0][0] == first.chunk_id


def test_a_writer_gives_up_after_the_timeout_with_a_clear_message(
    pg_url: str, tmp_path: Path, seeds_copy: Path
) -> None:
    settings = _pg_settings(tmp_path, pg_url, write_lock_timeout=0.5)
    other = Index(settings)
    with (
        write_lock(pg_url, settings.collection, 5),
        pytest.raises(IndexBusyError, match="RAG_WRITE_LOCK_TIMEOUT"),
    ):
        other.ingest([seeds_copy])
    assert other.store.counts()["chunks"] == 0
    assert other.ingest([seeds_copy / "000_ee762d4aa9d80f7b.txt"]).count("added") == 1  # lock released


def test_concurrent_ingests_from_two_nodes_both_land(pg_url: str, tmp_path: Path, seeds_copy: Path) -> None:
    files = sorted(seeds_copy.iterdir())
    nodes = [Index(_pg_settings(tmp_path, pg_url, f"node{i}")) for i in (1, 2)]
    errors: list[BaseException] = []

    def run(index: Index, part: list[Path]) -> None:
        try:
            index.ingest(part)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n, files[i::2])) for i, n in enumerate(nodes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert nodes[0].store.counts()["documents"] == len(files)
    assert set(nodes[1].ensure_keywords().ids) == set(nodes[0].store.chunk_ids())


@pytest.mark.server
def test_sigkill_mid_ingest_is_repaired_and_releases_the_lock(pg_url: str, tmp_path: Path) -> None:
    import os
    import random
    import signal
    import subprocess

    from tests.test_reliability import _consistent, _corpus, _ingest_cmd

    folder = _corpus(tmp_path / "corpus", copies=3)
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(tmp_path / "node1"),
        "RAG_EMBEDDER": "hash",
        "RAG_DATABASE_URL": pg_url,
        "RAG_WRITE_LOCK_TIMEOUT": "60",  # a lock left behind by a killed writer would fail, not hang
    }
    rng = random.Random(11)
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen(
            _ingest_cmd(folder), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(1.0, 4.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "every ingest finished before the kill: make the corpus larger"
    done = subprocess.run(_ingest_cmd(folder), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    counts = _consistent(_pg_settings(tmp_path, pg_url))
    clean = Index(Settings(index_dir=tmp_path / "clean", embedder="hash"))
    clean.ingest([folder])
    assert counts == clean.store.counts()
