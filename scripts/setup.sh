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
LLAMA_VERSION=0.3.36

# llama-cpp-python is compiled with GGML_NATIVE (-march=native): the fastest code for this
# CPU, and a binary that may die with SIGILL on another one. pip's wheel cache ignores
# CMAKE_ARGS, so we keep our own wheel folder keyed on the CPU's flags and never reuse a
# wheel built on a different CPU (the flags are in the stamp too).
cpu_key=$( (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m) | tr ' ' '\n' | sort | sha256sum | cut -c1-12)
WHEELS=${RAG_WHEEL_DIR:-$HOME/.cache/rag-reports/wheels}/llama-cpp-python-$LLAMA_VERSION-cpu$cpu_key
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)-$cpu_key

# Debian packages: Chromium + CJK fonts (browser test, readable screenshots); Tesseract with
# Simplified and Traditional Chinese (OCR of scans and photos); LibreOffice Writer headless
# (old .doc/.wps files are converted to .docx); PostgreSQL (the shared-store backend's tests).
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need_apt+=(fonts-noto-cjk)
command -v tesseract >/dev/null 2>&1 || need_apt+=(tesseract-ocr)
tess_langs=$(tesseract --list-langs 2>/dev/null || true)
grep -qx chi_sim <<<"$tess_langs" || need_apt+=(tesseract-ocr-chi-sim)
grep -qx chi_tra <<<"$tess_langs" || need_apt+=(tesseract-ocr-chi-tra)
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-writer-nogui)
# PostgreSQL server: the PostgreSQL backend's tests start a throwaway one (tests/pg_support.py).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} (Debian packages) ..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: ${need_apt[*]} missing and not root: the tests that need them will be skipped" >&2
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/rag" ]; then
  exit 0
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
echo "setup: installing torch (CPU) ..." >&2
"${PIP[@]}" install -q "torch==2.13.0"
if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  # Compiles once per CPU (~8 min on 2 cores); --no-cache-dir: never take pip's CPU-blind cache.
  echo "setup: compiling llama-cpp-python $LLAMA_VERSION for this CPU (key $cpu_key) ..." >&2
  mkdir -p "$WHEELS"
  CMAKE_ARGS="-DGGML_NATIVE=ON" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    "${PIP[@]}" wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python \
    -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
fi
"${PIP[@]}" install -q "$WHEELS"/llama_cpp_python-*.whl
echo "setup: installing the project and its extras ..." >&2
"${PIP[@]}" install -q -e ".[all]"
echo "$want" > "$STAMP"
echo "setup: done" >&2
