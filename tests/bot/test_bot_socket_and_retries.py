"""Socket Mode round trip against the fake's websocket, and 429 + Retry-After retried by the client."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl


from bot.app import make_client
from bot.serve import socket_handler
from bot.settings import Settings
from slack_doubles import FakeKPI
from slack_requests import command_body


def test_socket_mode_envelope_round_trip(slack) -> None:
    from bot.app import create_app

    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.api_url)
    app = create_app(FakeKPI(), settings=settings)  # no signing secret: Socket Mode needs none
    handler = socket_handler(app, "xapp-test")
    handler.connect()
    try:
        slack.wait_ws_client()
        (opened,) = slack.calls_to("apps.connections.open")
        assert opened.headers["authorization"] == "Bearer xapp-test"
        payload = dict(parse_qsl(command_body("win_rate last-quarter").decode()))
        slack.ws_send({"envelope_id": "env-1", "type": "slash_commands", "payload": payload,
                       "accepts_response_payload": True})
        deadline = time.monotonic() + 5
        while not slack.ws_received and time.monotonic() < deadline:
            time.sleep(0.02)
        (answer,) = slack.ws_received
        assert answer["envelope_id"] == "env-1"
        assert answer["payload"]["blocks"][0]["text"]["text"] == "Win rate: 41.2%"
    finally:
        handler.close()


def test_rate_limited_post_is_retried_after_retry_after(slack, settings) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    client = make_client(settings)
    start = time.monotonic()
    resp = client.chat_postMessage(channel="C0SALES", text="hello")
    assert resp["ok"] and time.monotonic() - start >= 1.0
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_fake_fails_loudly_on_unknown_methods(slack, settings) -> None:
    client = make_client(settings)
    try:
        client.api_call("conversations.kick", params={"channel": "C1"})
    except Exception:  # noqa: BLE001 - slack_sdk raises SlackApiError on the 500
        pass
    assert slack.failures and "conversations.kick" in slack.failures[0]
    slack.failures.clear()  # expected here; any other test with a failure fails at teardown


def test_rejected_bot_token_is_a_clear_config_error(slack, settings) -> None:
    import pytest

    from bot.app import create_app
    from metrics_core.errors import ConfigError

    slack.token_ok = False
    with pytest.raises(ConfigError, match="Slack did not accept SLACK_BOT_TOKEN .*invalid_auth"):
        create_app(FakeKPI(), settings=settings)


def test_fifty_concurrent_socket_mode_commands_are_acked_within_3s(slack) -> None:
    """Regression: SocketModeHandler's default 10 threads queued acks behind 0.5 s queries past 3 s (6.7 s)."""
    from bot.app import create_app

    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.api_url)
    handler = socket_handler(create_app(FakeKPI(delay=0.5), settings=settings), "xapp-test")
    handler.connect()
    try:
        slack.wait_ws_client()
        sent = {}
        for i in range(50):
            payload = dict(parse_qsl(command_body("win_rate ytd", response_url=slack.response_url()).decode()))
            sent[f"env-{i}"] = time.monotonic()
            slack.ws_send({"envelope_id": f"env-{i}", "type": "slash_commands", "payload": payload})
        acks = [c for c in slack.wait_for("ws", count=51, timeout=15) if "envelope_id" in c.params]
        assert len(acks) == 50
        slowest = max(c.at - sent[c.params["envelope_id"]] for c in acks)
        assert slowest < 3.0, f"slowest Socket Mode ack took {slowest:.2f}s"
        late = sum("Working on" in c.params["payload"]["text"] for c in acks)
        slack.wait_for("response_url", count=late, timeout=60)  # the rest arrive through response_url
    finally:
        handler.close()
