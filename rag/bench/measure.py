"""Measuring for the benchmarks: machine load, peak RSS per phase, latency percentiles.

Peak RSS per phase: on Linux the kernel's high-water mark (``VmHWM``) is reset before each
phase by writing ``5`` to ``/proc/self/clear_refs``, so a phase's peak is its own and not
the process's peak so far. Where that is not possible the figure falls back to
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the peak since the process started) and the
``method`` field says so. RSS includes native memory (Chroma's HNSW, llama.cpp, numpy),
which ``tracemalloc`` would not see.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(field: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mb() -> float | None:
    """Current resident set size of this process, MB."""
    kb = _status_kb("VmRSS")
    return round(kb / 1024, 1) if kb is not None else None


def _maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter for this process; False where unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def load() -> dict[str, Any]:
    """The machine's load (1/5/15-minute averages) and CPU count, printed beside every figure."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return {"cpus": os.cpu_count()}
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m": round(one, 2),
        "loadavg_5m": round(five, 2),
        "loadavg_15m": round(fifteen, 2),
    }


class Phase:
    """Figures of one measured phase; filled in when its ``with`` block ends."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds: float | None = None
        self.cpu_seconds: float | None = None
        self.peak_rss_mb: float | None = None
        self.rss_start_mb: float | None = None
        self.rss_end_mb: float | None = None
        self.method = ""
        self.load_start: dict[str, Any] = {}
        self.load_end: dict[str, Any] = {}

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "peak_rss_mb": self.peak_rss_mb,
            "rss_start_mb": self.rss_start_mb,
            "rss_end_mb": self.rss_end_mb,
            "rss_method": self.method,
            "load_start": self.load_start,
            "load_end": self.load_end,
        }


@contextmanager
def phase(name: str) -> Iterator[Phase]:
    """Time a block (wall and process CPU seconds) and record its peak RSS (see the module doc)."""
    p = Phase(name)
    p.load_start = load()
    p.rss_start_mb = rss_mb()
    own_peak = reset_peak() and _status_kb("VmHWM") is not None
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        yield p
    finally:
        p.seconds = round(time.perf_counter() - t0, 3)
        p.cpu_seconds = round(time.process_time() - c0, 3)
        p.rss_end_mb = rss_mb()
        if own_peak:
            p.peak_rss_mb = round((_status_kb("VmHWM") or 0) / 1024, 1)
            p.method = "VmHWM reset at phase start"
        else:
            p.peak_rss_mb = _maxrss_mb()
            p.method = "ru_maxrss: process peak so far"
        p.load_end = load()


# ------------------------------------------------------------------------- latency


def stats_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p95, mean and max of a list of durations, in milliseconds."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    ms = np.asarray(seconds, dtype=float) * 1000
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "max_ms": round(float(ms.max()), 2),
    }


def time_alternating(
    systems: Mapping[str, Callable[[str], object]],
    queries: Sequence[str],
    limits: Mapping[str, int] | None = None,
) -> dict[str, dict[str, float]]:
    """Seconds per (system, query). Systems are called alternately, the order flipping each
    query, so drift on a shared machine hits all of them; ``limits`` caps a slow system."""
    limits = limits or {}
    names = list(systems)
    out: dict[str, dict[str, float]] = {name: {} for name in names}
    for i, q in enumerate(queries):
        for name in names if i % 2 == 0 else reversed(names):
            if i >= limits.get(name, len(queries)):
                continue
            t0 = time.perf_counter()
            systems[name](q)
            out[name][q] = time.perf_counter() - t0
    return out


class Clock:
    """Wall and CPU seconds per lap (CPU time is steadier than wall time on a shared machine)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.laps[f"{name}_s"] = round(wall - self._wall, 2)
        self.laps[f"{name}_cpu_s"] = round(cpu - self._cpu, 2)
        self._wall, self._cpu = wall, cpu
