"""Shared fixtures. Every test gets a clean RAG_* environment, its own index dir and
its own working directory (a relative path can never touch the repo's index/)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
# pg_server / pg_url / backend_settings: a throwaway PostgreSQL and both backends' Settings.
pytest_plugins = ("tests.pg_support",)


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's own RAG_* settings must not leak into tests; the model cache is
    # kept (joining a 1 GB model per test would be pointless work).
    for key in list(os.environ):
        if key.startswith("RAG_") and key not in ("RAG_MODEL_CACHE_DIR", "RAG_TEST_MODEL_CACHE"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def hash_settings(tmp_path: Path) -> Settings:
    """Settings with the deterministic hashed embedder: fast plumbing tests."""
    return Settings(index_dir=tmp_path / "index", embedder="hash")


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private, writable copy of the seeds that a test may modify."""
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    for p in dest.iterdir():
        p.chmod(0o644)
    return dest


@pytest.fixture(scope="session")
def e5_seed_index(tmp_path_factory: pytest.TempPathFactory):
    """The seeds indexed once per session with the real default embedder (~40 s on 2 cores)."""
    from rag.index.index import Index

    index = Index(Settings(index_dir=tmp_path_factory.mktemp("e5") / "index", embedder="e5"))
    result = index.ingest([SEEDS])
    assert result.count("added") == 5
    return index
