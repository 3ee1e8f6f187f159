#!/usr/bin/env bash
# README command (1): set up, index seeds/ with the embedded default embedder, then
# search interactively (or one-shot: scripts/run.sh "化眉村的茶叶加工厂有多大").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/rag ingest seeds
exec .venv/bin/rag search "$@"
