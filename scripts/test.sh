#!/usr/bin/env bash
# README command (2): set up, then lint and run the whole test suite, real models included.
# Extra arguments go to pytest (e.g. `-m "not model"` for a quick loop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check rag ui eval tests
set +e
.venv/bin/python -m pytest -q -rs -p no:cacheprovider "$@"  # -rs: every skip prints its reason
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "test.sh: pytest collected no tests — treating as failure" >&2
  exit 1
fi
exit "$code"
