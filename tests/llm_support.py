"""Helpers for the real-model LLM tests: settings, optional-dependency checks, and one
loaded model per size per test session (2 cores: load each model once).

Deliberately not in conftest.py: the cache below is shared by every test module that
imports it, so test_llm_local.py and test_llm_openai.py reuse the same joined GGUF and
the same loaded llama.cpp model.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import pytest

from rag.settings import Settings


def require(module: str) -> None:
    """Skip when an optional dependency is missing locally; fail in CI (a skip would hide it)."""
    if importlib.util.find_spec(module) is None:
        msg = f"{module} is not installed: run bash scripts/setup.sh"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def model_cache_dir() -> Path:
    """The user-level model cache (joined once, then trusted via its sidecar): joining the
    1.5B anew each session would cost ~10 s and 1 GiB of writes. RAG_TEST_MODEL_CACHE overrides."""
    override = os.environ.get("RAG_TEST_MODEL_CACHE")
    if override:
        return Path(override)
    return Settings.model_fields["model_cache_dir"].default_factory()


def model_settings(size: str, **overrides) -> Settings:
    base = {
        "local_model": size,
        "model_cache_dir": model_cache_dir(),
        "n_ctx": 2048,
        "n_threads": os.cpu_count() or 2,
        "llm_base_url": None,
    }
    return Settings(**{**base, **overrides})


@functools.cache
def gguf_path(size: str) -> Path:
    from rag.llm.model_files import ensure_local_model

    return ensure_local_model(model_settings(size))


@functools.cache
def local_llm(size: str):
    """A loaded LocalLlamaLLM, shared by all tests of the session."""
    require("llama_cpp")
    from rag.llm.local import LocalLlamaLLM

    llm = LocalLlamaLLM(model_settings(size), model_path=gguf_path(size))
    llm.load()
    return llm
