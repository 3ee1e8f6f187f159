"""A throwaway PostgreSQL server for the tests (a pytest plugin, loaded by conftest.py).

``pg_server`` (session): initdb in a temp dir, start on a free loopback port, stop at the end.
As root the server runs as the unprivileged user ``pgtest`` (created if missing), since
PostgreSQL refuses to run as root. ``pg_url`` (per test): a fresh, empty database on it.
``backend_settings``: hashed-embedder Settings, parametrized over sqlite and postgres.
Tests that need PostgreSQL are skipped, with the reason, where its binaries are absent
(Debian: ``apt-get install -y postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.settings import Settings

PG_USER = "pgtest"


def pg_bindir() -> Path | None:
    env = os.environ.get("RAG_TEST_PG_BINDIR")
    candidates = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists():
            return Path(c)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["su", PG_USER, "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]


class PgServer:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.data = root / "data"
        self.port = _free_port()
        self.user = PG_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", PG_USER], check=True)
            shutil.chown(self.root, PG_USER)
        run = {"check": True, "capture_output": True, "timeout": 120}
        subprocess.run(
            _as_user([str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user,
                      "-E", "UTF8", "--no-sync"]),
            **run,
        )  # fmt: skip
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        subprocess.run(
            _as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                      str(self.root / "log"), "-w", "start"]),
            **run,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            _as_user([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install -y postgresql, or RAG_TEST_PG_BINDIR)")
    root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    server = PgServer(bindir, root)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr!r} {log[-2000:]}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    return pg_server.create_database()


@pytest.fixture(params=["sqlite", "postgres"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Hashed-embedder Settings on each backend: the same test runs against both."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    return Settings(index_dir=tmp_path / "index", embedder="hash", database_url=url)
