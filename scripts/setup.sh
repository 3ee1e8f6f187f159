#!/usr/bin/env bash
# One set-up path for the README, .ci/run and every developer.
# Creates .venv, installs the CPU build of torch first (anything that depends on
# torch would otherwise pull a multi-GB CUDA build), then the project with extras.
# Idempotent: a stamp of the inputs makes a second run with nothing changed instant.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
STAMP="$VENV/.setup-stamp"
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

# The browser test drives Debian's Chromium (no browser download); CJK fonts make its
# screenshots readable. Installed from Debian's packages when missing and we are root.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium and CJK fonts (Debian packages) ..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "setup: chromium/fonts-noto-cjk missing and not root: the browser test will be skipped" >&2
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/rag" ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
echo "setup: installing torch (CPU) ..." >&2
"${PIP[@]}" install -q "torch==2.13.0"
# llama-cpp-python compiles from source once (~8 min on 2 cores); pip caches the wheel.
echo "setup: installing the project and its extras (first run compiles llama-cpp-python) ..." >&2
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} "${PIP[@]}" install -q -e ".[all]"
echo "$want" > "$STAMP"
echo "setup: done" >&2
