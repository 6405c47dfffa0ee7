"""`kpi serve --port N` listens on 127.0.0.1:N only, unless `--host` says otherwise (a real process).

Linux routes all of 127.0.0.0/8 to the loopback interface: a server bound to 127.0.0.1 refuses a
connection to 127.0.0.2, one bound to 0.0.0.0 (every interface) accepts it. Elsewhere 127.0.0.2 may not
exist, so there the test checks the address the service says it bound and that 127.0.0.1 answers."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from serve_support import free_port, output, service_definitions, start_serve, wait_healthy

LOOPBACK_8 = sys.platform.startswith("linux")  # all of 127.0.0.0/8 reaches the loopback interface


def reachable(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("host", [None, "0.0.0.0"])
def test_port_binds_loopback_unless_host_says_otherwise(host: str | None, demo_dir: Path, tmp_path: Path) -> None:
    defs = service_definitions(demo_dir, tmp_path)
    port = free_port()
    proc = start_serve(defs, {"KPI_STATE_DIR": str(tmp_path / "state")}, "--port", str(port),
                       *(["--host", host] if host else []))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        if LOOPBACK_8:
            assert reachable(f"http://127.0.0.2:{port}") is (host == "0.0.0.0")
        assert f"API on http://{host or '127.0.0.1'}:{port}" in output(proc)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode == 0 and "kpi serve: stopped" in output(proc)
