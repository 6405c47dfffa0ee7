"""Settings from the environment, the slack: section's validation, and mention parsing."""

from __future__ import annotations

import re

from datetime import date

import pytest

from bot.config import validate_section
from bot.mention import to_query
from bot.settings import Settings
from metrics_core.errors import ConfigError, QueryError
from metrics_core.yamlio import load_yaml
from slack_doubles import FakeKPI


def test_settings_http_mode() -> None:
    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://x/api"})
    assert s.mode == "http" and s.api_url == "http://x/api/" and s.port == 3000


def test_settings_socket_mode_needs_no_secret() -> None:
    s = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert s.mode == "socket" and s.api_url == "https://slack.com/api/"


def test_settings_name_everything_missing_at_once() -> None:
    with pytest.raises(ConfigError) as e:
        Settings.from_env({"SLACK_APP_TOKEN": "xoxb-wrong", "KPI_BOT_PORT": "http"})
    msg = str(e.value)
    for part in ("SLACK_BOT_TOKEN is not set", "SLACK_APP_TOKEN must be an app-level token", "KPI_BOT_PORT"):
        assert part in msg
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})


def test_settings_refuse_the_silent_oauth_switch() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2"}
    with pytest.raises(ConfigError, match="OAuth"):
        Settings.from_env(env)


SECTION = """\
slack:
  admin_chanel: "#x"
  commands: {win_rate: "/Win Rate", nope: /nope}
  access:
    - {metrics: [wn_rate], channels: ["#a"]}
  digests:
    - channel: "#sales"
      schedule: every Moonday 09:00
      metrics: [win_rate]
      by: [regon]
  alerts:
    - {metric: win_rate, when: below the moon, channel: "#sales"}
"""


def issues_of(text: str) -> list[str]:
    raw, _ = load_yaml(text, source="d.yaml")
    return [str(i) for i in validate_section(raw["slack"], FakeKPI().definitions)]


def test_section_shape_problems_carry_lines() -> None:
    found = issues_of(SECTION)
    assert "definitions.yaml:2: slack.admin_chanel: unknown key 'admin_chanel' (did you mean 'admin_channel'?)" in found
    assert any(i.startswith("definitions.yaml:8: slack.digests.0.schedule: schedule 'every Moonday 09:00'") for i in found)
    assert any(i.startswith("definitions.yaml:12: slack.alerts.0.when: alert condition") for i in found)


def test_section_names_are_checked_against_the_definitions() -> None:
    text = SECTION.replace("  admin_chanel", "  admin_channel").replace("Moonday", "Monday")
    text = text.replace("below the moon", "below target").replace('"/Win Rate"', "/winrate")
    found = issues_of(text)
    assert "definitions.yaml:3: slack.commands.nope: unknown metric 'nope' (allowed: cac, sales_cycle_days, win_rate)" in found
    assert any("slack.access.0.metrics.0: unknown metric 'wn_rate' (did you mean 'win_rate'?)" in i for i in found)
    assert any("slack.digests.0.by.0: metric 'win_rate' cannot be broken down by 'regon' (did you mean 'region'?)" in i
               for i in found)


@pytest.mark.parametrize("text, query", [
    ("<@U0BOT> what was win rate last quarter by region?", "win_rate last-quarter by region"),
    ("<@U0BOT> CAC ytd vs last year please", "cac ytd vs last-year"),
    ("winrate in q3 2026 broken down by segments", "win_rate q3-2026 by segment"),
    ("how is the close rate this month, by region and source", "win_rate this-month by region, source"),
    ("win rate", "win_rate"),
    ("win rate by regoin", "win_rate by region"),
    ("jaki był win rate w zeszłym kwartale wg regionu?", "win_rate w-zeszłym-kwartale by region"),
    ("<@U0BOT> win rate od początku roku dla segmentu SMB", "win_rate od-początku-roku where segment='SMB'"),
    ("close rate ostatnie 6 miesięcy po regionach rok do roku", "win_rate ostatnie-6-miesięcy by region vs last-year"),
    ("win rate III kw. 2026 w porównaniu z poprzednim okresem", "win_rate iii-kw-2026 vs previous"),
])
def test_mentions_become_grammar(text: str, query: str) -> None:
    assert to_query(FakeKPI(), text, as_of=date(2026, 11, 27)) == query


@pytest.mark.parametrize("text, message", [
    ("win rate for 3 reps by regoin", "did not understand '3 reps'"),
    ("jaki był win rate w kwartale", "did not understand the period in 'kwartale'"),  # no silent default period
    ("win rate last quartr", "did not understand the period in 'last quartr'"),
])
def test_mention_says_what_it_did_not_understand(text: str, message: str) -> None:
    """Regression: "jaki był win rate w zeszłym kwartale?" fell back to the default period silently."""
    with pytest.raises(QueryError, match=re.escape(message)):
        to_query(FakeKPI(), text, as_of=date(2026, 11, 27))


def test_mention_without_metric_is_a_clear_user_error() -> None:
    with pytest.raises(QueryError, match="could not find a metric"):
        to_query(FakeKPI(), "<@U0BOT> hello there")


def test_manifest_snapshot() -> None:
    from bot.manifest import build_manifest
    from bot.provider import snapshot_of
    from slack_requests import assert_snapshot

    snap = snapshot_of(FakeKPI(slack={"commands": {"win_rate": "/winrate"}}))
    assert_snapshot("manifest_http", build_manifest(snap, url="https://kpi.example.com/slack/events"))
    assert_snapshot("manifest_socket", build_manifest(snap))
