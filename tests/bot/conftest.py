"""Fixtures for the Slack bot: a loopback fake Slack Web API, the real bolt app pointed at it, a real
waitress HTTP server on 127.0.0.1:0, and the shipped definitions over demo data for end-to-end tests.
Request builders, Block Kit limits and snapshots are in ``slack_requests``; result doubles in
``slack_doubles``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from slack_sdk import WebClient

from bot.app import create_app, make_client
from bot.serve import http_server, stop_http
from bot.settings import Settings
from fakes.slack_api import FakeSlack
from slack_requests import SECRET



@pytest.fixture(autouse=True)
def _no_oauth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_bolt switches to OAuth mode when both of these are set; the bot never wants that."""
    for var in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()  # fails the test if the bot called anything the fake does not know


@pytest.fixture
def settings(slack: FakeSlack) -> Settings:
    return Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=slack.api_url)


@pytest.fixture
def make_bot(settings: Settings) -> Callable[..., Any]:
    def build(kpi: Any, *, client: WebClient | None = None) -> Any:
        return create_app(kpi, client=client or make_client(settings), settings=settings)
    return build


@pytest.fixture
def serve_http() -> Iterator[Callable[[Any], str]]:
    """Start the production HTTP server (waitress) for an app; returns the /slack/events URL."""
    import threading

    running = []

    def start(app: Any) -> str:
        server = http_server(app, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.effective_port}/slack/events"
    yield start
    for server, thread in running:
        stop_http(server)
        thread.join(timeout=5)
        assert not thread.is_alive(), "the HTTP server did not stop"


E2E_AS_OF = "2026-11-27"
SLACK_SECTION = """
# The Slack bot (bot/README.md): shortcut commands, who may ask what, digests and alerts.
slack:
  admin_channel: "#kpi-admin"
  commands:
    win_rate: /winrate
  access:
    - metrics: [cac, clv, ltv_cac_ratio, cac_payback_months]
      channels: ["#leadership", "#revops"]
  digests:
    - name: monday-sales
      channel: "#sales"
      schedule: every Monday 09:00
      metrics: [win_rate, avg_deal_size, sales_cycle_days, pipeline_velocity]
      period: last-week
      by: [region]
    - name: monthly-leadership
      channel: "#leadership"
      schedule: every month on the 1st 09:00
      metrics: [cac, ltv_cac_ratio, cac_payback_months]
      period: last-month
  alerts:
    - name: win-rate-below-target
      metric: win_rate
      when: below target
      period: this-quarter
      channel: "#sales"
      schedule: every weekday 08:30
    - name: conversion-drop
      metric: conversion_rate
      when: drop beyond 15%
      period: last-month
      channel: "#marketing"
      schedule: every Monday 08:00
"""


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped definitions.yaml (plus a slack: section) over 3,000 demo deals in a DuckDB file."""
    import datetime as dt
    import re

    import duckdb

    from metrics_core.demo_data import generate

    root = tmp_path_factory.mktemp("kpi-demo")
    con = duckdb.connect(str(root / "demo.duckdb"))
    generate(con, deals=3000, until=dt.date(2026, 11, 26))
    con.close()
    text = (Path(__file__).resolve().parents[2] / "definitions.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s+url:\s*).*$", r"\1duckdb:///demo.duckdb", text, count=1)
    # Always this section (the tests rely on its names), whatever the shipped file says.
    text = re.sub(r"(?m)^slack:[^\n]*\n(?:[ \t][^\n]*\n|[ \t]*\n)*", "", text) + SLACK_SECTION
    (root / "definitions.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def real_kpi(demo_dir: Path) -> Any:
    from metrics_core.api import KPI

    return KPI.from_path(demo_dir / "definitions.yaml")
