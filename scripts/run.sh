#!/usr/bin/env bash
# README command (1): set up, index seeds/ with the embedded default embedder, then serve
# the UI and API on http://127.0.0.1:7860 with the embedded LLM (or RAG_LLM_BASE_URL).
# Extra arguments go to `rag serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rag ingest seeds
exec .venv/bin/rag serve "$@"
