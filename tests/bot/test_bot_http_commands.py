"""Slash commands through the real bolt app: signed over HTTP (waitress) and in process."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_bolt.request import BoltRequest

from slack_doubles import FakeKPI
from slack_requests import command_body, post, signed_headers


def test_signed_command_over_http_answers_in_the_ack(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = command_body("win_rate last-quarter by region", response_url=slack.response_url())
    status, ack, took = post(url, body, signed_headers(body))
    assert status == 200 and took < 3
    assert ack["response_type"] == "ephemeral"
    assert ack["blocks"][0]["text"]["text"] == "Win rate: 41.2%"
    assert any("```region" in b.get("text", {}).get("text", "") for b in ack["blocks"])
    assert slack.calls_to("auth.test")
    time.sleep(0.2)
    assert not slack.calls_to("response_url")  # answered in the ack: nothing else posted


def test_bad_signature_and_stale_timestamp_are_rejected(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = command_body("win_rate")
    assert post(url, body, signed_headers(body, secret="wrong"))[0] == 401
    assert post(url, body, signed_headers(body, ts=int(time.time()) - 600))[0] == 401
    tampered = body.replace(b"win_rate", b"cac")
    assert post(url, tampered, signed_headers(body))[0] == 401


def test_unknown_path_is_404(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI())).replace("/slack/events", "/other")
    body = command_body("win_rate")
    assert post(url, body, signed_headers(body))[0] == 404


def test_slow_query_acks_at_once_then_answers_through_response_url(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI(delay=2.6)))
    body = command_body("win_rate last-quarter", response_url=slack.response_url())
    status, ack, took = post(url, body, signed_headers(body))
    assert status == 200 and took < 3.0
    assert "Working on" in ack["text"]
    (delivered,) = slack.wait_for("response_url", timeout=10)
    assert delivered.params["replace_original"] is True
    assert delivered.params["blocks"][0]["text"]["text"] == "Win rate: 41.2%"


def test_fifty_concurrent_commands_are_all_acked_within_3s(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI(delay=0.05)))
    bodies = [command_body(f"win_rate last-quarter", user=f"U{i:03d}", response_url=slack.response_url())
              for i in range(50)]
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda b: post(url, b, signed_headers(b)), bodies))
    assert [r[0] for r in results] == [200] * 50
    slowest = max(r[2] for r in results)
    assert slowest < 3.0, f"slowest ack took {slowest:.2f}s"
    assert all(r[1]["blocks"] for r in results)


def test_user_error_is_ephemeral_200_with_suggestion(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = command_body("wn_rate last-quarter")
    status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200 and ack["response_type"] == "ephemeral"
    assert "unknown metric 'wn_rate'" in ack["text"] and "win_rate" in ack["text"]
    assert "Usage" in json.dumps(ack["blocks"])


def test_bad_period_is_a_user_error(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = command_body("win_rate last-fortnight")
    status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200 and ":warning:" in ack["blocks"][0]["text"]["text"]


def test_internal_error_says_something_broke_with_a_logged_ref(slack, make_bot, serve_http, caplog) -> None:
    url = serve_http(make_bot(FakeKPI(boom=True)))
    body = command_body("win_rate last-quarter")
    with caplog.at_level(logging.ERROR, logger="kpi.bot"):
        status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200
    ref = ack["text"].split("ref ")[1].split(")")[0]
    assert "backend exploded" not in ack["text"]
    logged = [r for r in caplog.records if ref in r.getMessage()]
    assert logged and logged[0].exc_info and "backend exploded" in str(logged[0].exc_info[1])


def test_shortcut_command_per_metric(slack, make_bot, serve_http) -> None:
    kpi = FakeKPI()
    url = serve_http(make_bot(kpi))
    body = command_body("last-quarter", command="/winrate")
    status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200 and ack["blocks"][0]["text"]["text"] == "Win rate: 41.2%"
    assert kpi.queries == ["win_rate last-quarter"]


@pytest.mark.parametrize("text, expect", [("help", "Ask for a sales metric"), ("list", "3 metrics"),
                                          ("explain cac", "How CAC is computed"), ("", "Ask for a sales metric")])
def test_help_list_explain_in_process(slack, make_bot, text, expect) -> None:
    app = make_bot(FakeKPI())
    body = command_body(text)
    resp = app.dispatch(BoltRequest(body=body.decode(), headers=signed_headers(body)))
    assert resp.status == 200
    assert expect in resp.body


def test_in_process_dispatch_rejects_unsigned(slack, make_bot) -> None:
    app = make_bot(FakeKPI())
    body = command_body("win_rate")
    resp = app.dispatch(BoltRequest(body=body.decode(), headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert resp.status == 401


def test_fifty_concurrent_slow_commands_are_all_acked_within_3s(slack, make_bot, serve_http) -> None:
    """Regression: bolt's default pool has 5 threads, so 50 acks waiting on slow queries queued past 3 s."""
    url = serve_http(make_bot(FakeKPI(delay=0.5)))
    bodies = [command_body("win_rate last-quarter", user=f"U{i:03d}", response_url=slack.response_url())
              for i in range(50)]
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda b: post(url, b, signed_headers(b)), bodies))
    assert [r[0] for r in results] == [200] * 50
    slowest = max(r[2] for r in results)
    assert slowest < 3.0, f"slowest ack took {slowest:.2f}s"
    late = [r for r in results if "Working on" in r[1]["text"]]
    slack.wait_for("response_url", count=len(late), timeout=60)  # 4 workers: ~13 s for 50 one-second answers


def test_events_url_verification_challenge(slack, make_bot, serve_http) -> None:
    """Slack checks the Request URL of HTTP mode once with a challenge that must be echoed."""
    url = serve_http(make_bot(FakeKPI()))
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"}).encode()
    status, answer, _ = post(url, body, signed_headers(body, ctype="application/json"))
    assert status == 200 and "c-123" in json.dumps(answer)
