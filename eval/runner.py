"""Run a suite: every case for every prompt variant of its task (the matrix), with a cache.

A run is one JSONL file under ``runs_dir`` (default ``eval/runs/``, git-ignored): a ``run``
line (provenance: git commit, prompt ids and hashes, model, embedder, settings, suite hash),
one ``cell`` line per case × variant, and a ``summary`` line (per-variant metrics and
threshold results). The cache (``runs_dir/cache``) maps (harness version, task, prompt hash,
model, embedder, corpus hashes, case inputs, generation settings) to an observation, so an
unchanged cell is not recomputed; assertions and thresholds are always re-evaluated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eval.metrics import aggregate, failed_assertions, threshold_results
from eval.scripted import CaseScriptedLLM, CountingLLM
from eval.suite import Case, Suite
from eval.tasks import Cell, error_obs, run_cell, summarize_files
from rag.fusion import load_fusion
from rag.index.index import Index
from rag.llm.base import LLM
from rag.llm.factory import create_llm
from rag.prompts import list_variants, load_prompt
from rag.settings import Settings

HARNESS_VERSION = 2  # bump when observations change shape: old cache entries stop matching
RUNS_DIR = Path("eval/runs")
# Settings that change what a cell produces (the rest, e.g. paths, do not).
_KEY_SETTINGS = (
    "temperature", "max_tokens", "n_ctx", "top_k", "candidates", "rrf_k", "chunk_max_chars",
    "chunk_min_chars", "local_model", "llm_model", "llm_base_url",
)  # fmt: skip

Progress = Callable[[int, int, dict], None]


@dataclass
class Run:
    id: str
    path: Path
    header: dict
    cells: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.summary.get("passed"))

    def to_json(self) -> dict:
        return {
            "run_id": self.id,
            "path": str(self.path),
            "suite": self.header["suite"]["name"],
            "model": self.header["model"],
            **self.summary,
            "cells": [
                {k: c[k] for k in ("case", "task", "variant", "passed", "failures", "cached")}
                | {"latency_s": c["metrics"].get("latency_s")}
                for c in self.cells
            ],
        }


def _sha(obj: object) -> str:
    return hashlib.sha256(
        json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str).encode()
    ).hexdigest()


def git_commit(root: Path | None = None) -> dict:
    """Read-only: HEAD and whether the work tree has changes (None outside a repository)."""
    root = root or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if head.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def suite_settings(suite: Suite, settings: Settings, model: str | None = None) -> Settings:
    update: dict = dict(suite.settings)
    if suite.embedder:
        update["embedder"] = suite.embedder
    if model and model != "scripted":
        update["llm_model" if settings.llm_base_url else "local_model"] = model
    # Re-validated, so a suite's `max_tokens: "300"` is an int and a typo'd value an error.
    return Settings(**(settings.model_dump() | update)) if update else settings


def corpus_index(paths: list[Path], settings: Settings, runs_dir: Path) -> Index:
    """``paths`` in their own persistent index under ``runs_dir/index`` (one per embedder and
    corpus; ingest is idempotent, so it is instant when nothing changed)."""
    from rag.documents.files import source_key

    tag = _sha([settings.embedder, sorted(source_key(p) for p in paths)])[:10]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", settings.embedder)[:40]
    cfg = settings.model_copy(update={"index_dir": runs_dir / "index" / f"{name}-{tag}", "chroma_url": None})
    index = Index(cfg)
    result = index.ingest(paths)
    errors = [f.error for f in result.files if f.status == "error"]
    if errors:
        raise ValueError(f"评测语料导入失败：{errors[0]}")
    return index


def suite_index(suite: Suite, settings: Settings, runs_dir: Path) -> Index:
    return corpus_index([*suite.corpus_paths(), *summarize_files(suite)], settings, runs_dir)


def prompt_task(task: str) -> str:
    """The prompts/ folder a task's variants live in (summarize condenses items per report)."""
    if task != "summarize":
        return task
    try:
        from rag.brief.summarize import TASK
    except ImportError:
        return "summarize_item"
    return TASK


def variant_matrix(
    suite: Suite, settings: Settings, override: dict[str, list[str]] | None
) -> dict[str, list[str]]:
    """task → variants: --variant wins, then the suite's list, then every prompt file of the task."""
    out = {}
    for task in sorted({c.task for c in suite.cases}):
        files = list_variants(settings, prompt_task(task))
        out[task] = (override or {}).get(task) or suite.variants.get(task) or files or ["default"]
    return out


def prompt_hash(settings: Settings, task: str, variant: str) -> str:
    return load_prompt(settings, prompt_task(task), variant).hash


def _case_llm(case: Case, shared: LLM | None) -> LLM:
    if shared is None:
        llm = CaseScriptedLLM(default=case.reply or "未在资料中找到相关内容。")
        for sub, p in case.judge_yes.items():
            llm.on_yes(sub, p)
        return llm
    assert shared is not None
    return shared


class Cache:
    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root, self.enabled = root, enabled

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        if not self.enabled or not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None  # a torn write is a miss, not a failure

    def put(self, key: str, obs: dict) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(obs, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # atomic: a concurrent reader sees all or nothing


def run_suite(
    suite: Suite,
    settings: Settings,
    *,
    llm: LLM | None = None,
    index: Index | None = None,
    variants: dict[str, list[str]] | None = None,
    model: str | None = None,
    runs_dir: Path = RUNS_DIR,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> Run:
    settings = suite_settings(suite, settings, model)
    index = index or suite_index(suite, settings, runs_dir)
    scripted = suite.llm == "scripted" or model == "scripted"
    shared = None if scripted else (llm or create_llm(settings))
    model_id = "scripted" if shared is None else shared.model_id
    matrix = variant_matrix(suite, settings, variants)
    hashes = {f"{t}/{v}": prompt_hash(settings, t, v) for t, vs in matrix.items() for v in vs}
    judge_hash = load_prompt(settings, "judge").hash if suite.judge else None
    corpus = sorted((d["source"], d["sha256"]) for d in index.store.documents())
    cache = Cache(runs_dir / "cache", use_cache)
    fusion = load_fusion(index.settings).describe()

    started = dt.datetime.now(dt.UTC)
    run_id = f"{started:%Y%m%d-%H%M%S}-{suite.name}-{_sha([started.isoformat(), os.getpid()])[:6]}"
    header = {
        "type": "run",
        "run_id": run_id,
        "started": started.isoformat(),
        "suite": {"name": suite.name, "path": str(suite.path), "sha256": suite.sha256},
        "git": git_commit(),
        "model": model_id,
        "embedder": index.embedder.id,
        "prompts": hashes,
        "judge_prompt": judge_hash,
        "variants": matrix,
        "corpus": [{"source": s, "sha256": h} for s, h in corpus],
        "settings": settings.model_dump(mode="json", exclude={"llm_api_key"}),
        "fusion": fusion,  # the weights in force, not only the file's name: they change retrieval
        "python": platform.python_version(),
    }
    run = Run(run_id, runs_dir / f"{run_id}.jsonl", header)
    todo = [(case, v) for case in suite.cases for v in matrix[case.task]]
    warm = shared is None  # a model loads on first use: keep that out of the first cell's latency
    for n, (case, variant) in enumerate(todo, 1):
        prompt_id = f"{case.task}/{variant}"
        key = _sha(
            {
                "v": HARNESS_VERSION,
                "task": case.task,
                "prompt": hashes[prompt_id],
                "model": model_id,
                "embedder": index.embedder.id,
                "corpus": corpus,
                "case": case.inputs(),
                "k": suite.k,
                "judge": judge_hash,
                "fusion": {k: v for k, v in fusion.items() if k != "source"},  # a path is per machine
                "settings": {k: getattr(settings, k) for k in _KEY_SETTINGS},
            }
        )
        obs = cache.get(key)
        cached = obs is not None
        if obs is None:
            if not warm:
                shared.complete([{"role": "user", "content": "你好"}], max_tokens=1)
                warm = True
            case_llm = CountingLLM(_case_llm(case, shared))
            judge = case_llm.inner if suite.judge else None
            try:
                obs = run_cell(Cell(suite, case, variant, settings, index, case_llm, judge))
            except Exception as exc:  # one broken cell must not lose the run
                obs = error_obs(f"{type(exc).__name__}: {exc}")
            if not obs.get("error"):
                cache.put(key, obs)
        checks = case.checks.merged(suite.defaults)
        failures = failed_assertions(checks, obs)
        cell = {
            "type": "cell",
            "case": case.id,
            "task": case.task,
            "variant": variant,
            "prompt_id": prompt_id,
            "prompt_hash": hashes[prompt_id],
            "key": key,
            "cached": cached,
            "passed": not failures,
            "failures": failures,
            "structure": checks.structure,
            **{k: obs.get(k) for k in ("text", "output", "metrics", "check", "error")},
        }
        cell["metrics"] = cell["metrics"] or {}
        run.cells.append(cell)
        if progress:
            progress(n, len(todo), cell)
    run.summary = summarize_run(run, suite)
    write_run(run)
    return run


def summarize_run(run: Run, suite: Suite) -> dict:
    by_prompt: dict[str, list[dict]] = {}
    for c in run.cells:
        by_prompt.setdefault(c["prompt_id"], []).append(c)
    metrics = {pid: aggregate(cells) for pid, cells in by_prompt.items()}
    thresholds = threshold_results(metrics, suite.thresholds)
    return {
        "type": "summary",
        "variants": metrics,
        "thresholds": thresholds,
        "passed": all(t["passed"] for t in thresholds),
    }


def write_run(run: Run) -> None:
    run.path.parent.mkdir(parents=True, exist_ok=True)
    with run.path.open("w", encoding="utf-8") as fh:
        for record in (run.header, *run.cells, run.summary):
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def load_run(ref: str | Path, runs_dir: Path = RUNS_DIR) -> Run:
    """A run by path, by id, or by a unique id prefix/suffix in ``runs_dir``."""
    path = Path(ref)
    if not path.is_file():
        matches = sorted(runs_dir.glob(f"*{ref}*.jsonl")) if runs_dir.is_dir() else []
        if len(matches) != 1:
            hint = "有多个匹配，请给出完整 id" if matches else f"{runs_dir} 下没有"
            raise FileNotFoundError(f"找不到评测运行 {ref!r}：{hint}")
        path = matches[0]
    header, cells, summary = {}, [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        kind = record.get("type")
        if kind == "run":
            header = record
        elif kind == "cell":
            cells.append(record)
        elif kind == "summary":
            summary = record
    return Run(header.get("run_id", path.stem), path, header, cells, summary)
