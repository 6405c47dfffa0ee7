"""``kpi slack serve`` end to end: a real process, HTTP mode and Socket Mode, against the fake Slack."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot.serve import start_bot
from bot.settings import Settings
from slack_requests import command_body, post, signed_headers

KPI = str(Path(sys.executable).with_name("kpi"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def defs_copy(demo_dir: Path, tmp_path: Path) -> Path:
    shutil.copy(demo_dir / "definitions.yaml", tmp_path / "definitions.yaml")
    shutil.copy(demo_dir / "demo.duckdb", tmp_path / "demo.duckdb")
    return tmp_path / "definitions.yaml"


def run_serve(defs: Path, env: dict[str, str]) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.Popen([KPI, "slack", "serve", "-d", str(defs)], env={**clean, **env}, cwd=defs.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_serve_http_mode_answers_signed_commands(slack, defs_copy) -> None:
    port = free_port()
    proc = run_serve(defs_copy, {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "test-signing-secret",
                                 "SLACK_API_URL": slack.api_url, "KPI_BOT_PORT": str(port),
                                 "KPI_STATE_DIR": str(defs_copy.parent / ".kpi")})
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        body = command_body("win_rate last-quarter")
        deadline = time.monotonic() + 30
        while True:
            try:
                status, ack, _ = post(url, body, signed_headers(body))
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, stop(proc)
                time.sleep(0.2)
        assert status == 200 and ack["blocks"][0]["text"]["text"].startswith("Win rate:")
        assert post(url, body, signed_headers(body, secret="nope"))[0] == 401
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:  # only the headers are sent
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 413")
    finally:
        out = stop(proc)
    assert "trigger_id" not in out  # no request body reached the log
    assert "Traceback" not in out


def test_serve_socket_mode(slack, defs_copy) -> None:
    proc = run_serve(defs_copy, {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test",
                                 "SLACK_API_URL": slack.api_url, "KPI_STATE_DIR": str(defs_copy.parent / ".kpi")})
    try:
        slack.wait_for("apps.connections.open", timeout=30)
        slack.wait_ws_client(timeout=10)
        payload = dict(parse_qsl(command_body("win_rate ytd").decode()))
        slack.ws_send({"envelope_id": "e1", "type": "slash_commands", "payload": payload})
        (answer,) = [c for c in slack.wait_for("ws", count=2, timeout=15) if c.params.get("envelope_id") == "e1"]
        assert answer.params["payload"]["blocks"][0]["text"]["text"].startswith("Win rate:")
    finally:
        stop(proc)


def test_serve_without_settings_names_what_is_missing(defs_copy) -> None:
    proc = run_serve(defs_copy, {})
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "SLACK_BOT_TOKEN is not set" in out and "SLACK_SIGNING_SECRET is not set" in out
    assert "Traceback" not in out


def test_invalid_edit_is_reported_to_the_admin_channel(slack, defs_copy) -> None:
    bot = start_bot(defs_copy, Settings(bot_token="xoxb-test", signing_secret="s", api_url=slack.api_url,
                                        state_dir=defs_copy.parent / ".kpi"))
    try:
        time.sleep(0.5)
        defs_copy.write_text(defs_copy.read_text().replace("every Monday 09:00", "every Moonday 09:00"))
        (posted,) = slack.wait_for("chat.postMessage", timeout=15)
        assert posted.params["channel"] == "#kpi-admin"
        assert "Moonday" in posted.params["text"] and "definitions.yaml:" in posted.params["text"]
        assert bot.provider.current().config.digests[0].schedule == "every Monday 09:00"  # last good serving
        assert {j.id for j in bot.scheduler.get_jobs()} >= {"digest:0:monday-sales", "alert:win-rate-below-target"}
    finally:
        bot.stop()
