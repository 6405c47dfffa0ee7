"""Throwaway servers for the warehouse tests: a private PostgreSQL and a local Spark session.

    server = start_postgres()          # initdb into a temp dir, free port, unix socket in the dir
    server.url                         # postgresql://kpi@127.0.0.1:PORT/postgres
    server.stop()                      # pg_ctl stop + remove the directory

Each function raises ``Unavailable(reason)`` when a binary is missing; the pytest fixtures in
``conftest.py`` turn that into a skip that names the reason (or a failure under
``KPI_REQUIRE_SERVICES=1``, which CI sets). Also used by ``bench/bench_engines.py``.

PostgreSQL refuses to run as root, so as root the server runs as a dedicated system user
(``kpi_pg``, created on first use) through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

PG_USER = "kpi_pg"
# autovacuum off: its ANALYZE takes a transaction id and writes WAL at moments no test chooses, and
# both are data versions (result cache, rollup stamps); the tests VACUUM ANALYZE after loading instead.
PG_FAST = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
           "-c max_connections=50 -c shared_buffers=128MB -c autovacuum=off")


class Unavailable(Exception):
    """A service the tests need cannot be started here; the message says why and how to fix it."""


def unavailable(reason: str) -> NoReturn:
    """Skip the test with ``reason``; under KPI_REQUIRE_SERVICES=1 (CI) fail it instead."""
    import pytest

    if os.environ.get("KPI_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable (KPI_REQUIRE_SERVICES=1): {reason}", pytrace=False)
    pytest.skip(reason)


def pg_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    bindirs = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    bindirs.sort(key=lambda d: float(d.parent.name) if d.parent.name.replace(".", "").isdigit() else 0.0)
    return bindirs[-1] if bindirs else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    port: int
    bindir: Path
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql://kpi@127.0.0.1:{self.port}/postgres"

    @property
    def socket_url(self) -> str:
        return f"postgresql://kpi@/postgres?host={self.root}&port={self.port}"

    def stop(self) -> None:
        _run(self, [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.root / "data"), "-m", "immediate", "-w"],
             check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run(server: PostgresServer, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    if server.run_as:
        argv = ["runuser", "-u", server.run_as, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    if check and done.returncode != 0:
        raise Unavailable(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return done


def _ensure_user(name: str) -> None:
    """Create the system user PostgreSQL runs as when the tests run as root."""
    if subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
        return
    if not shutil.which("useradd"):
        raise Unavailable(f"running as root and cannot create user '{name}' for PostgreSQL (no useradd)")
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                   check=True, capture_output=True)


def start_postgres(parent: str | None = None) -> PostgresServer:
    """Start a private PostgreSQL server (trust auth, user 'kpi') and return it, ready to accept."""
    bindir = pg_bindir()
    if bindir is None:
        raise Unavailable("PostgreSQL server binaries not found (initdb/pg_ctl on PATH or under "
                          "/usr/lib/postgresql/*/bin); install with: apt-get install -y postgresql")
    run_as = None
    if os.geteuid() == 0 and parent is None:
        parent = "/tmp"  # not $TMPDIR: it may be private to root, and the server user must reach it
    root = Path(tempfile.mkdtemp(prefix="kpi-pg-", dir=parent))
    if os.geteuid() == 0:
        run_as = PG_USER
        _ensure_user(PG_USER)
        os.chmod(root, 0o755)
        shutil.chown(root, PG_USER, PG_USER)
    server = PostgresServer(root=root, port=free_port(), bindir=bindir, run_as=run_as)
    _run(server, [str(bindir / "initdb"), "-D", str(root / "data"), "-U", "kpi", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync"])
    opts = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 {PG_FAST}"
    _run(server, [str(bindir / "pg_ctl"), "start", "-D", str(root / "data"), "-o", opts,
                  "-l", str(root / "server.log"), "-w", "-t", "60"])
    return server


def java_home() -> str | None:
    """Where Java is (JAVA_HOME or java on PATH), or None."""
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return home
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def check_spark() -> None:
    """Raise Unavailable unless pyspark imports and Java is installed."""
    try:
        import pyspark  # noqa: F401
    except ImportError as e:
        raise Unavailable("pyspark is not installed; install with: pip install 'kpi[spark]'") from e
    if java_home() is None:
        raise Unavailable("Java not found (JAVA_HOME or java on PATH) for Spark local mode; "
                          "install with: apt-get install -y openjdk-17-jre-headless")
