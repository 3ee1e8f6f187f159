"""The 汇编 brief: extract figure-bearing sentences, map (condense per report), reduce (group
across reports), verify every figure, the Brief schema, and its Markdown rendering."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "SummarizeError": "rag.brief.summarize",
    "summarize": "rag.brief.summarize",
    "summarize_iter": "rag.brief.summarize",
    "Brief": "rag.brief.schema",
    "ReportSummary": "rag.brief.schema",
    "to_markdown": "rag.brief.markdown",
    "brief_evidence": "rag.brief.evidence",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
