"""LocalLlamaLLM: the embedded llama.cpp model, run in a supervised worker process.

The model itself is ``InProcessLlamaLLM`` (rag/llm/llama_inprocess.py); this class speaks to
it through ``WorkerClient`` (rag/llm/worker.py). The worker starts on first use, so a node
that never generates never holds the model. A crash or a hang costs the request in flight a
clear error; the worker restarts and the next request works. One call at a time: the worker
has one model, and the machine has 2 cores anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from rag.llm.base import LLM, Completion, Usage
from rag.llm.call_lock import CallLock
from rag.llm.model_files import MODELS
from rag.settings import Settings

ENGINE = "rag.llm.llama_inprocess:InProcessLlamaLLM"


def worker_env(settings: Settings) -> dict[str, str]:
    """Environment of the worker: the OpenMP wait policy chosen from measurement."""
    env = {}
    if settings.llm_omp_wait_policy:
        env["OMP_WAIT_POLICY"] = settings.llm_omp_wait_policy
    return env


class LocalLlamaLLM(LLM):
    def __init__(
        self, settings: Settings, *, model_path: str | Path | None = None, engine: str = ENGINE
    ) -> None:
        from rag.llm.worker import WorkerClient

        self.settings = settings
        spec = MODELS.get(str(settings.local_model).lower())
        path = Path(model_path) if model_path else None
        stem = (
            path.stem
            if path
            else (spec.filename.removesuffix(".gguf") if spec else Path(settings.local_model).stem)
        )
        self.model_id = f"local:{stem}"
        self.default_max_tokens = settings.max_tokens
        self.default_temperature = settings.temperature
        self.last_completion = None
        data = settings.model_dump(mode="json")
        if path is not None:
            data["local_model"] = str(path)
        self.worker = WorkerClient(
            engine,
            data,
            env=worker_env(settings),
            timeout=settings.llm_timeout,
            start_timeout=settings.llm_worker_start_timeout,
            start_attempts=settings.llm_worker_start_attempts,
        )
        self._calls = CallLock(settings.llm_timeout)

    def _busy(self) -> contextlib.AbstractContextManager[None]:
        """Hold the model for one call; fail clearly instead of deadlocking."""
        return self._calls.hold()

    def load(self) -> dict:
        """Start the worker and load the model now (otherwise the first call does)."""
        with self._busy():
            self.worker.ensure_started()
        return dict(self.worker.status.info)

    def health(self) -> dict:
        return self.worker.health()

    def close(self) -> None:
        self.worker.close()

    def _complete(self, messages, *, max_tokens, temperature, stop) -> Completion:
        params = {"max_tokens": max_tokens, "temperature": temperature, "stop": stop}
        with self._busy():
            return self.worker.call("complete", messages, params)

    def _stream(self, messages, *, max_tokens, temperature, stop) -> Iterator[str | Usage]:
        params = {"max_tokens": max_tokens, "temperature": temperature, "stop": stop}
        with self._busy():
            yield from self.worker.stream(messages, params)

    def _yes_probability(self, messages: list[dict]) -> float:
        with self._busy():
            return self.worker.call("yes", messages)

    def reset_cache(self) -> None:
        """Forget the worker's KV cache: the next call evaluates its whole prompt."""
        with self._busy():
            self.worker.call("reset")

    def warm_prefix(self) -> int:
        """Evaluate the fixed ask prefix now (the worker also does it by itself when idle)."""
        with self._busy():
            return self.worker.call("warm")

    def prompt_tokens(self, messages: list[dict]) -> list[int]:
        """The prompt tokens llama.cpp evaluates for ``messages`` (GGUF chat template applied)."""
        with self._busy():
            return self.worker.call("tokens", messages)
