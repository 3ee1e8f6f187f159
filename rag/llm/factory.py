"""The one place that turns Settings into an LLM backend (no backend imports this back)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.llm.base import LLM
    from rag.settings import Settings


def create_llm(settings: Settings) -> LLM:
    """OpenAI-compatible when ``settings.llm_base_url`` is set, else embedded llama.cpp."""
    if settings.llm_base_url:
        from rag.llm.openai_compat import OpenAICompatLLM

        return OpenAICompatLLM(settings)
    from rag.llm.local import LocalLlamaLLM

    return LocalLlamaLLM(settings)
