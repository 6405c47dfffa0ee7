"""Each user in their own Slack language, when the definitions allow it (slack.user_locale).

Real bolt over signed HTTP against the loopback Slack fake: its ``users.info`` says "pl-PL" unless a
test sets another locale for a user. Without the setting the bot never asks and answers in the
definitions' language.
"""

from __future__ import annotations

from pathlib import Path

from bot.manifest import build_manifest
from bot.provider import snapshot_of
from bot.user_locale import UserLocales, slack_locale
from metrics_core.api import KPI
from slack_requests import command_body, post, signed_headers


def kpi_with(demo_dir: Path, extra: str) -> KPI:
    text = (demo_dir / "definitions.yaml").read_text(encoding="utf-8").replace("\nslack:\n", f"\nslack:\n{extra}", 1)
    return KPI.from_text(text, base_dir=demo_dir)


def test_slack_locale_names() -> None:
    assert slack_locale("pl-PL") == "pl_PL" and slack_locale("en-US") == "en_US"
    assert slack_locale("xx-QQ") is None and slack_locale("") is None and slack_locale(None) is None


def test_each_user_gets_answers_in_their_language(slack, make_bot, serve_http, demo_dir) -> None:
    url = serve_http(make_bot(kpi_with(demo_dir, "  user_locale: true\n")))
    slack.user_locales["U0EN"] = "en-GB"
    body = command_body("last-quarter by segment", command="/winrate")  # user U0ALICE: pl-PL
    status, ack, _ = post(url, body, signed_headers(body))
    text = str(ack)
    assert status == 200 and "III kw. 2026" in text and "Wyjaśnij" in text and "p.p." in text, text
    body = command_body("last-quarter by segment", command="/winrate", user="U0EN")
    status, ack, _ = post(url, body, signed_headers(body))
    assert "Q3 2026" in str(ack) and "Explain" in str(ack)
    asked = [c.params.get("user") for c in slack.calls_to("users.info")]
    assert sorted(asked) == ["U0ALICE", "U0EN"]  # one lookup per user


def test_without_the_setting_the_bot_never_asks(slack, make_bot, serve_http, demo_dir) -> None:
    url = serve_http(make_bot(kpi_with(demo_dir, "")))
    body = command_body("last-quarter", command="/winrate")
    status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200 and "Q3 2026" in str(ack) and not slack.calls_to("users.info")


def test_lookups_are_cached_and_failures_fall_back(slack) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    locales = UserLocales()
    assert locales.lookup(client, "U1") == "pl_PL" and locales.lookup(client, "U1") == "pl_PL"
    assert len(slack.calls_to("users.info")) == 1
    slack.refuse("users.info", "missing_scope")
    assert UserLocales().lookup(client, "U2") is None  # the definitions' language then


def test_manifest_asks_for_users_read_only_when_needed(demo_dir) -> None:
    with_it = build_manifest(snapshot_of(kpi_with(demo_dir, "  user_locale: true\n")))
    without = build_manifest(snapshot_of(kpi_with(demo_dir, "")))
    assert "users:read" in with_it["oauth_config"]["scopes"]["bot"]
    assert "users:read" not in without["oauth_config"]["scopes"]["bot"]


def test_polish_mention_end_to_end_with_a_value_filter(real_kpi) -> None:
    """"w EMEA": a value of region, found by asking the KPI which regions there are."""
    from bot.access import Asker
    from bot.context import BotContext
    from bot.events import answer_mention
    from bot.provider import KpiProvider

    ctx = BotContext(KpiProvider.static(real_kpi), None)  # type: ignore[arg-type]
    here = Asker("U0ALICE", "C0LEAD", "leadership", locale="pl_PL")
    reply = answer_mention(ctx, "<@U0BOT> jaki był win rate w zeszłym kwartale w EMEA?", here)
    text = str(reply.blocks)
    assert reply.ok, reply.text
    assert "III kw. 2026" in text and "gdzie region = EMEA" in text, text
    bad = answer_mention(ctx, "<@U0BOT> jaki był win rate w kwartale?", here)
    assert not bad.ok and "Nie rozumiem okresu w 'kwartale'" in bad.text, bad.text
