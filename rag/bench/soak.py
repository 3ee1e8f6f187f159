"""A bounded soak of the HTTP API on 127.0.0.1: N client threads send search requests
(and health checks) for a fixed time, then it stops and reports counts and latency.

Only loopback addresses are accepted as targets."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import httpx

QUERIES = ("化眉村的茶叶加工厂有多大", "安全生产检查", "党员教育", "存在问题", "下步打算", "村集体经济增收")
_LOOPBACK = ("127.", "localhost", "::1")


class SoakError(ValueError):
    pass


def _check_target(url: str) -> None:
    host = urlparse(url).hostname or ""
    if not host.startswith(_LOOPBACK) and host != "::1":
        raise SoakError(f"{url}: soak 只允许打本机地址（127.0.0.1 / localhost）")


@contextmanager
def local_server(settings) -> Iterator[str]:
    """Serve the app from these settings on a free loopback port for the soak's duration."""
    import socket

    import uvicorn

    from ui.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise SoakError("the local server did not start within 60 s")
        time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def soak(url: str, *, clients: int = 8, seconds: float = 20.0, auth: tuple[str, str] | None = None) -> dict:
    _check_target(url)
    if not 1 <= clients <= 256 or not 0 < seconds <= 3600:
        raise SoakError("clients 应在 1–256，seconds 应在 0–3600 之间")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        with httpx.Client(base_url=url, auth=auth, timeout=30) as http:
            i = n
            while time.monotonic() < stop_at:
                i += 1
                t0 = time.perf_counter()
                try:
                    if i % 10 == 0:
                        r = http.get("/api/health")
                    else:
                        r = http.post("/api/search", json={"query": QUERIES[i % len(QUERIES)], "k": 5})
                    ok = r.status_code == 200
                    problem = None if ok else f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    problem = type(exc).__name__
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    wall = time.perf_counter() - t0
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else 0.0

    return {
        "url": url,
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "requests_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
    }
