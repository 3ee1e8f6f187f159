"""Optional reranking of the fused top passages with an LLM as a pointwise yes/no judge.

For each of the first ``top`` passages the model reads ``prompts/rerank/<variant>.yaml`` (the
question first, then the passage, so consecutive calls share the KV prefix of the system prompt
and the question) and gives P(是)/(P(是)+P(否)) of its first token (``LLM.yes_probability``).
The passages are reordered by ``weight × P(是) + (1 - weight) × fused``, where ``fused`` is the
fusion score scaled to [0, 1] over those passages; the rest keep their order after them.

Not wired into ``ask`` or ``search``: measured by ``python -m rag.bench.rerank`` (docs/SCALING.md,
retrieval quality), a passage costs ~200 prompt tokens, ~1.4 s on a fast CPU with the embedded
1.5B model (top 5: ~7 s per question) and far more on the development machine, so it does not fit
the ask first-token goal (≤ 3 s) even where it helps. With an OpenAI-compatible endpoint that
serves logprobs it is one short call per passage; :func:`rerank` is the function to call then.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from rag.llm.base import LLM
from rag.prompts import PromptTemplate, load_prompt
from rag.schema import Passage
from rag.settings import Settings

MAX_PASSAGE_CHARS = 400  # a long chunk would only cost prompt-reading time


def rerank_prompt(settings: Settings | None = None, variant: str = "default") -> PromptTemplate:
    return load_prompt(settings, "rerank", variant)


def yes_scores(
    llm: LLM, prompt: PromptTemplate, question: str, passages: Sequence[Passage]
) -> tuple[list[float], list[float]]:
    """(P(是) per passage, seconds per call)."""
    scores, seconds = [], []
    for p in passages:
        messages = prompt.render(
            question=question.strip(), title=p.chunk.report_title, passage=p.chunk.text[:MAX_PASSAGE_CHARS]
        )
        t0 = time.perf_counter()
        scores.append(float(llm.yes_probability(messages)))
        seconds.append(time.perf_counter() - t0)
    return scores, seconds


def combine(passages: Sequence[Passage], yes: Sequence[float], weight: float) -> list[Passage]:
    """Reorder the scored passages by weight·P(是) + (1-weight)·(fusion score scaled to [0, 1])."""
    n = len(yes)
    head, tail = list(passages[:n]), list(passages[n:])
    if not head:
        return tail
    lo, hi = min(p.score for p in head), max(p.score for p in head)
    fused = [(p.score - lo) / (hi - lo) if hi > lo else 1.0 for p in head]
    combined = [weight * y + (1 - weight) * f for y, f in zip(yes, fused, strict=True)]
    order = sorted(range(n), key=lambda i: -combined[i])
    out = [replace(head[i], extra={**head[i].extra, "rerank_yes": round(yes[i], 4)}) for i in order]
    return out + tail


def rerank(
    llm: LLM,
    question: str,
    passages: Sequence[Passage],
    *,
    top: int = 10,
    weight: float = 0.5,
    prompt: PromptTemplate | None = None,
) -> list[Passage]:
    prompt = prompt or rerank_prompt()
    yes, _ = yes_scores(llm, prompt, question, passages[:top])
    return combine(passages, yes, weight)
