"""Schedules under a multi-workspace install: every installed workspace gets its own digests and alerts,
from its own definitions file or the shared one, posted with its own bot token (the loopback Slack fake
records the token of every call); one workspace failing (its token revoked) stops no other. The
service runs as under ``kpi serve`` (real uvicorn, real bolt OAuth flow) on a fast clock."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.service.runner import Service
from bot.service.settings import ServeSettings
from serve_support import Running, run_service, service_definitions
from slack_requests import SECRET
from test_serve_oauth import CLIENT, install

SPEED = 151200  # a week in 4 seconds: "every Monday 09:00" comes round at once


def globex_definitions(shared: Path) -> Path:
    """The second workspace's own file: its weekly digest goes to #globex, with one metric."""
    text = shared.read_text(encoding="utf-8")
    old = ('    - name: monday-sales\n      channel: "#sales"\n      schedule: every Monday 09:00\n'
           '      metrics: [win_rate, avg_deal_size, sales_cycle_days, pipeline_velocity]\n')
    assert old in text
    own = shared.with_name("globex.yaml")
    own.write_text(text.replace(old, '    - name: globex-weekly\n      channel: "#globex"\n'
                                     '      schedule: every Monday 09:00\n      metrics: [win_rate]\n'), encoding="utf-8")
    return own


def oauth_service(slack: Any, demo_dir: Path, tmp_path: Path, **extra: Any) -> Service:
    shared = service_definitions(demo_dir, tmp_path, one_digest=True)
    settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_client_id=CLIENT[0],
                                  slack_client_secret=CLIENT[1], slack_signing_secret=SECRET,
                                  slack_api_url=slack.api_url, kpi_clock_speed=SPEED,
                                  kpi_team_definitions=f"T0GLOBEX={globex_definitions(shared)}", **extra)
    return Service(settings, shared)


@pytest.fixture
def service(slack: Any, demo_dir: Path, tmp_path: Path) -> Iterator[Running]:
    slack.oauth_app(*CLIENT)
    yield from run_service(oauth_service(slack, demo_dir, tmp_path))


def posts(slack: Any) -> list[tuple[str, str, str]]:
    """(token, channel, digest name) of every digest post so far."""
    out = []
    for c in slack.calls_to("chat.postMessage"):
        head = json.dumps(json.loads(c.params["blocks"])[0] if isinstance(c.params.get("blocks"), str)
                          else (c.params.get("blocks") or [{}])[0])
        name = next((n for n in ("monday-sales", "globex-weekly") if n in head), "")
        out.append((c.headers.get("authorization", "").removeprefix("Bearer "), c.params.get("channel"), name))
    return out


def wait_until(check: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_each_workspace_posts_its_own_digest_with_its_own_token(service: Running, slack: Any) -> None:
    assert service.service.jobs.scheduler.get_jobs() == [] or all(
        not j.id.startswith(("digest:", "alert:")) for j in service.service.jobs.scheduler.get_jobs())
    for team in ("T0ACME", "T0GLOBEX", "T0INITECH"):
        assert install(service.url, slack, team).status_code == 200
    tokens = {team: tok for tok, team in slack.bot_tokens.items()}
    slack.revoked.add(tokens["T0INITECH"])  # uninstalled at Slack's end: its posts are refused

    jobs = {j.id for j in service.service.jobs.scheduler.get_jobs()}
    assert {"digest:T0ACME:0:monday-sales", "digest:T0INITECH:0:monday-sales", "digest:T0GLOBEX:0:globex-weekly"} <= jobs

    def everyone_had_a_turn() -> bool:
        seen = {(tok, ch, name) for tok, ch, name in posts(slack)}
        return ((tokens["T0ACME"], "#sales", "monday-sales") in seen
                and (tokens["T0GLOBEX"], "#globex", "globex-weekly") in seen
                and any(tok == tokens["T0INITECH"] for tok, _ch, _n in seen))
    wait_until(everyone_had_a_turn)

    seen = posts(slack)
    by_token = {tok: {(ch, name) for t, ch, name in seen if t == tok} for tok in tokens.values()}
    assert by_token[tokens["T0ACME"]] <= {("#sales", "monday-sales"), ("#kpi-admin", "")}
    assert by_token[tokens["T0GLOBEX"]] == {("#globex", "globex-weekly")}  # its own file, not the shared digest
    assert ("#sales", "monday-sales") in by_token[tokens["T0INITECH"]]  # shared definitions; refused by Slack
    assert all(tok in tokens.values() for tok, _ch, _n in seen)  # never without a token, never another one's

    # the failing workspace is reported (to its own admin channel, also refused) and counted; the others post on
    failures = service.service.telemetry.job_failures.labels(job="digest")
    wait_until(lambda: failures._value.get() >= 1)
    refused = [c for c in slack.calls_to("chat.postMessage")
               if c.headers.get("authorization") == f"Bearer {tokens['T0INITECH']}"]
    assert refused and {c.params.get("channel") for c in refused} <= {"#sales", "#kpi-admin"}
    after = {team: sum(1 for tok, *_ in posts(slack) if tok == tokens[team]) for team in ("T0ACME", "T0GLOBEX")}
    wait_until(lambda: all(sum(1 for tok, *_ in posts(slack) if tok == tokens[team]) > n for team, n in after.items()))


def test_schedules_follow_installs_and_the_log_names_the_workspaces(slack: Any, demo_dir: Path, tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    slack.oauth_app(*CLIENT)
    caplog.set_level("INFO", logger="kpi.serve")
    for running in run_service(oauth_service(slack, demo_dir, tmp_path)):
        assert "no workspace has installed the app yet" in caplog.text and "not installed yet: T0GLOBEX" in caplog.text
        install(running.url, slack, "T0GLOBEX")
        assert "workspace T0GLOBEX installed: digest:T0GLOBEX:0:globex-weekly" in caplog.text
    # a restart reads the installs back from the state database
    caplog.clear()
    for running in run_service(oauth_service(slack, demo_dir, tmp_path)):
        assert "T0GLOBEX (" in caplog.text and "globex.yaml): 1 digest, 0 alerts" in caplog.text
        assert "digest:T0GLOBEX:0:globex-weekly" in {j.id for j in running.service.jobs.scheduler.get_jobs()}


def test_a_rotating_token_is_refreshed_before_a_digest(slack: Any, demo_dir: Path, tmp_path: Path) -> None:
    """Slack token rotation: the installed token expires within the two-hour margin, so the job first
    exchanges the refresh token for a new one, saves it, and posts with the new one."""
    slack.oauth_app(*CLIENT, expires_in=600)
    for running in run_service(oauth_service(slack, demo_dir, tmp_path)):
        install(running.url, slack, "T0GLOBEX")
        (first,) = slack.bot_tokens
        wait_until(lambda: any(ch == "#globex" for _t, ch, _n in posts(slack)))
        used = {tok for tok, ch, _n in posts(slack) if ch == "#globex"}
        assert first not in used and used <= set(slack.bot_tokens)
        refreshes = [c for c in slack.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]
        assert refreshes and all(c.headers["authorization"].startswith("Basic ") for c in refreshes)


def test_check_says_which_workspaces_have_schedules(slack: Any, demo_dir: Path, tmp_path: Path) -> None:
    """`kpi serve --check` reads the installs from the state database: each installed workspace with the
    file its digests and alerts come from and how many; own files of workspaces not installed yet."""
    from test_serve_settings_keys import run_kpi

    slack.oauth_app(*CLIENT)
    for running in run_service(oauth_service(slack, demo_dir, tmp_path)):
        install(running.url, slack, "T0ACME")
    env = {"SLACK_CLIENT_ID": CLIENT[0], "SLACK_CLIENT_SECRET": CLIENT[1], "SLACK_SIGNING_SECRET": SECRET,
           "KPI_STATE_DIR": str(tmp_path / ".kpi"), "KPI_TEAM_DEFINITIONS": f"T0GLOBEX={tmp_path / 'globex.yaml'}"}
    ok = run_kpi(tmp_path, env, "serve", "--check", "-d", str(tmp_path / "definitions.yaml"))
    assert ok.returncode == 0, ok.stderr
    line = ok.stdout.splitlines()[-1]
    assert line == ("schedules per workspace: T0ACME (shared definitions): 1 digest, 0 alerts; "
                    "not installed yet: T0GLOBEX"), ok.stdout
    fresh = run_kpi(tmp_path, {**env, "KPI_STATE_DIR": str(tmp_path / "none")}, "serve", "--check",
                    "-d", str(tmp_path / "definitions.yaml"))
    assert "no workspace has installed the app yet" in fresh.stdout and not (tmp_path / "none").exists()


def test_an_uninstalled_workspace_loses_its_schedules(service: Running, slack: Any) -> None:
    """Slack's app_uninstalled event (signed, as Slack sends it): bolt deletes that workspace's bot from
    the installation store and its digest and alert jobs go; the other workspace's stay."""
    from slack_requests import post, signed_headers

    for team in ("T0ACME", "T0GLOBEX"):
        assert install(service.url, slack, team).status_code == 200
    jobs = service.service.jobs.scheduler
    assert {"digest:T0ACME:0:monday-sales", "digest:T0GLOBEX:0:globex-weekly"} <= {j.id for j in jobs.get_jobs()}
    event = json.dumps({"token": "legacy", "team_id": "T0GLOBEX", "api_app_id": "A0KPI", "type": "event_callback",
                        "event_id": "EvUninstall", "event_time": 1, "event": {"type": "app_uninstalled"}}).encode()
    assert post(service.url + "/slack/events", event, signed_headers(event, ctype="application/json"))[0] == 200
    wait_until(lambda: not any(":T0GLOBEX:" in j.id for j in jobs.get_jobs()), timeout=30)
    assert "digest:T0ACME:0:monday-sales" in {j.id for j in jobs.get_jobs()}
    assert [ws.id for ws in service.service.workspaces.installed()] == ["T0ACME"]


def test_a_workspace_with_its_own_definitions_syncs_its_own_workbook(
        slack: Any, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """T0GLOBEX's own file schedules an hourly Sheets sync to its own spreadsheet; the shared file none:
    once T0GLOBEX installs, `sheets:sync:T0GLOBEX` writes that workbook (an hour in 2 s)."""
    from fakes.sheets_api import FakeSheets

    slack.oauth_app(*CLIENT)
    shared = service_definitions(demo_dir, tmp_path, one_digest=True)
    own = globex_definitions(shared)
    text = own.read_text(encoding="utf-8")
    assert "${KPI_SHEETS_SPREADSHEET:-}" in text and "  # every: 1h " in text
    own.write_text(text.replace("${KPI_SHEETS_SPREADSHEET:-}", "globex-sheet-0001")
                   .replace("  # every: 1h ", "  every: 1h  #"), encoding="utf-8")
    fake = FakeSheets().start()
    try:
        account = fake.service_account()
        fake.create_spreadsheet("globex-sheet-0001", shared_with=[account["client_email"]])
        (tmp_path / "sa.json").write_text(json.dumps(account))
        monkeypatch.setenv("GOOGLE_SHEETS_API_URL", fake.url)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
        settings = ServeSettings.load(env_file=None, kpi_state_dir=tmp_path / ".kpi", slack_client_id=CLIENT[0],
                                      slack_client_secret=CLIENT[1], slack_signing_secret=SECRET,
                                      slack_api_url=slack.api_url, kpi_clock_speed=1800,
                                      kpi_team_definitions=f"T0GLOBEX={own}")
        for running in run_service(Service(settings, shared)):
            ids = lambda: {j.id for j in running.service.jobs.scheduler.get_jobs()}  # noqa: E731
            assert "sheets:sync" not in ids() and "sheets:sync:T0GLOBEX" not in ids()  # not installed yet
            install(running.url, slack, "T0GLOBEX")
            assert "sheets:sync:T0GLOBEX" in ids() and "sheets:sync" not in ids()
            def written() -> bool:
                try:
                    return bool(fake.values("globex-sheet-0001", "KPIs by month")
                                and fake.values("globex-sheet-0001", "Sync status"))
                except KeyError:  # the tabs are not there yet
                    return False
            wait_until(written)
            ok = running.service.telemetry.syncs.labels(trigger="schedule", result="ok")
            # the run is counted once its write returned, a moment after the fake stored the tabs
            wait_until(lambda: ok._value.get() >= 1)
    finally:
        fake.stop()
