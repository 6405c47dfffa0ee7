"""``kpi serve`` as a real process: the API, Slack over HTTP on the same port, a digest on a fast clock,
Sheets syncs from POST /v1/sync and from ``/kpi sync`` against the loopback Slack and Sheets fakes,
and a SIGTERM in the middle of a sync that still leaves the sheet complete."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from fakes.sheets_api import FakeSheets
from serve_support import (SHEET_ID, bearer, create_key, free_port, output, service_definitions, start_serve,
                           wait_healthy)
from slack_requests import SECRET, command_body, post, signed_headers

SPEED = "151200"  # a week in 4 seconds: "every Monday 09:00" comes round at once


@pytest.fixture
def sheets_fake() -> Iterator[FakeSheets]:
    fake = FakeSheets().start()
    yield fake
    fake.stop()


@pytest.fixture
def served(slack: Any, sheets_fake: FakeSheets, demo_dir: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    defs = service_definitions(demo_dir, tmp_path, one_digest=True)
    account = sheets_fake.service_account()
    sheets_fake.create_spreadsheet(SHEET_ID, shared_with=[account["client_email"]])
    (tmp_path / "sa.json").write_text(json.dumps(account))
    port = free_port()
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
           "KPI_STATE_DIR": str(tmp_path / "state"), "KPI_CLOCK_SPEED": SPEED, "KPI_SHUTDOWN_GRACE": "30",
           "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "sa.json"), "GOOGLE_SHEETS_API_URL": sheets_fake.url,
           "KPI_SHEETS_SPREADSHEET": SHEET_ID, "PYTHONFAULTHANDLER": "1"}
    token = create_key(defs, env, "--scope", "query", "--scope", "sync", "--name", "e2e")
    proc = start_serve(defs, env, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        health = wait_healthy(url, proc)
        yield {"proc": proc, "url": url, "token": token, "health": health}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def tab_values(fake: FakeSheets, title: str) -> list[list[Any]]:
    return fake.values(SHEET_ID, title)


def test_one_process_answers_posts_and_syncs(served: dict[str, Any], slack: Any, sheets_fake: FakeSheets) -> None:
    url, token = served["url"], served["token"]
    assert served["health"]["slack"] == "http" and "digest:0:monday-sales" in served["health"]["jobs"]

    r = httpx.get(f"{url}/v1/query", params={"q": "win_rate last-quarter", "as_of": "2026-11-27"},
                  headers=bearer(token), timeout=60)
    assert r.status_code == 200 and r.json()["metric"] == "win_rate"

    # the digest, on the fast clock
    try:
        posts = slack.wait_for("chat.postMessage", timeout=90)
    except AssertionError as e:
        served["proc"].send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack into the log
        time.sleep(3)
        raise AssertionError(f"{e}\nkpi serve's log:\n{output(served['proc'])[-15000:]}") from None
    assert any(p.params.get("channel") == "#sales" and "monday-sales" in json.dumps(p.params.get("blocks"))
               for p in slack.wait_for("chat.postMessage", count=len(posts), timeout=1))

    # a sync from the API
    r = httpx.post(f"{url}/v1/sync", json={"tab": "KPIs by month"}, headers=bearer(token), timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] and "KPIs by month" in r.json()["tabs"] and r.json()["spreadsheet"] == SHEET_ID
    month = tab_values(sheets_fake, "KPIs by month")
    assert month and any(isinstance(v, (int, float)) for row in month for v in row)

    # a sync from Slack, on the same port: refused for a user slack.sync does not list, run for one it does
    events = f"{url}/slack/events"
    body = command_body("sync", user="U0BOB")
    status, ack, _ = post(events, body, signed_headers(body))
    assert status == 200 and "may not run a Sheets sync" in ack["text"]
    reply_to = slack.response_url()
    body = command_body("sync KPIs by segment", user="U0ADMIN", response_url=reply_to)  # one tab
    status, ack, _ = post(events, body, signed_headers(body))
    assert status == 200
    if "Synced" not in ack["text"]:  # not done within the ack budget: the answer follows
        (done,) = [c for c in slack.wait_for("response_url", timeout=120) if c.params.get("text", "").startswith("Synced")]
        ack = done.params
    assert ack["text"].startswith("Synced 2 tabs (KPIs by segment, Sync status)"), ack["text"]  # that tab alone
    assert tab_values(sheets_fake, "KPIs by segment")

    metrics = httpx.get(f"{url}/metrics").text
    assert 'kpi_sync_runs_total{result="ok",trigger="api"} 1.0' in metrics
    assert 'kpi_sync_runs_total{result="ok",trigger="slack"} 1.0' in metrics


def test_sigterm_during_a_sync_lets_it_finish(served: dict[str, Any], sheets_fake: FakeSheets) -> None:
    """The write is held up by a 429 with Retry-After: 2 when SIGTERM arrives; the sync still ends with
    the whole workbook written, the request gets its answer, and the process exits by itself."""
    url, token, proc = served["url"], served["token"], served["proc"]
    sheets_fake.fail("batchUpdate", 429, times=1, retry_after="2")
    answer: dict[str, Any] = {}

    def sync() -> None:
        answer["r"] = httpx.post(f"{url}/v1/sync", headers=bearer(token), timeout=120)
    thread = threading.Thread(target=sync)
    thread.start()
    deadline = time.monotonic() + 120
    while not [c for c in sheets_fake.calls if c.kind == "batchUpdate" and c.status == 429]:
        assert time.monotonic() < deadline and thread.is_alive(), "the sync never reached its write"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    thread.join(timeout=90)
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:  # show where it hangs: PYTHONFAULTHANDLER dumps every thread on SIGABRT
        proc.send_signal(signal.SIGABRT)
        proc.wait(timeout=10)
        raise AssertionError("kpi serve did not stop:\n" + output(proc)[-20000:]) from None
    out = output(proc)
    assert answer["r"].status_code == 200, answer["r"].text
    assert answer["r"].json()["ok"] and proc.returncode == 0, out
    assert "kpi serve: stopped" in out and "Traceback" not in out
    written = [c for c in sheets_fake.calls if c.kind == "batchUpdate" and c.status == 200]
    assert written, "the held-up write was never retried"
    status = tab_values(sheets_fake, "Sync status")
    assert any("ok" in [str(v) for v in row] for row in status), status
    for title in ("KPIs by month", "KPIs by segment", "Definitions"):
        assert tab_values(sheets_fake, title), f"{title} missing"
