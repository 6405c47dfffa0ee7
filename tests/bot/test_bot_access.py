"""Access rules: refused where they should be (politely, ephemerally, logged), open by default."""

from __future__ import annotations

import logging

from bot.access import AccessPolicy, Asker
from bot.config import AccessRule
from bot.digests import run_digest
from bot.config import Digest
from bot.provider import snapshot_of
from bot.render import button_value
from slack_doubles import AS_OF, FakeKPI
from slack_requests import action_body, command_body, mention_body, post, signed_headers

RULES = {"access": [{"metrics": ["cac"], "channels": ["#leadership", "C0LEAD"], "users": ["U0CFO"]}]}


def test_policy_rules() -> None:
    policy = AccessPolicy((AccessRule(metrics=("cac",), channels=("#leadership",), users=("U0CFO",)),))
    assert policy.allowed("win_rate", Asker("U1", "C0SALES", "sales"))  # not named: open
    assert policy.allowed("cac", Asker("U1", "C0XYZ", "leadership"))  # by channel name
    assert policy.allowed("cac", Asker("U0CFO", "C0SALES", "sales"))  # by user
    assert not policy.allowed("cac", Asker("U1", "C0SALES", "sales"))
    assert not policy.channel_allowed("cac", "#sales")


def test_refused_command_is_polite_ephemeral_and_logged(slack, make_bot, serve_http, caplog) -> None:
    kpi = FakeKPI(slack=RULES)
    url = serve_http(make_bot(kpi))
    body = command_body("cac last-quarter", channel="C0SALES", channel_name="sales")
    with caplog.at_level(logging.WARNING, logger="kpi.bot.access"):
        status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200 and ack["response_type"] == "ephemeral"
    assert "Sorry, 'cac' is not available here" in ack["text"]
    assert kpi.queries == []  # refused before any query ran
    assert any("access refused" in r.getMessage() and "cac" in r.getMessage() for r in caplog.records)


def test_allowed_channel_and_user_get_answers(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI(slack=RULES)))
    for body in (command_body("cac ytd", channel="C0LEAD", channel_name="leadership"),
                 command_body("cac ytd", user="U0CFO"), command_body("/cac ytd".split()[1], command="/cac",
                                                                      channel="C0LEAD")):
        status, ack, _ = post(url, body, signed_headers(body))
        assert status == 200 and ack["blocks"][0]["text"]["text"].startswith("CAC:"), ack


def test_refused_explain_share_trend_and_mention(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI(slack=RULES)))
    for action in ("kpi_share", "kpi_trend", "kpi_explain"):
        body = action_body(action, button_value("cac ytd", AS_OF), response_url=slack.response_url())
        assert post(url, body, signed_headers(body))[0] == 200
    refusals = slack.wait_for("response_url", count=3)
    assert all("not available here" in c.params["text"] for c in refusals)
    body = mention_body("<@U0BOT> cac last quarter")
    post(url, body, signed_headers(body, ctype="application/json"))
    (eph,) = slack.wait_for("chat.postEphemeral")
    assert "not available here" in eph.params["text"]
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("files.getUploadURLExternal")


def test_digest_skips_metrics_the_channel_may_not_see(slack, settings, caplog) -> None:
    from bot.app import make_client

    snap = snapshot_of(FakeKPI(slack=RULES))
    digest = Digest(channel="#sales", schedule="every Monday 09:00", metrics=("win_rate", "cac"))
    with caplog.at_level(logging.WARNING, logger="kpi.bot.digests"):
        assert run_digest(make_client(settings), snap, digest, as_of=AS_OF) == 1
    (posted,) = slack.calls_to("chat.postMessage")
    assert "Win rate" in posted.params["text"]
    assert any("cac skipped" in r.getMessage() for r in caplog.records)


def test_listed_user_sees_privately_but_cannot_post_publicly(slack, make_bot, serve_http) -> None:
    """Regression guard: a user-level grant must not leak a restricted metric into a channel."""
    url = serve_http(make_bot(FakeKPI(slack=RULES)))
    body = command_body("cac ytd", user="U0CFO", channel="C0SALES", channel_name="sales")
    assert post(url, body, signed_headers(body))[1]["blocks"][0]["text"]["text"].startswith("CAC:")
    for action in ("kpi_share", "kpi_trend"):
        body = action_body(action, button_value("cac ytd", AS_OF), response_url=slack.response_url(), user="U0CFO")
        post(url, body, signed_headers(body))
    assert all("not available here" in c.params["text"] for c in slack.wait_for("response_url", count=2))
    body = mention_body("<@U0BOT> cac ytd", user="U0CFO")
    post(url, body, signed_headers(body, ctype="application/json"))
    assert "not available here" in slack.wait_for("chat.postEphemeral")[0].params["text"]
    assert not slack.calls_to("chat.postMessage") and not slack.calls_to("files.getUploadURLExternal")
