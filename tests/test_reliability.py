"""Crash safety and concurrency of the index: SIGKILL during ingest, searches during an
ingest, a second writer. Uses the hashed embedder so the runs are fast."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.index.index import Index
from rag.retrieval import hybrid_search
from rag.settings import Settings
from tests.conftest import SEEDS

pytestmark = pytest.mark.server  # spawns processes; seconds, not minutes


def _corpus(folder: Path, copies: int) -> Path:
    """Distinct documents (a numbered line changes every chunk id) from the seeds."""
    folder.mkdir()
    for i in range(copies):
        for seed in sorted(SEEDS.glob("*.txt")):
            text = seed.read_text(encoding="utf-8").replace("述职报告\n", f"述职报告\n（第{i}份副本）\n", 1)
            (folder / f"{i:02d}_{seed.name}").write_text(text, encoding="utf-8")
    return folder


def _ingest_cmd(folder: Path) -> list[str]:
    return [sys.executable, "-m", "rag.cli", "ingest", str(folder), "--json"]


def _consistent(settings: Settings) -> dict[str, int]:
    index = Index(settings)
    store_ids = index.store.chunk_ids()
    assert len(store_ids) == len(set(store_ids)), "duplicate chunks in the store"
    assert index.vectors.ids() == set(store_ids), "Chroma and the store disagree"
    assert set(index.ensure_keywords().ids) == set(store_ids), "keyword index disagrees"
    counts = index.store.counts()
    index.close()
    return counts


def test_sigkill_during_ingest_never_leaves_the_index_inconsistent(tmp_path: Path) -> None:
    folder = _corpus(tmp_path / "corpus", copies=4)
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_EMBEDDER": "hash"}
    settings = Settings(index_dir=tmp_path / "index", embedder="hash")
    rng = random.Random(7)
    kills = 0
    for _ in range(6):
        proc = subprocess.Popen(
            _ingest_cmd(folder), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, 4.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "every ingest finished before the kill: make the corpus larger"
    # The next ingest completes the work and repairs whatever the kills left.
    done = subprocess.run(_ingest_cmd(folder), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    counts = _consistent(settings)

    clean_settings = Settings(index_dir=tmp_path / "clean", embedder="hash")
    clean = Index(clean_settings)
    clean.ingest([folder])
    assert counts == clean.store.counts()
    assert sorted(clean.store.chunk_ids()) == sorted(Index(settings).store.chunk_ids())


def test_searches_keep_working_during_an_ingest(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", embedder="hash")
    Index(settings).ingest([SEEDS])
    folder = _corpus(tmp_path / "more", copies=3)
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_EMBEDDER": "hash"}
    writer = subprocess.Popen(_ingest_cmd(folder), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[str] = []
    counts = [0]

    def reader() -> None:
        index = Index(settings)
        while writer.poll() is None:
            try:
                assert hybrid_search(index, "茶叶加工厂", k=3)
                counts[0] += 1
            except Exception as exc:  # counted, not raised: the figure is the error count
                errors.append(repr(exc))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    writer.wait(timeout=600)
    for t in threads:
        t.join(timeout=60)
    assert writer.returncode == 0, writer.stderr.read().decode() if writer.stderr else ""
    assert errors == [], errors[:3]
    assert counts[0] > 0
    _consistent(settings)


def test_second_concurrent_ingest_is_refused_clearly(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", embedder="hash")
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_EMBEDDER": "hash"}
    holder = Index(settings)
    with holder._write_lock():  # as an ingest in another process would hold it
        second = subprocess.run(_ingest_cmd(SEEDS), env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 1
    assert "正在使用索引" in second.stderr and "Traceback" not in second.stderr
    assert holder.store.counts()["chunks"] == 0


def test_soak_of_the_http_api_sees_no_errors(tmp_path: Path) -> None:
    from rag.bench.soak import SoakError, local_server, soak

    settings = Settings(index_dir=tmp_path / "index", embedder="hash")
    Index(settings).ingest([SEEDS])
    with local_server(settings) as url:
        figures = soak(url, clients=4, seconds=4)
    assert figures["requests"] > 10 and figures["errors"] == 0, figures
    assert figures["p95_ms"] >= figures["p50_ms"] > 0
    with pytest.raises(SoakError, match="本机"):
        soak("http://10.0.0.5:7860", clients=1, seconds=1)
