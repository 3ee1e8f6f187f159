"""The support judge: does an evidence window support a claim? P(是) of the first token.

The prompt is a file (``prompts/judge/<variant>.yaml``, inputs ``evidence`` and ``claim``),
hashed like every prompt so judge scores carry their provenance. Calibration on a labeled
set lives in ``eval/calibrate.py`` (``rag eval judge``).
"""

from __future__ import annotations

from rag.llm.base import LLM
from rag.prompts import PromptTemplate, load_prompt
from rag.settings import Settings

MAX_EVIDENCE_CHARS = 600  # a runaway window would only cost prompt-reading time


def judge_prompt(settings: Settings | None = None, variant: str = "default") -> PromptTemplate:
    return load_prompt(settings, "judge", variant)


def judge_messages(prompt: PromptTemplate, evidence: str, claim: str, *, title: str = "") -> list[dict]:
    # The report title carries role and year (乡长2023年度…), which many claims depend on.
    text = evidence.strip()[:MAX_EVIDENCE_CHARS]
    return prompt.render(evidence=f"（{title}）{text}" if title else text, claim=claim.strip())


def judge_score(llm: LLM, prompt: PromptTemplate, evidence: str, claim: str, *, title: str = "") -> float:
    """P(是)/(P(是)+P(否)) for "the evidence supports the claim"."""
    return llm.yes_probability(judge_messages(prompt, evidence, claim, title=title))
