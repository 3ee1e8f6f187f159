"""Stage 1 — documents: load files (.txt/.md/.docx/.pdf/.doc/.wps; scans and photos by OCR),
decode, clean, split a 汇编 into reports, parse each report's skeleton and metadata, and cut
it into chunks."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "DocumentError": "rag.documents.errors",
    "SUPPORTED_SUFFIXES": "rag.documents.files",
    "iter_files": "rag.documents.files",
    "source_key": "rag.documents.files",
    "unsupported_type_hint": "rag.documents.files",
    "decode_text": "rag.documents.decode",
    "clean_text": "rag.documents.clean",
    "count_redactions": "rag.documents.clean",
    "strip_site_noise": "rag.documents.noise",
    "reflow": "rag.documents.reflow",
    "to_simplified": "rag.documents.simplify",
    "split_reports": "rag.documents.split",
    "parse_report": "rag.documents.skeleton",
    "parse_text": "rag.documents.parse",
    "load_document": "rag.documents.load",
    "OcrOptions": "rag.documents.ocr",
    "normalise_ocr_text": "rag.documents.ocr_text",
    "chunk_report": "rag.documents.chunking",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
