"""Drafting: report sections by chat (plan the points, write each, guard the result) and whole
reports section by section, grounded in exemplars of the same section type and the user's facts."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "DraftError": "rag.drafting.section",
    "DraftRequest": "rag.drafting.section",
    "DraftResult": "rag.drafting.section",
    "draft": "rag.drafting.section",
    "draft_stream": "rag.drafting.section",
    "outline": "rag.drafting.section",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
