"""Summarize benchmarks: wall time for a 汇编 with the embedded model, and N concurrent map
calls against a local OpenAI-compatible server (``python -m llama_cpp.server``)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from rag.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FILE = REPO / "seeds" / "003_a42557382749c262.txt"
TARGET_S = 120.0


def _summarize_fn():
    try:
        from rag.brief.summarize import summarize
    except ImportError:
        return None
    return summarize


def _brief_figures(brief: Any, wall: float) -> dict[str, Any]:
    return {
        "wall_s": round(wall, 2),
        "reports": len(brief.reports),
        "figures_checked": brief.figures_checked,
        "figures_unsupported": brief.figures_unsupported,
        "items_repaired": brief.items_repaired,
        "items_dropped": brief.items_dropped,
        "timing": brief.timing,
    }


def bench_summarize(settings: Settings, path: Path = DEFAULT_FILE, *, llm: Any = None) -> dict[str, Any]:
    """Wall time of ``summarize`` on one 汇编 (model loading timed apart); target ≤ 120 s."""
    summarize = _summarize_fn()
    if summarize is None:
        return {"available": False, "note": "rag/brief/summarize.py is not available: not measured"}
    from rag.llm.factory import create_llm

    llm = llm or create_llm(settings)
    t0 = time.perf_counter()
    if hasattr(llm, "load"):  # the embedded model loads lazily: load it outside the timed call
        llm.load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    brief = summarize(path, llm, settings)
    wall = time.perf_counter() - t0
    return {
        "available": True,
        "file": str(path),
        "model": llm.model_id,
        "n_threads": settings.n_threads,
        "load_s": round(load_s, 2),
        **_brief_figures(brief, wall),
        "target_s": TARGET_S,
        "met": wall <= TARGET_S,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_summarize_concurrency(
    settings: Settings,
    path: Path = DEFAULT_FILE,
    *,
    concurrency: tuple[int, ...] = (1, 4),
    local_model: str = "0.5b",
    start_timeout_s: float = 180.0,
) -> dict[str, Any]:
    """``summarize`` against ``python -m llama_cpp.server`` serving the small model, with
    1 and N parallel map calls (the server's own behaviour decides what N buys)."""
    summarize = _summarize_fn()
    if summarize is None:
        return {"available": False, "note": "rag/brief/summarize.py is not available: not measured"}
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError as exc:
        return {"available": False, "note": f"llama_cpp.server cannot start here ({exc})"}
    from rag.llm.factory import create_llm
    from rag.llm.model_files import ensure_local_model

    gguf = ensure_local_model(settings.model_copy(update={"local_model": local_model}))
    port = _free_port()
    base = f"http://127.0.0.1:{port}/v1"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        f"bench-{local_model}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(settings.n_ctx),
        "--n_threads",
        str(settings.n_threads),
        "--api_key",
        "bench",
    ]
    log = tempfile.NamedTemporaryFile(prefix="rag-bench-server-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        t0 = time.perf_counter()
        _wait_ready(base, proc, start_timeout_s, Path(log.name))
        start_s = time.perf_counter() - t0
        run_settings = settings.model_copy(
            # queued requests wait for the ones ahead of them: allow for that, do not retry
            update={
                "llm_base_url": base,
                "llm_api_key": "bench",
                "llm_model": None,
                "llm_retries": 0,
                "llm_timeout": max(settings.llm_timeout, 900.0),
            }
        )
        llm = create_llm(run_settings)
        llm.complete([{"role": "user", "content": "你好"}], max_tokens=1)  # warm-up
        runs: dict[str, Any] = {}
        for n in concurrency:
            t0 = time.perf_counter()
            brief = summarize(path, llm, run_settings, concurrency=n)
            runs[str(n)] = _brief_figures(brief, time.perf_counter() - t0)
        first, last = runs[str(concurrency[0])]["wall_s"], runs[str(concurrency[-1])]["wall_s"]
        return {
            "available": True,
            "server": "llama_cpp.server (llama-cpp-python), 127.0.0.1",
            "model": llm.model_id,
            "gguf": gguf.name,
            "server_start_s": round(start_s, 2),
            "runs": runs,
            "speedup": round(first / last, 3) if last else None,
            "note": "llama_cpp.server runs one request at a time on one model, so parallel map calls "
            "only queue there (and 2 cores leave nothing to parallelise); the concurrency pays off on "
            "a batching server such as vLLM (RAG_LLM_BASE_URL)",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def _wait_ready(base: str, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    req = urllib.request.Request(f"{base}/models", headers={"Authorization": "Bearer bench"})
    while True:
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-1500:]
            raise RuntimeError(f"llama_cpp.server did not come up on {base} (exit {proc.poll()}): {tail}")
        time.sleep(0.5)
