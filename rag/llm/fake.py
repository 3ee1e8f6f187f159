"""ScriptedLLM: a deterministic fake LLM shipped in the library for tests and demos.

Reply selection for each call, first match wins:
1. ``on(substring, reply)`` rules, in the order added, matched against the last user message;
2. the ``enqueue(text)`` queue (FIFO, each entry used once);
3. the default reply.

``stop`` truncates the reply at the first stop string, ``max_tokens`` at that
many characters (one character = one "token"). Every ``messages`` list received
is recorded in ``.calls`` (``yes_probability`` calls too).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator

from rag.llm.base import LLM, Completion, Usage, last_user_text, yes_no_from_text


class ScriptedLLM(LLM):
    def __init__(
        self,
        default: str = "未在资料中找到相关内容。",
        *,
        model_id: str = "scripted",
        chunk_chars: int = 2,
        yes_default: float = 0.5,
    ) -> None:
        self.model_id = model_id
        self.default = default
        self.chunk_chars = max(1, chunk_chars)
        self.yes_default = yes_default
        self.calls: list[list[dict]] = []
        self._queue: deque[str] = deque()
        self._rules: list[tuple[str, str]] = []
        self._yes_rules: list[tuple[str, float]] = []
        self.last_completion = None

    # -- scripting ---------------------------------------------------------
    def enqueue(self, *texts: str) -> ScriptedLLM:
        self._queue.extend(texts)
        return self

    def on(self, substring: str, reply: str) -> ScriptedLLM:
        self._rules.append((substring, reply))
        return self

    def on_yes(self, substring: str, probability: float) -> ScriptedLLM:
        """``yes_probability`` returns ``probability`` when the last user message contains ``substring``."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        self._yes_rules.append((substring, probability))
        return self

    # -- LLM ---------------------------------------------------------------
    def _yes_probability(self, messages: list[dict]) -> float:
        self.calls.append(messages)
        user = last_user_text(messages)
        for sub, p in self._yes_rules:
            if sub in user:
                return p
        # Like a model without logprobs: parse the scripted answer.
        parsed = yes_no_from_text(self._reply(messages))
        return self.yes_default if parsed is None else parsed

    def _complete(self, messages, *, max_tokens, temperature, stop) -> Completion:
        start = time.perf_counter()
        self.calls.append(messages)
        text, reason = self._shape(self._reply(messages), max_tokens, stop)
        return Completion(
            text=text,
            model=self.model_id,
            prompt_tokens=_prompt_chars(messages),
            completion_tokens=len(text),
            seconds=time.perf_counter() - start,
            finish_reason=reason,
        )

    def _stream(self, messages, *, max_tokens, temperature, stop) -> Iterator[str | Usage]:
        self.calls.append(messages)
        text, reason = self._shape(self._reply(messages), max_tokens, stop)
        for i in range(0, len(text), self.chunk_chars):
            yield text[i : i + self.chunk_chars]
        yield Usage(_prompt_chars(messages), len(text), self.model_id, reason)

    # -- internals ---------------------------------------------------------
    def _reply(self, messages: list[dict]) -> str:
        user = last_user_text(messages)
        for sub, reply in self._rules:
            if sub in user:
                return reply
        if self._queue:
            return self._queue.popleft()
        return self.default

    @staticmethod
    def _shape(text: str, max_tokens: int, stop: list[str] | None) -> tuple[str, str]:
        reason = "stop"
        for s in stop or ():
            cut = text.find(s)
            if cut >= 0:
                text = text[:cut]
        if len(text) > max_tokens:
            text, reason = text[:max_tokens], "length"
        return text, reason


def _prompt_chars(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages)
