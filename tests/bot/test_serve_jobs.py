"""The schedules of ``kpi serve`` in one workspace, on a fast clock: the Sheets sync on ``sheets.every``
runs without anyone asking; when it fails (the spreadsheet not shared with the service account) the
failure is logged, counted, reported to ``slack.admin_channel`` and the digest still posts; the next run
is the retry, and once the sheet is shared it writes the workbook."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.service.runner import Service
from bot.service.settings import ServeSettings
from fakes.sheets_api import FakeSheets
from serve_support import SHEET_ID, Running, run_service, service_definitions
from slack_requests import SECRET


@pytest.fixture
def sheets_fake() -> Iterator[FakeSheets]:
    fake = FakeSheets().start()
    yield fake
    fake.stop()


def wait_until(check: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_failing_sync_is_reported_and_retried_and_stops_no_other_job(
        slack: Any, sheets_fake: FakeSheets, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defs = service_definitions(demo_dir, tmp_path, one_digest=True)
    text = defs.read_text(encoding="utf-8")
    assert "  # every: 1h " in text
    assert text.count("schedule: every Monday 09:00") == 1
    text = text.replace("schedule: every Monday 09:00", 'schedule: "30 * * * *"')  # the digest hourly too
    defs.write_text(text.replace("  # every: 1h ", "  every: 1h  #"), encoding="utf-8")
    account = sheets_fake.service_account()
    sheet = sheets_fake.create_spreadsheet(SHEET_ID, shared_with=[])  # not shared yet: every sync fails
    (tmp_path / "sa.json").write_text(json.dumps(account))
    monkeypatch.setenv("KPI_SHEETS_SPREADSHEET", SHEET_ID)
    monkeypatch.setenv("GOOGLE_SHEETS_API_URL", sheets_fake.url)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_bot_token="xoxb-test",
                                  slack_signing_secret=SECRET, slack_api_url=slack.api_url, kpi_clock_speed=1800)
    service: Running
    for service in run_service(Service(settings, defs)):  # an hour in 2 s
        jobs = service.service.jobs
        assert "sheets:sync" in {j.id for j in jobs.scheduler.get_jobs()}
        failures = service.service.telemetry.job_failures.labels(job="sheets")

        def reported() -> list[Any]:
            return [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "#kpi-admin"]
        wait_until(lambda: failures._value.get() >= 1 and reported())
        (first, *_) = reported()
        assert "kpi job `sheets:sync` failed" in first.params["text"] and "next scheduled time" in first.params["text"]
        assert "share" in first.params["text"].lower() or "permission" in first.params["text"].lower()
        assert not [c for c in sheets_fake.calls if c.kind == "batchUpdate" and c.status == 200]  # nothing written
        # the other job goes on: the digest posts while the sync keeps failing
        wait_until(lambda: any(c.params.get("channel") == "#sales" for c in slack.calls_to("chat.postMessage")))
        assert sheet.shared_with == set() and failures._value.get() >= 1

        sheet.shared_with.add(account["client_email"])  # fixed: the next run is the retry
        syncs = service.service.telemetry.syncs.labels(trigger="schedule", result="ok")
        wait_until(lambda: syncs._value.get() >= 1)
        assert sheets_fake.values(SHEET_ID, "KPIs by month") and sheets_fake.values(SHEET_ID, "Sync status")
        assert service.service.health()["jobs"] == ["digest:0:monday-sales", "sheets:sync"]


def test_settings_from_dotenv_reach_the_definitions_and_the_sync(sheets_fake: FakeSheets, demo_dir: Path,
                                                                 tmp_path: Path) -> None:
    """Everything in ``.env`` and nothing in the environment: the definitions' ``${KPI_SHEETS_SPREADSHEET}``
    and the sync's ``GOOGLE_APPLICATION_CREDENTIALS`` read what ``kpi serve`` validated (a real process)."""
    import httpx

    from serve_support import bearer, create_key, free_port, output, start_serve, wait_healthy

    defs = service_definitions(demo_dir, tmp_path)
    account = sheets_fake.service_account()
    sheets_fake.create_spreadsheet(SHEET_ID, shared_with=[account["client_email"]])
    (tmp_path / "sa.json").write_text(json.dumps(account))
    (tmp_path / ".env").write_text(f"KPI_STATE_DIR={tmp_path / 'state'}\nKPI_SHEETS_SPREADSHEET={SHEET_ID}\n"
                                   f"GOOGLE_APPLICATION_CREDENTIALS={tmp_path / 'sa.json'}\n"
                                   f"GOOGLE_SHEETS_API_URL={sheets_fake.url}\nSLACK_BOT_TOKEN=\n", encoding="utf-8")
    token = create_key(defs, {}, "--scope", "sync", "--name", "dotenv")
    port = free_port()
    proc = start_serve(defs, {}, "--port", str(port))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/sync", json={"tab": "KPIs by month"}, headers=bearer(token),
                       timeout=120)
        assert r.status_code == 200 and r.json()["ok"], r.text + output(proc)[-3000:]
        assert r.json()["spreadsheet"] == SHEET_ID and sheets_fake.values(SHEET_ID, "KPIs by month")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert (tmp_path / "state" / "bot.sqlite3").is_file()


def test_stop_lets_slack_answers_being_computed_finish(slack: Any, demo_dir: Path, tmp_path: Path) -> None:
    """SIGTERM's second half (after uvicorn drained): a slash-command answer still being computed, acked
    with "working on it", is delivered before the service lets go."""
    from slack_requests import command_body, post, signed_headers

    defs = service_definitions(demo_dir, tmp_path, one_digest=True)
    settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_bot_token="xoxb-test",
                                  slack_signing_secret=SECRET, slack_api_url=slack.api_url)
    service = Service(settings, defs)
    running = Running(service)
    pool = service.slack.kpi.pool
    gate = threading.Event()
    for _ in range(pool.workers):  # every answer worker busy for a moment
        pool.submit(lambda: gate.wait(30), lambda _: None)
    reply_to = slack.response_url()
    body = command_body("win_rate last-quarter", response_url=reply_to)  # queued behind them: acked at once
    status, ack, _ = post(running.url + "/slack/events", body, signed_headers(body))
    assert status == 200 and "Win rate" not in json.dumps(ack)
    threading.Timer(1.0, gate.set).start()
    running.stop()  # uvicorn has drained; the answer is still queued
    (answer,) = slack.wait_for("response_url", timeout=1)
    assert "Win rate" in json.dumps(answer.params) and pool.pending == 0


def test_one_hot_reload_for_the_api_the_schedules_and_slack(slack: Any, demo_dir: Path, tmp_path: Path) -> None:
    """An edit of definitions.yaml under a running service: the API answers from it and the schedules
    follow it; a broken edit keeps the last good definitions serving and is reported to the admin channel."""
    import httpx

    from serve_support import bearer

    defs = service_definitions(demo_dir, tmp_path, one_digest=True)
    settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_bot_token="xoxb-test",
                                  slack_signing_secret=SECRET, slack_api_url=slack.api_url)
    for running in run_service(Service(settings, defs)):
        token = running.service.keys.create(scopes={"query"}, name="reload")[1]

        def label() -> str:
            r = httpx.get(running.url + "/v1/query", params={"q": "win_rate last-quarter", "as_of": "2026-11-27"},
                          headers=bearer(token), timeout=60)
            return r.json()["label"]

        def jobs() -> set[str]:
            return {j.id for j in running.service.jobs.scheduler.get_jobs()}
        assert label() == "Win rate" and jobs() == {"digest:0:monday-sales"}
        text = defs.read_text(encoding="utf-8")
        assert "label: Win rate\n" in text and "- name: monday-sales\n" in text
        edited = text.replace("label: Win rate\n", "label: Win rate (edited)\n").replace(
            "- name: monday-sales\n", "- name: tuesday-sales\n")
        defs.write_text(edited, encoding="utf-8")
        wait_until(lambda: label() == "Win rate (edited)" and jobs() == {"digest:0:tuesday-sales"}, timeout=60)

        defs.write_text(edited.replace("\nmeasures:", "\nmeasurez:", 1), encoding="utf-8")
        wait_until(lambda: any(c.params.get("channel") == "#kpi-admin" and "measurez" in c.params.get("text", "")
                               for c in slack.calls_to("chat.postMessage")), timeout=60)
        assert label() == "Win rate (edited)" and jobs() == {"digest:0:tuesday-sales"}
