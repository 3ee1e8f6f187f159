"""Grounding: figures and their normalisation, what each figure is bound to (clauses, binding),
citations with exact spans, the draft guard, the yes/no judge, and the factual-consistency check."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "Figure": "rag.grounding.figures",
    "extract_figures": "rag.grounding.figures",
    "find_figure": "rag.grounding.figures",
    "same_figure": "rag.grounding.figures",
    "Citation": "rag.grounding.citations",
    "Grounding": "rag.grounding.citations",
    "ground": "rag.grounding.citations",
    "split_sentences": "rag.grounding.citations",
    "Binding": "rag.grounding.binding",
    "bind_claim": "rag.grounding.binding",
    "guard_draft": "rag.grounding.draft_guard",
    "judge_score": "rag.grounding.judge",
    "CheckResult": "rag.grounding.check",
    "check_text": "rag.grounding.check",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
