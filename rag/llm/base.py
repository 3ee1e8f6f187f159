"""One LLM interface for the whole project.

Backends (each in its own module, imported lazily so the fake needs neither
``openai`` nor ``llama_cpp``):

- ``OpenAICompatLLM`` (rag/llm/openai_compat.py): any OpenAI-compatible endpoint.
- ``LocalLlamaLLM`` (rag/llm/local.py): embedded llama.cpp on the GGUF from rag/llm/model_files.py.
- ``ScriptedLLM`` (rag/llm/fake.py): deterministic fake for tests.

``create_llm(settings)`` (rag/llm/factory.py) picks the first two by ``settings.llm_base_url``.

Messages are plain ``[{"role": "system"|"user"|"assistant", "content": str}, ...]``.
``stream()`` yields text pieces; once the iterator is exhausted (or closed early),
``llm.last_completion`` holds the text, usage and timing of that call (a call that
raised leaves it unchanged). ``complete()`` returns the Completion and sets it too.
One instance serves one call at a time (the local backend enforces it with a lock).
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LLM",
    "Completion",
    "LLMError",
    "Usage",
    "answer_kind",
    "yes_no_from_logprobs",
    "yes_no_from_text",
]

ROLES = frozenset({"system", "user", "assistant"})
YES, NO = "是", "否"


class LLMError(Exception):
    """A model call failed; the message says what to fix."""


@dataclass(frozen=True)
class Completion:
    """One finished call. Token counts are None when the backend did not report them."""

    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    seconds: float
    first_token_seconds: float | None = None  # only for stream()
    finish_reason: str | None = None  # "stop", "length", … when known

    @property
    def tokens_per_second(self) -> float | None:
        """Generation speed after the first token (streamed) or overall (complete)."""
        n = self.completion_tokens
        if not n:
            return None
        if self.first_token_seconds is not None and n > 1:
            span = self.seconds - self.first_token_seconds
            return (n - 1) / span if span > 0 else None
        return n / self.seconds if self.seconds > 0 else None


@dataclass(frozen=True)
class Usage:
    """What a backend's ``_stream`` yields last (instead of text) when it knows usage."""

    prompt_tokens: int | None
    completion_tokens: int | None
    model: str | None = None
    finish_reason: str | None = None


class LLM(ABC):
    """Backends implement ``_complete``, ``_stream`` and ``_yes_probability``."""

    model_id: str
    default_max_tokens: int = 512
    default_temperature: float = 0.2
    last_completion: Completion | None = None

    # -- public API -------------------------------------------------------
    def complete(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: list[str] | None = None,
    ) -> Completion:
        msgs = check_messages(messages)
        result = self._complete(msgs, **self._params(max_tokens, temperature, stop))
        self.last_completion = result
        return result

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: list[str] | None = None,
    ) -> Iterator[str]:
        """Yield text pieces; afterwards ``self.last_completion`` holds usage and timing."""
        msgs = check_messages(messages)
        params = self._params(max_tokens, temperature, stop)
        return self._timed_stream(msgs, params)

    def yes_probability(self, messages: list[dict]) -> float:
        """P(是) / (P(是) + P(否)) of the first generated token: the support judge.

        Backends read the first token's distribution where they can (llama.cpp logits,
        OpenAI ``top_logprobs``); otherwise they parse a greedy answer (是 → 1.0, 否 → 0.0)
        and return 0.5 when the answer is neither.
        """
        return self._yes_probability(check_messages(messages))

    # -- backend hooks ----------------------------------------------------
    @abstractmethod
    def _yes_probability(self, messages: list[dict]) -> float: ...

    @abstractmethod
    def _complete(
        self, messages: list[dict], *, max_tokens: int, temperature: float, stop: list[str] | None
    ) -> Completion: ...

    @abstractmethod
    def _stream(
        self, messages: list[dict], *, max_tokens: int, temperature: float, stop: list[str] | None
    ) -> Iterator[str | Usage]:
        """Yield text pieces, then optionally one ``Usage``."""

    # -- shared plumbing --------------------------------------------------
    def _params(self, max_tokens: int | None, temperature: float | None, stop: list[str] | None) -> dict:
        mt = self.default_max_tokens if max_tokens is None else int(max_tokens)
        if mt <= 0:
            raise LLMError(f"max_tokens 必须为正整数，收到 {max_tokens!r}")
        t = self.default_temperature if temperature is None else float(temperature)
        if not 0.0 <= t <= 2.0:
            raise LLMError(f"temperature 应在 0 到 2 之间，收到 {temperature!r}")
        if stop is not None and (isinstance(stop, str) or not all(isinstance(s, str) and s for s in stop)):
            raise LLMError("stop 必须是非空字符串的列表，如 ['\\n\\n']")
        return {"max_tokens": mt, "temperature": t, "stop": list(stop) if stop else None}

    def _timed_stream(self, messages: list[dict], params: dict) -> Iterator[str]:
        start = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        usage: Usage | None = None
        failed = False
        try:
            for item in self._stream(messages, **params):
                if isinstance(item, Usage):
                    usage = item
                    continue
                if not item:
                    continue
                if first is None:
                    first = time.perf_counter() - start
                pieces.append(item)
                yield item
        except Exception:
            failed = True  # a failed call leaves last_completion as it was
            raise
        finally:
            if not failed:
                self._record_stream(pieces, usage, start, first)

    def _record_stream(
        self, pieces: list[str], usage: Usage | None, start: float, first: float | None
    ) -> None:
        """Runs when the stream is exhausted, or closed early (then usage is usually None)."""
        u = usage or Usage(None, None)
        self.last_completion = Completion(
            text="".join(pieces),
            model=u.model or self.model_id,
            prompt_tokens=u.prompt_tokens,
            completion_tokens=u.completion_tokens,
            seconds=time.perf_counter() - start,
            first_token_seconds=first,
            finish_reason=u.finish_reason,
        )


def check_messages(messages: Any) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise LLMError("messages 必须是非空列表：[{'role': 'user', 'content': '…'}]")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise LLMError(
                f"messages[{i}] 无效：需要 {{'role': system|user|assistant, 'content': str}}，收到 {m!r:.120}"
            )
    return messages


def last_user_text(messages: list[dict]) -> str:
    for m in reversed(messages):
        if m["role"] == "user":
            return m["content"]
    return ""


def answer_kind(token: str) -> str | None:
    """ "yes" for a first token 是/是的, "no" for 否 (spaces and trailing punctuation ignored).

    Exact, not a prefix: tokens such as 是否 ("whether") or 否则 ("otherwise") are neither.
    """
    s = token.strip().rstrip("。，,.！!：:")
    if s in (YES, "是的"):
        return "yes"
    if s == NO:
        return "no"
    return None


def yes_no_from_logprobs(pairs: Iterable[tuple[str, float]]) -> float | None:
    """P(是)/(P(是)+P(否)) from (token text, logprob) pairs of the first position; None if neither."""
    mass = {"yes": 0.0, "no": 0.0}
    for text, logprob in pairs:
        kind = answer_kind(text)
        if kind:
            mass[kind] += math.exp(logprob)
    total = mass["yes"] + mass["no"]
    return mass["yes"] / total if total > 0.0 else None


def yes_no_from_text(text: str) -> float | None:
    """1.0 for an answer starting with 是, 0.0 for 否/不, None otherwise."""
    s = text.strip().lstrip("*#>\"'“「【[（( ").strip()
    if s.startswith(YES):
        return 1.0
    if s.startswith((NO, "不")):
        return 0.0
    return None
