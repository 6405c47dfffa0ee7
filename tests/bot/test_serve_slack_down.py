"""Slack unreachable at start (network down, wrong SLACK_API_URL): ``kpi slack serve`` stops with one clear
line; ``kpi serve`` says so once, keeps serving the API and the schedules, and connects when Slack answers
again (tenacity backoff), over HTTP and over Socket Mode."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx

from bot.service.runner import Service
from bot.service.settings import ServeSettings
from fakes.slack_api import FakeSlack
from serve_support import KPI, free_port, output, run_service, service_definitions, start_serve, wait_healthy
from slack_requests import SECRET


def test_slack_serve_with_slack_unreachable_is_one_clear_line(demo_dir: Path, tmp_path: Path) -> None:
    """Regression: this ended with "internal error: URLError"."""
    defs = service_definitions(demo_dir, tmp_path)
    dead = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KPI_"))}
    env = {**clean, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": f"http://127.0.0.1:{dead}/api/", "KPI_STATE_DIR": str(tmp_path / ".kpi")}
    out = subprocess.run([KPI, "slack", "serve", "-d", str(defs)], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    err = out.stderr.strip()
    assert out.returncode == 1 and "Traceback" not in err and "internal error" not in err
    assert err.splitlines()[-1].startswith(f"error: cannot reach Slack at 127.0.0.1:{dead} (auth.test: ")
    assert "check SLACK_API_URL, the network and any proxy" in err


def test_serve_keeps_the_api_up_and_connects_when_slack_comes_back(demo_dir: Path, tmp_path: Path) -> None:
    defs = service_definitions(demo_dir, tmp_path, one_digest=True)
    slack_port, port = free_port(), free_port()
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/", "KPI_STATE_DIR": str(tmp_path / "state")}
    proc = start_serve(defs, env, "--port", str(port))
    fake = None
    try:
        health = wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert health["slack"] == "http" and health["slack_connected"] is False
        log = output(proc)
        assert f"cannot reach Slack at 127.0.0.1:{slack_port} (auth.test: " in log
        assert "serving the API and the schedules, trying Slack again in the background" in log
        assert "Traceback" not in log and "internal error" not in log
        fake = FakeSlack().start(port=slack_port)  # Slack is back
        deadline = time.monotonic() + 30
        while not httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["slack_connected"]:
            assert time.monotonic() < deadline, output(proc)
            time.sleep(0.3)
        assert fake.calls_to("auth.test") and "Slack answers again" in output(proc)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if fake is not None:
            fake.stop()
    assert proc.returncode == 0, output(proc)


def test_socket_mode_connects_once_slack_answers(demo_dir: Path, tmp_path: Path) -> None:
    defs = service_definitions(demo_dir, tmp_path, one_digest=True)
    slack_port = free_port()
    settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_bot_token="xoxb-test",
                                  slack_app_token="xapp-test", slack_api_url=f"http://127.0.0.1:{slack_port}/api/")
    service = Service(settings, defs)
    fake = None
    try:
        for running in run_service(service):
            assert httpx.get(running.url + "/healthz", timeout=10).json()["slack_connected"] is False
            fake = FakeSlack().start(port=slack_port)
            fake.wait_ws_client(timeout=30)
            assert fake.calls_to("apps.connections.open")
            deadline = time.monotonic() + 10
            while not httpx.get(running.url + "/healthz", timeout=10).json()["slack_connected"]:
                assert time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        if fake is not None:
            fake.stop()
