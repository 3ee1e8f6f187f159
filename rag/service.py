"""One object the UI and the HTTP API share: the index, the LLM (created on first
use) and the operations users run, so both front ends give the same answers.

The embedded llama.cpp model is not thread-safe, so generation is serialised by
a lock; retrieval and index reads run concurrently.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from rag.ask import AskResult, chat_stream
from rag.deliver.fonts import FontReport
from rag.documents.errors import DocumentError
from rag.documents.files import SUPPORTED_SUFFIXES, source_key, unsupported_type_hint
from rag.drafting.section import DraftRequest, DraftResult, draft_stream
from rag.index.index import Index, IngestResult, Progress
from rag.llm.base import LLM
from rag.llm.factory import create_llm
from rag.retrieval import hybrid_search
from rag.schema import Passage, Report
from rag.settings import Settings

_UNSAFE_NAME = re.compile(r"[^\w\u4e00-\u9fff.\-（）() ]+")
_EXPORT_ID = re.compile(r"[0-9a-f]{16}")
_KEEP_EXPORTS = 32  # export folders kept under <index>/exports (the oldest go first)


@dataclass(frozen=True)
class Export:
    """Files written for one brief or draft: kind (docx, md, xlsx, csv) → path."""

    id: str
    files: dict[str, Path]
    fonts: FontReport

    def to_json(self, url_prefix: str = "/api/exports") -> dict:
        return {
            "export_id": self.id,
            "downloads": {k: f"{url_prefix}/{self.id}/{quote(p.name)}" for k, p in self.files.items()},
            "fonts_missing": list(self.fonts.missing),
            "fonts_note": self.fonts.note(),
        }


class UploadError(ValueError):
    pass


def safe_upload_name(name: str) -> str:
    """Keep only the base name, without path parts or odd characters (no traversal)."""
    base = Path(name.replace("\\", "/")).name.strip().lstrip(".")
    base = _UNSAFE_NAME.sub("_", base)[:120]
    suffix = Path(base).suffix.lower()
    if not base or suffix not in SUPPORTED_SUFFIXES:
        # .doc/.wps/.rtf get the same "save it as .docx" hint as `rag ingest` gives.
        hint = unsupported_type_hint(suffix, f"请上传 {'、'.join(SUPPORTED_SUFFIXES)} 文件")
        raise UploadError(f"{name!r}: 不支持的文件类型 {suffix or '（无扩展名）'} — {hint}")
    return base


def _previous(path: Path) -> Path:
    """Where an earlier upload of the same name waits while its replacement is ingested."""
    return path.with_name(path.name + ".prev")


class Service:
    def __init__(self, settings: Settings, *, llm: LLM | None = None, index: Index | None = None) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        self._llm = llm
        self._create_lock = threading.Lock()

    # -- the model -----------------------------------------------------------------
    @property
    def llm(self) -> LLM:
        with self._create_lock:
            if self._llm is None:
                self._llm = create_llm(self.settings)
            return self._llm

    def llm_description(self) -> str:
        s = self.settings
        if s.llm_base_url:
            return f"OpenAI 兼容接口 {s.llm_base_url}（模型 {s.llm_model or '自动'}）"
        return f"内置模型 Qwen2.5-Coder-{s.local_model.upper()}-Instruct（llama.cpp，本机）"

    def llm_status(self) -> str | None:
        """None when the LLM looks usable, else a message for a banner."""
        if not self.settings.llm_base_url:
            worker = self.llm_worker()
            if worker and worker["state"] == "failed":
                return f"本机模型进程无法启动：{worker['last_error']}"
            return None
        import urllib.error
        import urllib.request

        url = self.settings.llm_base_url.rstrip("/") + "/models"
        try:
            urllib.request.urlopen(url, timeout=3)
        except urllib.error.HTTPError:
            return None  # reachable (auth problems show on first use with a clear message)
        except OSError as exc:
            url = self.settings.llm_base_url
            return f"无法连接大模型接口 RAG_LLM_BASE_URL={url}（{type(exc).__name__}），请检查服务是否启动"
        return None

    def llm_worker(self) -> dict | None:
        """The embedded model's worker process (pid, state, restarts), once the model was created."""
        health = getattr(self._llm, "health", None)
        return health() if callable(health) else None

    # -- reading ---------------------------------------------------------------------
    def search(self, query: str, *, k: int = 5, where: Mapping[str, object] | None = None) -> list[Passage]:
        return hybrid_search(self.index, query, k=k, where=where)

    def ask_stream(
        self,
        question: str,
        *,
        k: int = 4,
        where: Mapping[str, object] | None = None,
        history: Sequence[Mapping[str, str]] | None = None,
        variant: str = "default",
    ) -> Iterator[str | AskResult]:
        # The embedded model serialises its own calls; an endpoint may serve several.
        return chat_stream(self.index, self.llm, question, k=k, where=where, history=history, variant=variant)

    def draft_stream(
        self,
        req: DraftRequest,
        *,
        message: str = "",
        history: Sequence[Mapping[str, str]] | None = None,
        variant: str = "default",
    ) -> Iterator[str | DraftResult]:
        return draft_stream(self.index, self.llm, req, message=message, history=history, variant=variant)

    def draft_report_stream(self, req, *, variant: str = "default") -> Iterator:
        """A whole report (rag.drafting.report.ReportRequest), section by section."""
        from rag.drafting.report import report_stream

        req.validate()  # a bad outline fails before the stream starts (HTTP 400, not an SSE error)
        return report_stream(self.index, self.llm, req, variant=variant)

    def summarize(
        self,
        what: Path | Sequence[Report],
        *,
        name: str | None = None,
        progress: Progress | None = None,
        concurrency: int = 1,
    ):
        """A leader's brief of a 汇编 file or of indexed reports (rag.summarize), verified
        figure by figure. ``name``: the file's own name for an upload read from a temporary
        path (the brief and its exports name the source by it)."""
        from rag.brief.summarize import summarize

        return summarize(
            what, self.llm, self.settings, progress=progress, concurrency=concurrency, source_name=name
        )

    def summarize_upload(self, path: Path, name: str, **kwargs):
        """A brief of a file the UI or the API received: named by ``name``, the uploaded file's
        own (sanitised) name, never by the temporary path it was stored at."""
        return self.summarize(path, name=safe_upload_name(name or path.name), **kwargs)

    def indexed_reports(self, sources: Sequence[str]) -> list[Report]:
        """Every stored report of the given documents (keys, paths or unique file names), in
        the order given: a brief can be made from what is already in the library."""
        reports: list[Report] = []
        for key in dict.fromkeys(self.index.resolve_source(s) for s in sources):
            reports += self.index.store.reports(key)
        if len(reports) < 2:
            from rag.brief.summarize import SummarizeError

            raise SummarizeError(
                f"所选文档只有 {len(reports)} 篇报告：综述至少需要两篇 — 请多选几个文档或选一个汇编"
            )
        return reports

    def check(self, text: str, sources: Sequence[Path | str], *, judge: bool = True):
        """Sentence-by-sentence consistency of ``text`` with the given source files or texts."""
        from rag.grounding.check import check_text

        return check_text(text, sources, self.llm if judge else None, self.settings)

    def documents(self) -> list[dict]:
        docs = self.index.store.documents()
        reports = self.index.store.reports()
        for d in docs:
            d["report_list"] = [
                {"index": r.index, "title": r.title, "role": r.role, "year": r.year, "level": r.level}
                for r in reports
                if r.source == d["source"]
            ]
        return docs

    # -- writing ---------------------------------------------------------------------
    def upload_dir(self) -> Path:
        path = Path(self.settings.index_dir) / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def save_upload(self, name: str, data: bytes) -> Path:
        safe = safe_upload_name(name)
        self.check_upload_size(safe, len(data))
        dest = self.upload_dir() / safe
        tmp = dest.with_name(dest.name + ".part")
        tmp.write_bytes(data)
        self._set_aside(dest)
        tmp.replace(dest)
        return dest

    def save_upload_file(self, path: Path, name: str | None = None) -> Path:
        """Copy a file Gradio already stored in its temp dir into the upload folder."""
        safe = safe_upload_name(name or path.name)
        self.check_upload_size(safe, path.stat().st_size)
        dest = self.upload_dir() / safe
        self._set_aside(dest)
        shutil.copyfile(path, dest)
        return dest

    def check_upload_size(self, safe: str, size: int) -> None:
        # One message for the API and the UI, in the "file: problem — what to do" form.
        limit_mb = self.settings.max_file_mb
        if size > int(limit_mb * 1048576):
            size_mb = size / 1048576
            raise UploadError(f"{safe}: 文件过大（{size_mb:.1f} MB，上限 {limit_mb} MB） — 请拆分后上传")

    @staticmethod
    def _set_aside(dest: Path) -> None:
        if dest.exists():
            os.replace(dest, _previous(dest))

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestResult:
        return self.index.ingest(paths, progress=progress or (lambda *_: None))

    def _shared(self) -> bool:
        """Uploads live in the shared database (RAG_DATABASE_URL): any node serves them."""
        return hasattr(self.index.store, "put_upload")

    def upload_key(self, path: Path) -> str:
        """The document key of an upload: ``uploads/<name>`` on a shared database (the same on
        every node), else the path's key as for any ingested file."""
        return f"uploads/{path.name}" if self._shared() else source_key(path)

    def ingest_uploads(self, saved: Sequence[Path], progress: Progress | None = None) -> IngestResult:
        """Ingest files stored by save_upload*. A file that could not be ingested leaves the
        upload folder again and an earlier upload it replaced comes back, so a bad upload
        changes nothing on disk either (the index still holds the earlier version). On a
        shared database the ingested originals are stored in it too."""
        result: IngestResult | None = None
        keys = {str(p): self.upload_key(p) for p in saved}
        try:
            result = self.index.ingest(saved, progress or (lambda *_: None), keys=keys)
        finally:
            if result is None:  # the whole ingest failed (e.g. the index was busy)
                failed = set(keys.values())
            else:
                failed = {f.source for f in result.files if f.status == "error"}
            for path in saved:
                previous = _previous(path)
                if self._shared() and keys[str(path)] not in failed and path.exists():
                    self.index.store.put_upload(keys[str(path)], path.read_bytes())
                if keys[str(path)] in failed:
                    path.unlink(missing_ok=True)
                    if previous.exists():
                        os.replace(previous, path)
                else:
                    previous.unlink(missing_ok=True)
        return result

    # -- exports (the files a reviewer receives) -------------------------------------------
    def exports_dir(self) -> Path:
        path = Path(self.settings.index_dir) / "exports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _new_export_dir(self) -> tuple[str, Path]:
        root = self.exports_dir()
        kept = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in kept[: max(0, len(kept) - _KEEP_EXPORTS + 1)]:
            shutil.rmtree(old, ignore_errors=True)
        export_id = secrets.token_hex(8)
        path = root / export_id
        path.mkdir()
        return export_id, path

    def export_brief(self, brief) -> Export:
        """The brief as .docx (evidence table appended) and .md, its evidence table as .xlsx and
        .csv, in a fresh folder under the index (the newest few are kept)."""
        from rag.deliver.fonts import font_report
        from rag.export import write_brief_package

        export_id, path = self._new_export_dir()
        return Export(export_id, write_brief_package(brief, path), font_report())

    def export_draft(self, result, title: str = "") -> Export:
        """A draft (a DraftResult or its JSON) as .docx with its evidence, and the evidence as
        .xlsx and .csv."""
        from rag.deliver.fonts import font_report
        from rag.export import write_draft_package

        export_id, path = self._new_export_dir()
        return Export(export_id, write_draft_package(result, path, title), font_report())

    def export_report(self, report, title: str = "") -> Export:
        """A whole report (a ReportResult or its JSON) as .docx with the evidence of every
        section, and the evidence as .xlsx and .csv."""
        from rag.deliver.fonts import font_report
        from rag.export import write_report_package

        export_id, path = self._new_export_dir()
        return Export(export_id, write_report_package(report, path, title), font_report())

    def export_file(self, export_id: str, name: str) -> Path:
        """A file of an earlier export; only names inside that export's folder resolve."""
        if not _EXPORT_ID.fullmatch(export_id or ""):
            raise UploadError(f"{export_id!r}: 不是导出编号 — 请使用接口返回的下载地址")
        folder = self.exports_dir() / export_id
        path = folder / Path(name).name
        if not path.is_file() or path.parent != folder:
            raise FileNotFoundError(f"{export_id}/{name}: 导出文件不存在或已过期 — 请重新生成")
        return path

    def remove(self, source: str) -> tuple[str, int]:
        key = self.index.resolve_source(source)
        n = self.index.remove(key)
        uploaded = self.upload_dir() / Path(key).name
        if Path(key).parent.name == "uploads" and uploaded.exists():
            uploaded.unlink()
        if self._shared() and key.startswith("uploads/"):
            self.index.store.delete_upload(key)
        return key, n

    def upload_original(self, key: str) -> bytes | None:
        """The bytes of an uploaded original, from the shared database or this node's folder."""
        if self._shared():
            return self.index.store.get_upload(key)
        path = self.upload_dir() / Path(key).name
        return path.read_bytes() if Path(key).parent.name == "uploads" and path.is_file() else None


ProgressCallback = Callable[[str, int, int], None]

__all__ = ["DocumentError", "Export", "ProgressCallback", "Service", "UploadError", "safe_upload_name"]
