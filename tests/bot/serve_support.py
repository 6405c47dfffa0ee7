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


def service_definitions(demo_dir: Path, into: Path, *, one_digest: bool = False) -> Path:
    """demo definitions + demo.duckdb copied into ``into``. ``one_digest``: the weekly digest alone (no
    monthly digest, no alerts), so a fast clock does not keep the engine busy with them."""
    shutil.copy(demo_dir / "demo.duckdb", into / "demo.duckdb")
    text = (demo_dir / "definitions.yaml").read_text(encoding="utf-8")
    assert SERVICE_RULES[0] in text and text.rstrip().endswith("schedule: every Monday 08:00")
    text = text.replace(*SERVICE_RULES)
    if one_digest:
        text = text[:text.index("    - name: monthly-leadership")]
    text += '  sync:\n    users: [U0ADMIN]\n'
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
    """``kpi serve`` as a real process, with no Slack or Google settings but those in ``env``. Its output
    goes to ``serve.log`` beside the definitions (a pipe nobody reads would fill up and block it)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    log = open(defs.parent / "serve.log", "w")  # noqa: SIM115 - the process owns it until it ends
    proc = subprocess.Popen([KPI, "serve", "-d", str(defs), *args], env={**clean, **env}, cwd=defs.parent,
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log_path = defs.parent / "serve.log"  # type: ignore[attr-defined]
    return proc


def output(proc: subprocess.Popen) -> str:
    return proc.log_path.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            r = httpx.get(f"{url}/healthz", timeout=15)
            if r.status_code == 200:
                return r.json()
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"kpi serve did not come up:\n{output(proc)}")
        time.sleep(0.2)


def create_key(defs: Path, env: dict[str, str], *args: str) -> str:
    """`kpi api keys create ...` as a user runs it; the key is the last line of stdout."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "KPI_"))}
    out = subprocess.run([KPI, "api", "keys", "create", *args], env={**clean, **env}, cwd=defs.parent,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.rstrip("\n").splitlines()[-1]
