"""The persistent hybrid index with the hashed embedder: ingest, idempotence,
replacement, removal, consistency, filters and bad input — on both backends (SQLite + bm25s
and PostgreSQL: ``backend_settings`` in tests/pg_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.index.index import EmbedderMismatchError, Index, IndexBusyError
from rag.retrieval import QueryError, hybrid_search
from rag.settings import Settings
from tests.conftest import SEEDS


def _consistent(index: Index) -> None:
    store_ids = set(index.store.chunk_ids())
    assert index.vectors.ids() == store_ids
    kw = index.ensure_keywords()
    assert set(kw.ids) == store_ids


def test_ingest_seeds_counts_and_offsets(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    result = index.ingest([seeds_copy])
    assert result.count("added") == 5 and result.count("error") == 0
    counts = index.store.counts()
    assert counts["documents"] == 5
    assert counts["reports"] == 9
    assert counts["chunks"] == result.to_json()["chunks"] > 50
    _consistent(index)
    reports = {(r.source, r.index): r for r in index.store.reports()}
    for chunk in index.store.iter_chunks():
        text = reports[(chunk.source, chunk.report_index)].text
        assert text[chunk.start : chunk.end] == chunk.text


def test_reingest_unchanged_adds_nothing(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    generation = index.store.generation
    ids = index.store.chunk_ids()
    again = index.ingest([seeds_copy])
    assert again.count("unchanged") == 5 and again.to_json()["chunks"] == 0
    assert index.store.generation == generation
    assert index.store.chunk_ids() == ids


def test_changed_file_replaces_its_chunks(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    target = seeds_copy / "000_ee762d4aa9d80f7b.txt"
    source = index.resolve_source(str(target))
    before = set(index.store.chunk_ids(source))
    target.write_text(
        target.read_text(encoding="utf-8") + "\n四、补充说明\n本年度新建文化广场一处，面积1200平方米。\n",
        encoding="utf-8",
    )
    result = index.ingest([seeds_copy])
    assert result.count("replaced") == 1 and result.count("unchanged") == 4
    after = set(index.store.chunk_ids(source))
    assert after != before
    assert any("1200平方米" in c.text for c in index.store.chunks_by_ids(sorted(after)).values())
    _consistent(index)
    hits = hybrid_search(index, "文化广场面积", k=3)
    # The new text is searchable at once. Its rank among passages sharing its words is the
    # fusion's business (measured with e5 by rag bench quality): with the hashed embedder here the
    # length and 履职 features put a long 履职 passage that also names 面积 before this one-line
    # addendum, so the test asks for the top 3, not the top 1.
    assert any("1200平方米" in h.chunk.text for h in hits)


def test_remove_deletes_from_both_indexes(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    n = index.remove("002_2f2310b7b8fa1bf8.txt")  # a unique file name is enough
    assert n > 0
    assert index.store.counts()["documents"] == 4
    _consistent(index)
    hits = hybrid_search(index, "化眉村茶叶加工厂", k=10)
    assert all("002_" not in p.chunk.source for p in hits)
    with pytest.raises(Exception, match="没有文档"):
        index.remove("no-such-file.txt")


def test_persistence_across_instances(backend_settings: Settings, seeds_copy: Path) -> None:
    first = Index(backend_settings)
    first.ingest([seeds_copy])
    before = [p.chunk.chunk_id for p in hybrid_search(first, "化眉村的茶叶加工厂有多大", k=5)]
    first.close()
    reopened = Index(backend_settings)
    hits = hybrid_search(reopened, "化眉村的茶叶加工厂有多大", k=5)
    assert [p.chunk.chunk_id for p in hits] == before
    assert any("800平米" in p.chunk.text for p in hits)


def test_filters(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    hits = hybrid_search(index, "存在问题", k=10, where={"role": "副乡长"})
    assert hits and all(p.chunk.role == "副乡长" for p in hits)
    hits = hybrid_search(index, "下步打算", k=10, where={"section": "打算", "year": "2023"})
    assert hits and all(p.chunk.section == "打算" and p.chunk.year == 2023 for p in hits)
    with pytest.raises(QueryError, match="不支持的过滤字段"):
        hybrid_search(index, "问题", where={"colour": "red"})


def test_bad_queries(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    for query, k, message in [
        ("", 5, "查询为空"),
        ("问" * 10_000, 5, "查询过长"),
        ("问题", 0, "-k"),
        ("问题", 10_000, "-k"),
    ]:
        with pytest.raises(QueryError, match=message):
            hybrid_search(index, query, k=k)


def test_near_duplicates_removed(backend_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "dups"
    folder.mkdir()
    body = "一、履职情况\n全年开展安全生产大检查12次，排查整改隐患45处，确保了全乡安全形势稳定。\n"
    (folder / "a.txt").write_text("乡长2023年述职报告\n" + body, encoding="utf-8")
    (folder / "b.txt").write_text("副乡长2023年述职报告\n" + body, encoding="utf-8")
    index = Index(backend_settings)
    index.ingest([folder])
    hits = hybrid_search(index, "安全生产大检查", k=5)
    assert sum("排查整改隐患45处" in p.chunk.text for p in hits) == 1


def test_bad_input_leaves_index_untouched(
    backend_settings: Settings, seeds_copy: Path, tmp_path: Path
) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    ids, generation = index.store.chunk_ids(), index.store.generation
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (bad / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    result = index.ingest([bad, tmp_path / "missing.txt"])
    assert result.count("error") == 4 and not result.ok
    messages = " ".join(f.error or "" for f in result.files)
    for name in ("empty.txt", "binary.txt", "broken.docx", "missing.txt"):
        assert name in messages
    assert index.store.chunk_ids() == ids and index.store.generation == generation
    _consistent(index)


def test_embedder_mismatch_is_refused(backend_settings: Settings, seeds_copy: Path) -> None:
    Index(backend_settings).ingest([seeds_copy / "000_ee762d4aa9d80f7b.txt"])

    class OtherEmbedder:
        id = "other/model"
        dim = 384

    with pytest.raises(EmbedderMismatchError, match="RAG_EMBEDDER"):
        _ = Index(backend_settings, embedder=OtherEmbedder()).embedder  # type: ignore[arg-type]


def test_reconcile_repairs_orphans_and_missing_vectors(backend_settings: Settings, seeds_copy: Path) -> None:
    index = Index(backend_settings)
    index.ingest([seeds_copy])
    some = index.store.chunk_ids()[:5]
    index.vectors.delete(some)  # as if a crash lost vectors
    orphan = next(iter(index.store.chunks_by_ids(some[:1]).values()))
    from dataclasses import replace

    ghost = replace(orphan, chunk_id="ghost-chunk")
    index.vectors.upsert([ghost], index.embed_chunks([ghost]))  # as if a crash left an orphan
    fixed = index.reconcile()
    assert fixed == {"orphans_removed": 1, "vectors_restored": 5}
    _consistent(index)


def test_concurrent_writer_is_refused_with_clear_message(hash_settings: Settings, seeds_copy: Path) -> None:
    index = Index(hash_settings)
    other = Index(hash_settings)
    with index._write_lock(), pytest.raises(IndexBusyError, match="正在使用索引"):
        other.ingest([seeds_copy])


def test_keyword_index_follows_another_process(backend_settings: Settings, seeds_copy: Path) -> None:
    reader = Index(backend_settings)
    writer = Index(backend_settings)
    writer.ingest([seeds_copy / "000_ee762d4aa9d80f7b.txt"])
    assert len(reader.ensure_keywords()) == writer.store.counts()["chunks"]
    writer.ingest([seeds_copy])
    assert len(reader.ensure_keywords()) == writer.store.counts()["chunks"]


def test_a_file_parsed_by_an_older_parser_is_read_again(backend_settings):
    from rag.documents.parse import PARSER_VERSION

    index = Index(backend_settings)
    seed = SEEDS / "002_2f2310b7b8fa1bf8.txt"
    assert index.ingest([seed]).files[0].status == "added"
    assert index.ingest([seed]).files[0].status == "unchanged"
    key = index.store.documents()[0]["source"]
    index.store.set_meta(f"parser:{key}", "1")  # as an index built before PARSER_VERSION 2
    assert PARSER_VERSION != "1"
    assert index.ingest([seed]).files[0].status == "replaced"
    assert index.ingest([seed]).files[0].status == "unchanged"
