"""The REST API (FastAPI). JSON shapes match the CLI's ``--json`` output."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from rag.ask import AskResult
from rag.brief.summarize import SummarizeError
from rag.deliver.errors import ExportError
from rag.documents.errors import DocumentError
from rag.drafting.section import DraftError, DraftRequest, DraftResult
from rag.index.embeddings import EmbedderError
from rag.index.index import EmbedderMismatchError, IndexBusyError, IndexError_
from rag.llm.base import LLMError
from rag.prompts import PromptError
from rag.retrieval import QueryError, validate_where
from rag.service import Service, UploadError, safe_upload_name

# Known failures → HTTP status; the body is {"error": message-that-says-what-to-do}.
ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (IndexBusyError, 409),
    (EmbedderMismatchError, 409),
    (LLMError, 502),
    (UploadError, 400),
    (DocumentError, 400),
    (QueryError, 400),
    (DraftError, 400),
    (SummarizeError, 400),
    (PromptError, 400),
    (ExportError, 500),
    (EmbedderError, 500),
    (IndexError_, 404),
)


def error_status(exc: Exception) -> int | None:
    return next((status for kind, status in ERROR_STATUS if isinstance(exc, kind)), None)


class Message(BaseModel):
    role: str
    content: str


ExportFormat = Literal["json", "docx", "md", "xlsx", "csv"]
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


class SummarizeIndexedBody(BaseModel):
    sources: list[str] = Field(min_length=1)
    concurrency: int = Field(default=1, ge=1, le=32)
    format: ExportFormat = "json"


class DraftExportBody(BaseModel):
    """A draft as ``POST /api/draft`` returned it (``text`` may have been edited since)."""

    text: str = Field(min_length=1)
    role: str = ""
    section: str = ""
    year: int | None = None
    facts: list[str] = Field(default_factory=list)
    citations: list[dict[str, Any]] = Field(default_factory=list)
    placeholders: list[dict[str, Any]] = Field(default_factory=list)
    title: str = ""
    format: Literal["json", "docx", "xlsx", "csv"] = "docx"


class SearchBody(BaseModel):
    query: str
    k: int = 5
    where: dict[str, Any] = Field(default_factory=dict)


class AskBody(BaseModel):
    question: str
    k: int = 4
    where: dict[str, Any] = Field(default_factory=dict)
    history: list[Message] = Field(default_factory=list)
    variant: str = "default"
    stream: bool = False


class CheckBody(BaseModel):
    text: str
    sources: list[str]  # source texts
    judge: bool = True


class DraftBody(BaseModel):
    role: str
    section: str = "履职情况"
    year: int | None = None
    topic: str = ""
    facts: list[str] = Field(default_factory=list)
    length: int = 400
    message: str = ""
    history: list[Message] = Field(default_factory=list)
    variant: str = "default"
    stream: bool = True


class ReportSectionBody(BaseModel):
    section: str
    facts: list[str] = Field(default_factory=list)
    topic: str = ""


class DraftReportBody(BaseModel):
    """A whole report: the outline (sections in order, each with its facts), then the closing."""

    role: str
    year: int | None = None
    topic: str = ""
    sections: list[ReportSectionBody] = Field(
        default_factory=lambda: [
            ReportSectionBody(section=s) for s in ("履职情况", "存在问题", "原因分析", "下步打算")
        ]
    )
    length: int = 400
    name: str = ""
    closing: str = ""
    variant: str = "default"
    stream: bool = True
    export: bool = True  # write the .docx and evidence files; the result carries their downloads


class ReportExportBody(BaseModel):
    """A whole report as ``POST /api/draft/report`` returned it (sections' ``text`` may be edited)."""

    title: str = ""
    text: str = Field(min_length=1)
    sections: list[dict[str, Any]] = Field(default_factory=list)
    closing: list[str] = Field(default_factory=list)
    format: Literal["json", "docx", "xlsx", "csv"] = "docx"


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _sse_stream(events: Iterator) -> Iterator[str]:
    """Text pieces as `token` events, the checked result as `result`, failures as `error`."""
    try:
        for event in events:
            if isinstance(event, str):
                yield _sse("token", {"text": event})
            else:
                yield _sse("result", event.to_json())
    except Exception as exc:  # the stream has started: report in-band, keep what was sent
        status = error_status(exc)
        if status is None:
            raise
        yield _sse("error", {"error": str(exc), "status": status})


def _report_events(service: Service, events: Iterator, export: bool) -> Iterator[tuple[str, dict]]:
    """(SSE event name, data) of a whole report: ``section`` as each starts, ``token`` pieces,
    ``section_result`` per section, ``result`` with the downloads of its .docx."""
    from rag.drafting.report import ReportResult, SectionStarted

    current = ""
    for event in events:
        if isinstance(event, SectionStarted):
            current = event.section
            yield "section", event.to_json()
        elif isinstance(event, str):
            yield "token", {"text": event, "section": current}
        elif isinstance(event, ReportResult):
            data = event.to_json()
            yield "result", {**data, **(service.export_report(data).to_json() if export else {})}
        else:
            yield "section_result", {**event.to_json(), "section": current}


def _report_sse(events: Iterator[tuple[str, dict]]) -> Iterator[str]:
    try:
        for name, data in events:
            yield _sse(name, data)
    except Exception as exc:
        status = error_status(exc)
        if status is None:
            raise
        yield _sse("error", {"error": str(exc), "status": status})


def _final(events: Iterator) -> dict:
    result = None
    for event in events:
        if isinstance(event, AskResult | DraftResult):
            result = event
    assert result is not None
    return result.to_json()


def _delivered(service: Service, brief, fmt: str):
    """The brief's JSON with its downloads (.docx, .md, evidence .xlsx/.csv), or one of the files."""
    export = service.export_brief(brief)
    if fmt != "json":
        return _file(export.files[fmt], fmt)
    return {**brief.to_json(), **export.to_json()}


def _file(path: Path, fmt: str) -> FileResponse:
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=path.name)


def create_router(service: Service) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.get("/health")
    def health() -> dict:
        counts = service.index.store.counts()
        return {
            "llm": service.llm_description(),
            "llm_problem": service.llm_status(),
            "llm_worker_pid": (worker := service.llm_worker() or {}).get("llm_worker_pid"),
            "llm_worker": worker or {"state": "not_started"},
            "embedder": service.index.store.get_meta("embedder_id") or service.settings.embedder,
            **counts,
        }

    @router.post("/search")
    def search(body: SearchBody) -> list[dict]:
        passages = service.search(body.query, k=body.k, where=validate_where(body.where))
        return [p.to_json() for p in passages]

    @router.post("/ask")
    def ask(body: AskBody):
        events = service.ask_stream(
            body.question,
            k=body.k,
            where=validate_where(body.where),
            history=[m.model_dump() for m in body.history],
            variant=body.variant,
        )
        if body.stream:
            return StreamingResponse(_sse_stream(events), media_type="text/event-stream")
        return _final(events)

    @router.post("/draft")
    def draft(body: DraftBody):
        req = DraftRequest(
            role=body.role,
            section=body.section,
            year=body.year,
            topic=body.topic,
            facts=tuple(body.facts),
            length=body.length,
        )
        req.kind  # noqa: B018 - a bad section is a 400 before the stream starts
        events = service.draft_stream(
            req, message=body.message, history=[m.model_dump() for m in body.history], variant=body.variant
        )
        if body.stream:
            return StreamingResponse(_sse_stream(events), media_type="text/event-stream")
        return _final(events)

    @router.post("/draft/report")
    def draft_report(body: DraftReportBody):
        """A whole report, section by section in the outline's order, with the closing line;
        SSE (``stream``) or one JSON with the whole text, per-section results and downloads."""
        from rag.drafting.report import DEFAULT_CLOSING, ReportRequest, SectionPlan

        req = ReportRequest(
            role=body.role,
            year=body.year,
            topic=body.topic,
            sections=tuple(SectionPlan(s.section, tuple(s.facts), s.topic) for s in body.sections),
            length=body.length,
            name=body.name,
            closing=body.closing or DEFAULT_CLOSING,
        )
        events = _report_events(service, service.draft_report_stream(req, variant=body.variant), body.export)
        if body.stream:
            return StreamingResponse(_report_sse(events), media_type="text/event-stream")
        return next(data for name, data in events if name == "result")

    @router.post("/draft/report/export")
    def draft_report_export(body: ReportExportBody):
        """A whole report as .docx with the evidence of every section, or the evidence alone."""
        export = service.export_report(body.model_dump(), body.title)
        if body.format == "json":
            return export.to_json()
        return _file(export.files[body.format], body.format)

    @router.post("/summarize")
    def summarize(
        file: UploadFile = File(...),  # noqa: B008 - FastAPI's idiom
        concurrency: int = 1,
        format: ExportFormat = "json",
    ):
        """The brief of an uploaded 汇编, named by the uploaded file's own name; ``format``
        docx / md / xlsx / csv returns that file instead of the JSON."""
        with tempfile.TemporaryDirectory() as tmp:
            name = safe_upload_name(file.filename or "")
            path = Path(tmp) / name
            data = file.file.read()
            service.check_upload_size(name, len(data))
            path.write_bytes(data)
            brief = service.summarize_upload(path, name, concurrency=concurrency)
        return _delivered(service, brief, format)

    @router.post("/summarize/indexed")
    def summarize_indexed(body: SummarizeIndexedBody):
        """The same brief from documents already in the library (several single reports, or a 汇编)."""
        reports = service.indexed_reports(body.sources)
        return _delivered(service, service.summarize(reports, concurrency=body.concurrency), body.format)

    @router.get("/exports/{export_id}/{name}")
    def export_file(export_id: str, name: str):
        """A file of a brief or draft export (the ``downloads`` of its JSON)."""
        try:
            path = service.export_file(export_id, name)
        except (UploadError, FileNotFoundError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return _file(path, path.suffix.lower().lstrip("."))

    @router.post("/draft/export")
    def draft_export(body: DraftExportBody):
        """A draft as .docx with its evidence table (起草依据核对表) appended, or the table alone
        as .xlsx / .csv; ``json`` gives the download links of all three."""
        result = {
            "text": body.text,
            "request": {"role": body.role, "section": body.section, "year": body.year, "facts": body.facts},
            "citations": body.citations,
            "placeholders": body.placeholders,
        }
        export = service.export_draft(result, body.title)
        if body.format == "json":
            return export.to_json()
        return _file(export.files[body.format], body.format)

    @router.post("/check")
    def check(body: CheckBody) -> dict:
        return service.check(body.text, body.sources, judge=body.judge).to_json()

    @router.post("/ingest")
    def ingest(files: list[UploadFile] = File(...)) -> dict:  # noqa: B008 - FastAPI's idiom
        saved: list[Path] = []
        errors: list[dict] = []
        for f in files:
            try:
                saved.append(service.save_upload(f.filename or "", f.file.read()))
            except UploadError as exc:
                errors.append({"source": f.filename, "status": "error", "error": str(exc)})
        result = service.ingest_uploads(saved).to_json() if saved else {"files": [], "errors": 0}
        result["files"] = errors + result["files"]
        result["errors"] = result.get("errors", 0) + len(errors)
        if not saved or all(f["status"] == "error" for f in result["files"]):
            return JSONResponse(result, status_code=400)
        return result

    @router.get("/documents")
    def documents() -> list[dict]:
        return service.documents()

    @router.delete("/documents/{source:path}")
    def delete_document(source: str) -> dict:
        key, n = service.remove(source)
        return {"source": key, "chunks_removed": n}

    return router


def install_error_handlers(app) -> None:
    async def handle(request: Request, exc: Exception):
        status = error_status(exc)
        if status is None:
            raise exc
        return JSONResponse({"error": str(exc)}, status_code=status)

    for kind, _status in ERROR_STATUS:
        app.add_exception_handler(kind, handle)


__all__ = ["HTTPException", "create_router", "install_error_handlers"]
