"""Deliverables a reviewer can check: the GB/T 9704 page layout of every .docx the product
writes, the fonts it declares and which of them this machine lacks, evidence tables (送审包)
as .xlsx/.csv and inside the .docx, and the per-sentence evidence of a drafted report.

The brief's own evidence rows are built in rag/brief/evidence.py; rag/export.py puts it all
together."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "FONTS": "rag.deliver.fonts",
    "FontReport": "rag.deliver.fonts",
    "font_report": "rag.deliver.fonts",
    "apply_layout": "rag.deliver.gbt9704",
    "write_table": "rag.deliver.tables",
    "DraftEvidence": "rag.deliver.draft_evidence",
    "draft_evidence": "rag.deliver.draft_evidence",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
