"""One call at a time on a local model, with errors instead of deadlocks."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from rag.llm.base import LLMError


class CallLock:
    """Held for one call. A plain Lock (not RLock): a stream may be closed from another thread;
    a second call from the thread that holds it (an unfinished stream) fails at once."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._owner: int | None = None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._owner == me:
            raise LLMError(
                "本地模型正被同一线程里未读完的 stream() 占用：先读完或 close() 那个迭代器，再发起新调用。"
            )
        if not self._lock.acquire(timeout=self.timeout):
            raise LLMError(f"本地模型等待 {self.timeout}s 仍被其他调用占用（RAG_LLM_TIMEOUT）：稍后重试。")
        self._owner = me
        try:
            yield
        finally:
            self._owner = None
            self._lock.release()
