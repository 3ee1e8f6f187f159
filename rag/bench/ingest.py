"""Benchmarks: figures printed beside a baseline measured in the same run.

Never used by tests as timing assertions (shared, noisy machines)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from rag.documents.files import iter_files
from rag.documents.load import load_document
from rag.index.embeddings import create_embedder
from rag.index.index import Index
from rag.settings import Settings


def bench_ingest(settings: Settings, path: Path, *, repeat: int = 3) -> dict[str, object]:
    """End-to-end ingest chunks/s vs the raw embedder on the same texts.

    Runs alternate (raw, pipeline, raw, pipeline …) so drift on a shared machine
    hits both sides; medians are reported.
    """
    embedder = create_embedder(settings)
    embedder.embed_passages(["预热"])  # load weights outside the timed region
    files = list(iter_files([path]))
    with tempfile.TemporaryDirectory() as tmp:
        probe = Index(settings.model_copy(update={"index_dir": Path(tmp) / "probe"}), embedder=embedder)
        texts = [c.embedding_text() for f in files for c in probe.chunk_document(load_document(f))]
        probe.close()

        raw_times, pipe_times, unchanged_times = [], [], []
        for i in range(repeat):
            t0 = time.perf_counter()
            embedder.embed_passages(texts)
            raw_times.append(time.perf_counter() - t0)

            run_settings = settings.model_copy(
                update={"index_dir": Path(tmp) / f"run{i}", "chroma_url": None, "collection": f"bench{i}"}
            )
            index = Index(run_settings, embedder=embedder)
            t0 = time.perf_counter()
            result = index.ingest([path])
            pipe_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = index.ingest([path])
            unchanged_times.append(time.perf_counter() - t0)
            assert again.count("unchanged") == len(files), "re-ingest of unchanged files changed the index"
            index.close()

    n = len(texts)
    raw = statistics.median(raw_times)
    pipe = statistics.median(pipe_times)
    return {
        "embedder": embedder.id,
        "files": len(files),
        "chunks": n,
        "chunks_ingested_per_run": result.to_json()["chunks"],
        "raw_embed_seconds": round(raw, 3),
        "raw_embed_chunks_per_s": round(n / raw, 1),
        "ingest_seconds": round(pipe, 3),
        "ingest_chunks_per_s": round(n / pipe, 1),
        "overhead_vs_raw": f"{(pipe / raw - 1) * 100:.1f}%",
        "overhead_target": "≤ 20%",
        "unchanged_reingest_seconds": round(statistics.median(unchanged_times), 3),
        "repeat": repeat,
    }
