"""Benchmarks: figures printed beside a baseline measured in the same run.

Never used by tests as timing assertions (shared, noisy machines)."""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rag.documents.files import iter_files
from rag.documents.load import load_document
from rag.index.embeddings import create_embedder
from rag.index.index import Index
from rag.settings import Settings


def bench_ingest(settings: Settings, path: Path, *, repeat: int = 3, ocr_pages: int = 4) -> dict[str, object]:
    """End-to-end ingest chunks/s vs the raw embedder on the same texts, then OCR pages/s
    (``bench_ocr``, skipped with ``ocr_pages=0``).

    Runs alternate (raw, pipeline, raw, pipeline …) so drift on a shared machine
    hits both sides; medians are reported.
    """
    figures = _bench_embed_ingest(settings, path, repeat=repeat)
    if ocr_pages:
        figures.update(bench_ocr(settings, path, pages=ocr_pages))
    return figures


def _bench_embed_ingest(settings: Settings, path: Path, *, repeat: int) -> dict[str, object]:
    embedder = create_embedder(settings)
    embedder.embed_passages(["预热"])  # load weights outside the timed region
    files = list(iter_files([path]))
    with tempfile.TemporaryDirectory() as tmp:
        probe = Index(settings.model_copy(update={"index_dir": Path(tmp) / "probe"}), embedder=embedder)
        texts = [c.embedding_text() for f in files for c in probe.chunk_document(load_document(f))]
        probe.close()

        raw_times, pipe_times, unchanged_times = [], [], []
        for i in range(repeat):
            t0 = time.perf_counter()
            embedder.embed_passages(texts)
            raw_times.append(time.perf_counter() - t0)

            run_settings = settings.model_copy(
                update={"index_dir": Path(tmp) / f"run{i}", "chroma_url": None, "collection": f"bench{i}"}
            )
            index = Index(run_settings, embedder=embedder)
            t0 = time.perf_counter()
            result = index.ingest([path])
            pipe_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = index.ingest([path])
            unchanged_times.append(time.perf_counter() - t0)
            assert again.count("unchanged") == len(files), "re-ingest of unchanged files changed the index"
            index.close()

    n = len(texts)
    raw = statistics.median(raw_times)
    pipe = statistics.median(pipe_times)
    return {
        "embedder": embedder.id,
        "files": len(files),
        "chunks": n,
        "chunks_ingested_per_run": result.to_json()["chunks"],
        "raw_embed_seconds": round(raw, 3),
        "raw_embed_chunks_per_s": round(n / raw, 1),
        "ingest_seconds": round(pipe, 3),
        "ingest_chunks_per_s": round(n / pipe, 1),
        "overhead_vs_raw": f"{(pipe / raw - 1) * 100:.1f}%",
        "overhead_target": "≤ 20%",
        "unchanged_reingest_seconds": round(statistics.median(unchanged_times), 3),
        "repeat": repeat,
    }


def _seed_text(path: Path, chars: int) -> str:
    folder = Path(path)
    texts = [f.read_text(encoding="utf-8") for f in sorted(folder.glob("*.txt"))] if folder.is_dir() else []
    text = "\n".join(texts) or "全年新修通村公路7.8公里，帮扶困难群众46户，完成投资179.25万元。\n"
    while len(text) < chars:
        text += "\n" + text
    return text[:chars]


def bench_ocr(settings: Settings, path: Path, *, pages: int = 4) -> dict[str, object]:
    """OCR pages/s of a scanned PDF (report text rendered as ``pages`` grainy A4 scans at
    200 dpi), through the pipeline (rag.documents.pdf_reader: render at ``ocr_dpi``, auto
    language on page 1, ``ocr_workers`` pages in parallel, normalise) against the baseline of
    the plain ``tesseract`` command (its own OpenMP threads, -l chi_sim --psm 4) run on the same
    rendered page images one after another, as a user would script it. No cache. The CPU model
    and the load average stand beside it: OCR speed is the CPU's, and on a shared machine what
    the other processes leave of it."""
    from rag.bench.scans import image_pdf, render_pages
    from rag.documents import ocr as engine
    from rag.documents.pdf_reader import _rendered, read_pdf
    from rag.llm.cpu import read_cpu_info

    cpu = read_cpu_info().summary()
    problem = engine.missing()
    if problem:
        return {"ocr": f"skipped: {problem} — 请安装 Debian 包 {engine.PACKAGES}", "cpu": cpu}
    images = render_pages(_seed_text(path, 900 * pages), dpi=200, scanned=True)[:pages]
    pdf = image_pdf(images, dpi=200)
    options = dataclasses.replace(engine.OcrOptions.from_settings(settings), cache_dir=None)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rag-bench-ocr-") as tmp:
        files = []
        for n, image in enumerate(_rendered(pdf, range(len(images)), options.dpi, "bench.pdf")):
            files.append(Path(tmp) / f"page{n}.png")
            image.save(files[-1])
        raw = _tesseract_cli(files, options.psm, options.page_timeout)
        # The same with one OpenMP thread: what each of the pipeline's processes runs with.
        raw_one = _tesseract_cli(files, options.psm, options.page_timeout, {"OMP_THREAD_LIMIT": "1"})
    t0 = time.perf_counter()
    _, text = read_pdf(pdf, "bench.pdf", options)
    pipe = time.perf_counter() - t0
    t0 = time.perf_counter()  # the same without the language probe: what parallel pages give
    read_pdf(pdf, "bench.pdf", dataclasses.replace(options, lang="chi_sim"))
    pipe_sim = time.perf_counter() - t0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_1min": f"{load_before:.1f} → {os.getloadavg()[0]:.1f} (other processes)",
        "tesseract": engine.version(),
        "ocr_pages": len(images),
        "ocr_dpi": options.dpi,
        "ocr_workers": options.workers,
        "ocr_lang": options.lang,
        "ocr_baseline_tesseract_cli_chi_sim_pages_per_s": round(len(images) / raw, 3),
        "ocr_tesseract_cli_one_thread_pages_per_s": round(len(images) / raw_one, 3),
        "ocr_pipeline_pages_per_s": round(len(images) / pipe, 3),
        "ocr_pipeline_vs_baseline": f"{raw / pipe:.2f}x",
        "ocr_pipeline_chi_sim_pages_per_s": round(len(images) / pipe_sim, 3),
        "ocr_pipeline_chi_sim_vs_baseline": f"{raw / pipe_sim:.2f}x",
        "ocr_mean_confidence": text.mean() if text else None,
    }


def _tesseract_cli(files: list[Path], psm: int, timeout: float, env: dict[str, str] | None = None) -> float:
    """Seconds the plain ``tesseract`` command takes for ``files``, one after another."""
    t0 = time.perf_counter()
    for file in files:
        subprocess.run(
            ["tesseract", str(file), "stdout", "-l", "chi_sim", "--psm", str(psm)],
            capture_output=True,
            check=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    return time.perf_counter() - t0
