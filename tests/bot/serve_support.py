"""Test helpers for ``kpi serve``: a copy of the demo definitions with the service's rules, an in-process
Service on a real uvicorn server (127.0.0.1, port 0), and a ``kpi serve`` subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx

KPI = str(Path(sys.executable).with_name("kpi"))
SHEET_ID = "sheet-serve"

# The shipped section plus: an API key allowed the restricted metrics, who may run /kpi sync.
SERVICE_RULES = ('      channels: ["#leadership", "#revops"]\n',
                 '      channels: ["#leadership", "#revops"]\n      keys: [finance-sheet]\n')


def service_definitions(demo_dir: Path, into: Path, *, extra: str = "") -> Path:
    """demo definitions + demo.duckdb copied into ``into``; ``extra`` YAML appended (e.g. a sheets: section)."""
    shutil.copy(demo_dir / "demo.duckdb", into / "demo.duckdb")
    text = (demo_dir / "definitions.yaml").read_text(encoding="utf-8")
    assert SERVICE_RULES[0] in text
    text = text.replace(*SERVICE_RULES) + '  sync:\n    users: [U0ADMIN]\n' + extra
    (into / "definitions.yaml").write_text(text, encoding="utf-8")
    return into / "definitions.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    """A Service served by uvicorn on a thread; ``url`` is its root."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.server = service.http_server(host="127.0.0.1", port=free_port())
        self.url = f"http://127.0.0.1:{self.server.config.port}"
        service.start_background()
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "uvicorn did not stop"
        self.service.stop()


def run_service(service: Any) -> Iterator[Running]:
    running = Running(service)
    try:
        yield running
    finally:
        running.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def start_serve(defs: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    """``kpi serve`` as a real process, with no Slack or Google settings but those in ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    return subprocess.Popen([KPI, "serve", "-d", str(defs), *args], env={**clean, **env}, cwd=defs.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(f"{url}/healthz", timeout=2)
            if r.status_code == 200:
                return r.json()
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.communicate(timeout=5)[0] if proc.poll() is not None else "(still running)"
            raise AssertionError(f"kpi serve did not come up:\n{out}")
        time.sleep(0.2)


def create_key(defs: Path, env: dict[str, str], *args: str) -> str:
    """`kpi api keys create ...` as a user runs it; the key is the last line of stdout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    out = subprocess.run([KPI, "api", "keys", "create", *args], env={**clean, **env}, cwd=defs.parent,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.rstrip("\n").splitlines()[-1]
