"""LLM helpers for the harness: a scripted fake that can cite by content, and a usage counter."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.llm.base import LLM, Completion, Usage, last_user_text
from rag.llm.fake import ScriptedLLM
from rag.prompts import FENCE_CLOSE, FENCE_OPEN

_CITE = re.compile(r"\{cite:([^}]+)\}")


def passage_number(prompt: str, text: str) -> int | None:
    """Number n of the first fenced passage ``<<<资料 n 开始>>> … <<<资料 n 结束>>>`` containing text."""
    for n in range(1, 100):
        head = FENCE_OPEN.format(n=n)
        if head not in prompt:
            return None
        block = prompt.split(head, 1)[1].split(FENCE_CLOSE.format(n=n), 1)[0]
        if text in block:
            return n
    return None


class CaseScriptedLLM(ScriptedLLM):
    """ScriptedLLM whose replies may write ``{cite:800平米}``: replaced by ``[n]`` of the passage
    holding that text in the prompt received, so a scripted answer survives retrieval-order
    changes (and by nothing when no passage holds it)."""

    def _reply(self, messages: list[dict]) -> str:
        reply = super()._reply(messages)
        prompt = last_user_text(messages)

        def cite(m: re.Match[str]) -> str:
            n = passage_number(prompt, m[1])
            return f"[{n}]" if n else ""

        return _CITE.sub(cite, reply)


class CountingLLM(LLM):
    """Delegates to ``inner`` and adds up tokens and calls (a cell's cost, not just its last call)."""

    def __init__(self, inner: LLM) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.default_max_tokens = inner.default_max_tokens
        self.default_temperature = inner.default_temperature
        self.last_completion = None
        self.reset()

    def reset(self) -> None:
        self.calls = 0
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None

    def _add(self, prompt: int | None, completion: int | None) -> None:
        self.calls += 1
        if prompt is not None:
            self.prompt_tokens = (self.prompt_tokens or 0) + prompt
        if completion is not None:
            self.completion_tokens = (self.completion_tokens or 0) + completion

    def _complete(self, messages, *, max_tokens, temperature, stop) -> Completion:
        done = self.inner._complete(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        self.inner.last_completion = done
        self._add(done.prompt_tokens, done.completion_tokens)
        return done

    def _stream(self, messages, *, max_tokens, temperature, stop) -> Iterator[str | Usage]:
        seen: Usage | None = None
        for item in self.inner._stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop):
            if isinstance(item, Usage):
                seen = item
            yield item
        self._add(seen.prompt_tokens if seen else None, seen.completion_tokens if seen else None)

    def _yes_probability(self, messages: list[dict]) -> float:
        return self.inner._yes_probability(messages)
