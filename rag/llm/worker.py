"""A supervised worker process that owns one LLM engine (the embedded llama.cpp model).

Why a process: llama.cpp is native code, and a segfault, abort or OOM kill inside it would
take down the whole server with every user's session. In a child process it costs the one
request in flight; the supervisor restarts the worker and the next request works.

Protocol over a ``multiprocessing`` Pipe (tuples, pickled):
  parent → child   ("load",) | ("complete", messages, params) | ("stream", messages, params)
                   | ("yes", messages) | ("tokens", messages) | ("reset",) | ("warm",) | ("cancel",)
  child → parent   ("ok", value) | ("error", message) | ("piece", text) | ("usage", Usage) | ("end",)
A stream may be cancelled between pieces; the child then closes its generator and sends "end".
The worker keeps its model between calls, so llama.cpp's KV prefix reuse still works, and
while idle it evaluates the ask prompt's fixed prefix back into the KV cache (``warm_prefix``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from rag.llm.base import LLMError, Usage

CRASH_MESSAGE = "本机模型进程意外退出（{why}），已自动重启，请重试。"
TIMEOUT_MESSAGE = "本机模型 {seconds:.0f} 秒内没有响应（RAG_LLM_TIMEOUT），已重启模型进程，请重试。"


def _engine(spec: str, settings_data: dict) -> Any:
    """Build the engine named ``module:Class`` from the parent's settings."""
    from rag.settings import Settings

    module, _, name = spec.partition(":")
    cls = getattr(importlib.import_module(module), name)
    return cls(Settings(**settings_data))


def _serve_stream(conn: Connection, engine: Any, messages: list, params: dict) -> None:
    items = engine.raw_stream(messages, params)
    try:
        for item in items:
            if conn.poll() and conn.recv()[0] == "cancel":
                break
            conn.send(("usage", item) if isinstance(item, Usage) else ("piece", item))
    finally:
        items.close()
    conn.send(("end",))


def worker_main(conn: Connection, spec: str, settings_data: dict, env: dict[str, str]) -> None:
    """The child's loop: one request at a time until the pipe closes."""
    os.environ.update(env)  # before llama_cpp is imported: OpenMP reads it once
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        engine, broken = _engine(spec, settings_data), None
    except Exception as exc:  # reported on "load", so the parent can say why it failed to start
        engine, broken = None, str(exc) if isinstance(exc, LLMError) else f"{type(exc).__name__}: {exc}"
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        kind, args = request[0], request[1:]
        try:
            if broken is not None:
                conn.send(("error", broken))
            elif kind == "load":
                conn.send(("ok", engine.describe()))
            elif kind == "complete":
                conn.send(("ok", engine.raw_complete(*args)))
            elif kind == "stream":
                _serve_stream(conn, engine, *args)
            elif kind == "yes":
                conn.send(("ok", engine.yes_probability(*args)))
            elif kind == "tokens":
                conn.send(("ok", engine.prompt_tokens(*args)))
            elif kind == "reset":
                conn.send(("ok", engine.reset_cache()))
            elif kind == "warm":
                warm = getattr(engine, "warm_prefix", None)
                conn.send(("ok", warm(lambda: False) if warm else 0))
            elif kind == "cancel":
                continue  # a cancel that arrived after its stream had ended
            else:
                conn.send(("error", f"unknown request {kind!r}"))
                continue
        except LLMError as exc:
            conn.send(("error", str(exc)))
            continue
        except Exception as exc:  # report, keep serving: the model itself is still fine
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            continue
        _idle(conn, engine, kind)


def _idle(conn: Connection, engine: Any, kind: str) -> None:
    """Between requests: put the fixed prompt prefix back into the KV cache (engines that can)."""
    warm = getattr(engine, "warm_prefix", None)
    if warm is None or kind == "reset" or conn.poll():
        return
    try:
        warm(conn.poll)
    except Exception:  # a warm-up is an optimisation: the next request evaluates it anyway
        return


def _why(exitcode: int | None) -> str:
    if exitcode is None:
        return "无响应"
    if exitcode < 0:
        try:
            return f"信号 {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"信号 {-exitcode}"
    return f"退出码 {exitcode}"


@dataclass
class WorkerState:
    state: str = "not_started"  # not_started | starting | ready | busy | restarting | failed
    pid: int | None = None
    starts: int = 0
    crashes: int = 0
    failed_starts: int = 0
    last_error: str | None = None
    info: dict = field(default_factory=dict)  # what the worker reported at load (repack, system info)


class WorkerClient:
    """Parent side: starts the worker on first use, restarts it after a crash or a timeout.

    Callers serialize (one request at a time); ``LocalLlamaLLM`` holds the lock.
    """

    def __init__(
        self,
        spec: str,
        settings_data: dict,
        *,
        env: dict[str, str] | None = None,
        timeout: float = 120.0,
        start_timeout: float = 600.0,
        start_attempts: int = 3,
    ) -> None:
        self.spec = spec
        self.settings_data = settings_data
        self.env = env or {}
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.start_attempts = start_attempts
        self.status = WorkerState()
        self._process: Any = None
        self._conn: Connection | None = None
        self._start_lock = threading.Lock()

    # -- life cycle -------------------------------------------------------------
    def _spawn(self) -> None:
        import multiprocessing

        # spawn, not fork: the server has threads (uvicorn, Gradio), and a forked child would
        # inherit their locks mid-state.
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=worker_main,
            args=(child, self.spec, self.settings_data, self.env),
            name="rag-llm-worker",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self.status.pid = process.pid
        self.status.starts += 1

    def ensure_started(self) -> None:
        with self._start_lock:
            if self._alive() and self.status.state in ("ready", "busy"):
                return
            if self._process is not None and self.status.state in ("ready", "busy"):
                # It died while idle (OOM killer, a signal): no request failed, but say so.
                self._process.join(timeout=5)
                self.status.crashes += 1
                self.status.last_error = CRASH_MESSAGE.format(why=_why(self._process.exitcode))
            if self.status.failed_starts >= self.start_attempts:
                raise LLMError(
                    f"本机模型进程连续 {self.status.failed_starts} 次启动失败：{self.status.last_error}"
                    "（运行 rag doctor 查看原因；修复后重启服务）"
                )
            self._stop()
            self.status.state = "starting"
            try:
                self._spawn()
                self.status.info = self._expect_ok(("load",), self.start_timeout)
            except LLMError as exc:
                self.status.failed_starts += 1
                self.status.last_error = str(exc)
                self.status.state = (
                    "failed" if self.status.failed_starts >= self.start_attempts else "not_started"
                )
                self._stop()
                raise
            self.status.failed_starts = 0
            self.status.state = "ready"

    def _alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(timeout=10)
        self._process, self._conn = None, None

    def close(self) -> None:
        with self._start_lock:
            self._stop()
            self.status.state = "not_started"
            self.status.pid = None

    def _crashed(self, message: str) -> LLMError:
        """The worker died or hung: kill what is left, restart in the background, say so."""
        self.status.crashes += 1
        self.status.last_error = message
        self.status.state = "restarting"
        self._stop()
        threading.Thread(target=self._restart_quietly, name="rag-llm-restart", daemon=True).start()
        return LLMError(message)

    def _restart_quietly(self) -> None:
        with contextlib.suppress(LLMError):  # the next request reports it
            self.ensure_started()

    # -- messages ---------------------------------------------------------------
    def _receive(self, timeout: float) -> tuple:
        conn = self._conn
        if conn is None:
            raise self._crashed(CRASH_MESSAGE.format(why="未启动"))
        try:
            if not conn.poll(timeout):
                raise self._crashed(TIMEOUT_MESSAGE.format(seconds=timeout))
            return conn.recv()
        except (EOFError, OSError, ConnectionError):
            process = self._process
            if process is not None:
                process.join(timeout=5)
            code = process.exitcode if process is not None else None
            raise self._crashed(CRASH_MESSAGE.format(why=_why(code))) from None

    def _send(self, request: tuple) -> None:
        try:
            assert self._conn is not None
            self._conn.send(request)
        except (OSError, ConnectionError, AssertionError):
            code = self._process.exitcode if self._process is not None else None
            raise self._crashed(CRASH_MESSAGE.format(why=_why(code))) from None

    def _expect_ok(self, request: tuple, timeout: float) -> Any:
        self._send(request)
        reply = self._receive(timeout)
        if reply[0] == "error":
            raise LLMError(reply[1])
        return reply[1]

    def call(self, *request: Any) -> Any:
        """One request that answers once ("complete", "yes", "tokens")."""
        self.ensure_started()
        self.status.state = "busy"
        try:
            return self._expect_ok(request, self.timeout)
        finally:
            if self.status.state == "busy":
                self.status.state = "ready"

    def stream(self, messages: list, params: dict) -> Iterator[str | Usage]:
        """Pieces as the worker produces them; closing the iterator cancels the generation."""
        self.ensure_started()
        self.status.state = "busy"
        finished = False
        try:
            self._send(("stream", messages, params))
            while True:
                reply = self._receive(self.timeout)
                if reply[0] == "end":
                    finished = True
                    return
                if reply[0] == "error":
                    finished = True
                    raise LLMError(reply[1])
                yield reply[1]
        finally:
            if not finished and self._conn is not None and self.status.state == "busy":
                self._cancel()
            if self.status.state == "busy":
                self.status.state = "ready"

    def _cancel(self) -> None:
        """Stop a stream the caller closed early; drain until the worker says it ended."""
        try:
            self._send(("cancel",))
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                if self._receive(max(0.1, deadline - time.monotonic()))[0] in ("end", "error"):
                    return
        except LLMError:
            return  # it crashed while cancelling: already restarted
        raise self._crashed(TIMEOUT_MESSAGE.format(seconds=self.timeout))

    def health(self) -> dict:
        s = self.status
        alive = self._alive()
        return {
            "llm_worker_pid": s.pid if alive else None,
            "state": s.state if alive or s.state in ("failed", "restarting", "starting") else "not_started",
            "starts": s.starts,
            "crashes": s.crashes,
            "failed_starts": s.failed_starts,
            "last_error": s.last_error,
            **{k: v for k, v in s.info.items() if k in ("repack", "repack_reason", "model")},
        }
