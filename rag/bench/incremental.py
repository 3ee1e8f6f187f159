"""``incremental_add_s``: the wall time of ingesting one new ~10-chunk document into a built index
until it is searchable, everything included (reconcile, parse, chunk, embed, Chroma, store, keyword
index saved). The document is removed again afterwards, so a cached build keeps its content."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.bench.corpus import CorpusDoc
from rag.index.index import Index


def pick_document(stream: Iterator[CorpusDoc], target_chunks: int = 10, tries: int = 200) -> CorpusDoc:
    """The first document of the stream with about ``target_chunks`` chunks."""
    best: CorpusDoc | None = None
    for _ in range(tries):
        doc = next(stream)
        if best is None or abs(len(doc.chunks) - target_chunks) < abs(len(best.chunks) - target_chunks):
            best = doc
        if abs(len(best.chunks) - target_chunks) <= 2:
            break
    assert best is not None
    return best


def incremental_add(index: Index, doc: CorpusDoc) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rag-bench-add-") as tmp:
        path = Path(tmp) / "新增述职报告.txt"
        path.write_text("\n\n".join(r.text for r in doc.document.reports), encoding="utf-8")
        t0 = time.perf_counter()
        c0 = time.process_time()
        result = index.ingest([path])
        added = [f for f in result.files if f.status in ("added", "replaced")]
        if not added:
            raise RuntimeError(f"incremental add failed: {result.to_json()}")
        source = added[0].source
        new_ids = index.store.chunk_ids(source)
        first = next(iter(index.store.chunks_by_ids(new_ids[:1]).values()))
        hits = index.keyword_search(f"{first.header()}\n{first.text}", 50)  # the corpus has near-twins
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        searchable = first.chunk_id in {cid for cid, _ in hits} and set(new_ids) <= set(index.keywords.ids)
        index.remove(source)
    return {
        "incremental_add_s": round(wall, 3),
        "incremental_add_cpu_s": round(cpu, 3),
        "incremental_add_chunks": added[0].chunks,
        "incremental_add_searchable": searchable,
    }
