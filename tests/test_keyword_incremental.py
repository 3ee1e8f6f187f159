"""The embedded keyword index is updated incrementally (a delta segment beside the main one, dead
sources masked) and still scores exactly like bm25s over the whole corpus built from scratch;
the reconcile before an ingest compares every vector id only after a write was cut short."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag.documents.chunking import chunk_report
from rag.documents.load import load_document
from rag.index import keyword
from rag.index.index import DIRTY, Index
from rag.index.keyword import KeywordIndex, tokenize
from rag.settings import Settings
from tests.conftest import REPO

REPORTS = sorted((REPO / "tests" / "fixtures" / "reports").glob("r*.txt"))
QUERIES = (
    "党建引领 乡村振兴",
    "安全生产 隐患排查",
    "流转土地 大棚",
    "招商引资 项目",
    "巡察整改 问题",
    "粮食 储备",
)


def _rows(index: Index) -> tuple[list[str], list[str]]:
    chunks = list(index.store.iter_chunks())
    return [c.chunk_id for c in chunks], [f"{c.header()}\n{c.text}" for c in chunks]


def _fresh(index: Index, tmp: Path) -> KeywordIndex:
    """A keyword index built from scratch over the store's rows, as a reference."""
    ids, texts = _rows(index)
    chunks = list(index.store.iter_chunks())
    fresh = KeywordIndex(tmp)
    fresh.build(ids, texts, [{"source": c.source, "year": c.year} for c in chunks], 0, save=False)
    return fresh


def _same_results(a: KeywordIndex, b: KeywordIndex, k: int = 8) -> None:
    for q in QUERIES:
        got, want = a.search(q, k), b.search(q, k)
        assert [i for i, _ in got] == [i for i, _ in want], q
        np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5)


def test_scores_equal_bm25s_built_from_scratch(tmp_path: Path) -> None:
    chunks = [c for p in REPORTS for r in load_document(p).reports for c in chunk_report(r)]
    tokens = [tokenize(f"{c.header()}\n{c.text}") for c in chunks]
    reference = bm25s.BM25()
    reference.index(tokens, show_progress=False)
    ours = KeywordIndex(tmp_path / "kw")
    ours.build([c.chunk_id for c in chunks], [""] * len(chunks), [{}] * len(chunks), 1, tokens=tokens)
    for q in (*QUERIES, *(c.text[:24] for c in chunks[::9])):
        ids = [reference.vocab_dict[t] for t in tokenize(q) if t in reference.vocab_dict]
        want = reference.get_scores_from_ids(ids) if ids else np.zeros(len(chunks))
        hits = ours.search(q, len(chunks))
        got = np.zeros(len(chunks))
        pos = {c.chunk_id: i for i, c in enumerate(chunks)}
        for cid, score in hits:
            got[pos[cid]] = score
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=q)


def test_add_replace_and_remove_update_a_delta_and_score_as_a_fresh_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for p in REPORTS[:12]:
        shutil.copy(p, docs / p.name)
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    index.ingest([docs])
    main_rows = index.keywords.segments[0]
    assert main_rows == index.store.counts()["chunks"] and index.keywords.segments[1:] == (0, 0)

    shutil.copy(REPORTS[12], docs / REPORTS[12].name)  # one new document
    index.ingest([docs / REPORTS[12].name])
    assert index.keywords.segments[0] == main_rows and index.keywords.segments[1] > 0  # main kept
    _same_results(index.keywords, _fresh(index, tmp_path / "f1"))

    changed = docs / REPORTS[3].name  # one replaced: its old rows in the main are dead
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n另外，完成粮食储备轮换任务3万吨。", encoding="utf-8"
    )
    assert index.ingest([changed]).files[0].status == "replaced"
    assert index.keywords.segments[2] > 0
    _same_results(index.keywords, _fresh(index, tmp_path / "f2"))

    index.remove(REPORTS[7].name)  # one removed
    assert set(index.keywords.ids) == set(index.store.chunk_ids())
    _same_results(index.keywords, _fresh(index, tmp_path / "f3"))
    assert index.keywords.search("粮食储备轮换任务3万吨", 1)[0][0] in index.store.chunk_ids(
        index.resolve_source(changed.name)
    )

    reopened = Index(index.settings)  # what another process loads from disk
    assert reopened.ensure_keywords().segments == index.keywords.segments
    assert reopened.keywords.generation == index.store.generation
    _same_results(reopened.keywords, index.keywords)
    kept = [p for p in (tmp_path / "index" / "keyword" / "segments").iterdir()]
    assert len(kept) <= 4  # the segments of the two versions kept, not one per ingest


def test_outgrowing_the_limit_rebuilds_one_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for p in REPORTS[:6]:
        shutil.copy(p, docs / p.name)
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    index.ingest([docs])
    monkeypatch.setattr(keyword, "compact_limit", lambda main_rows: 3)
    index.ingest([REPORTS[6]])  # more than 3 new rows
    assert index.keywords.segments == (index.store.counts()["chunks"], 0, 0)
    _same_results(index.keywords, _fresh(index, tmp_path / "f"))


def test_an_ingest_after_a_cut_short_write_compares_every_vector(tmp_path: Path) -> None:
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    index.ingest(REPORTS[:3])
    lost = index.store.chunk_ids()[:2]
    ghosts = [
        replace(c, chunk_id=f"ghost-{i}") for i, c in enumerate(index.store.chunks_by_ids(lost).values())
    ]
    index.vectors.delete(lost)  # as a crash between Chroma and the store would leave them:
    index.vectors.upsert(ghosts, index.embed_chunks(ghosts))  # the counts still agree
    index.store.set_meta(DIRTY, "1")
    index.ingest([REPORTS[3]])
    assert index.vectors.ids() == set(index.store.chunk_ids())
    assert index.store.get_meta(DIRTY) == "0"

    index.vectors.delete(index.store.chunk_ids()[:1])  # no mark, but the counts differ
    index.ingest([REPORTS[4]])
    assert index.vectors.ids() == set(index.store.chunk_ids())


def test_an_index_in_the_older_bm25s_layout_is_rebuilt_by_the_next_writer(tmp_path: Path) -> None:
    index = Index(Settings(index_dir=tmp_path / "index", embedder="hash"))
    index.ingest(REPORTS[:2])
    kw = tmp_path / "index" / "keyword"
    shutil.rmtree(kw)
    (kw / "g1-old" / "bm25").mkdir(parents=True)  # what the bm25s version wrote
    (kw / "g1-old" / "rows.json").write_text("{}", encoding="utf-8")
    (kw / "CURRENT").write_text("g1-old", encoding="utf-8")
    again = Index(index.settings)
    assert again.ensure_keywords().ids  # a reader rebuilds in memory
    again.ingest([REPORTS[2]])
    assert (kw / (kw / "CURRENT").read_text()).joinpath("manifest.json").exists()
    assert set(Index(index.settings).ensure_keywords().ids) == set(index.store.chunk_ids())
