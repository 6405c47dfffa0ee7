"""The App Home tab and the Follow buttons: the real bolt app over HTTP and over Socket Mode against the
loopback Slack fake (``views.publish`` recorded there), the follow store, and the Home view's golden blocks."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bot.app import create_app
from bot.render import button_value, render_blocks
from bot.render_home import MAX_FOLLOWED, HomeItem, render_home
from bot.serve import socket_handler
from bot.settings import Settings
from bot.store import FollowStore
from slack_doubles import AS_OF, FakeKPI, make_result
from slack_requests import (action_body, assert_snapshot, check_limits, command_body, post, signed_headers)


def home_opened_body(user: str = "U0ALICE", *, team: str = "T0001", tab: str = "home") -> dict[str, Any]:
    return {"token": "legacy", "team_id": team, "api_app_id": "A0KPI", "type": "event_callback",
            "event_id": f"EvHome{time.monotonic_ns()}", "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": tab,
                      "event_ts": "1700000000.000200"}}


def open_home(url: str, user: str = "U0ALICE", **kw: Any) -> None:
    body = json.dumps(home_opened_body(user, **kw)).encode()
    assert post(url, body, signed_headers(body, ctype="application/json"))[0] == 200


def click(url: str, action: str, metric: str, *, response_url: str, user: str = "U0ALICE",
          channel: str = "C0SALES", from_home: bool = False) -> None:
    body = action_body(action, json.dumps({"m": metric}), response_url=response_url, channel=channel, user=user)
    if from_home:  # a button on the Home tab: a view container, no channel, no response_url
        payload = json.loads(dict(parse_qsl(body.decode()))["payload"])
        payload["container"] = {"type": "view", "view_id": "V000001"}
        payload.pop("channel"), payload.pop("response_url")
        payload["view"] = {"id": "V000001", "type": "home"}
        body = urlencode({"payload": json.dumps(payload)}).encode()
    assert post(url, body, signed_headers(body))[0] == 200


def home_metrics(view: dict[str, Any]) -> list[str]:
    return [b["accessory"]["value"] for b in view["blocks"] if b.get("accessory", {}).get("action_id") == "kpi_unfollow"]


def answer_buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for e in blocks[-1]["elements"]]


def test_follow_shows_up_on_the_home_refreshed_on_open(slack, settings, serve_http) -> None:
    kpi = FakeKPI()
    url = serve_http(create_app(kpi, settings=settings))
    open_home(url)
    (first,) = slack.wait_for("views.publish")
    assert first.params["user_id"] == "U0ALICE" and home_metrics(slack.home_views["U0ALICE"]) == []
    assert "You follow no metric yet" in json.dumps(slack.home_views["U0ALICE"])

    status, ack, _ = post(url, body := command_body("win_rate last-quarter"), signed_headers(body))
    assert status == 200 and answer_buttons(ack["blocks"]) == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_follow", "kpi_share", "kpi_records"]

    click(url, "kpi_follow", "win_rate", response_url=slack.response_url())
    (confirm,) = slack.wait_for("response_url")
    assert confirm.params["replace_original"] is False and "You follow Win rate" in confirm.params["text"]
    assert confirm.params["blocks"][0]["accessory"]["action_id"] == "kpi_unfollow"  # undo at hand
    slack.wait_for("views.publish", 2)
    view = slack.home_views["U0ALICE"]
    assert home_metrics(view) == ['{"m": "win_rate"}']
    text = json.dumps(view, ensure_ascii=False)
    assert "Win rate: 41.2%" in text and "Target 45.0%" in text and "behind pace" in text

    status, ack, _ = post(url, body := command_body("win_rate ytd"), signed_headers(body))
    assert answer_buttons(ack["blocks"]) == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_unfollow", "kpi_share", "kpi_records"]

    kpi.value = 0.5  # the data moved: opening the Home again shows the new number
    asked = len(kpi.queries)
    open_home(url)
    slack.wait_for("views.publish", 3)
    assert kpi.queries[asked:] == ["win_rate"] and "Win rate: 50.0%" in json.dumps(slack.home_views["U0ALICE"])

    click(url, "kpi_unfollow", "win_rate", response_url="", from_home=True)
    slack.wait_for("views.publish", 4)
    assert home_metrics(slack.home_views["U0ALICE"]) == []
    assert len(slack.calls_to("response_url")) == 1  # a Home click has nowhere to respond: the view is the answer


def test_follows_are_per_workspace_and_user(slack, settings, serve_http) -> None:
    follows = FollowStore()
    url = serve_http(create_app(FakeKPI(), settings=settings, follows=follows))
    click(url, "kpi_follow", "cac", response_url=slack.response_url())
    slack.wait_for("views.publish")
    assert follows.metrics("T0001", "U0ALICE") == ("cac",)
    open_home(url, "U0ALICE", team="T0002")
    open_home(url, "U0BOB")
    publishes = slack.wait_for("views.publish", 3)
    assert {c.params["user_id"] for c in publishes[1:]} == {"U0ALICE", "U0BOB"}
    assert home_metrics(slack.home_views["U0BOB"]) == []


def test_messages_tab_is_not_answered(slack, settings, serve_http) -> None:
    url = serve_http(create_app(FakeKPI(), settings=settings))
    open_home(url, tab="messages")
    open_home(url, "U0BOB")
    (only,) = slack.wait_for("views.publish")
    assert only.params["user_id"] == "U0BOB"


def test_following_a_restricted_metric_from_an_open_channel_is_refused(slack, settings, serve_http) -> None:
    follows = FollowStore()
    kpi = FakeKPI(slack={"access": [{"metrics": ["cac"], "channels": ["#leadership"]}]})
    url = serve_http(create_app(kpi, settings=settings, follows=follows))
    click(url, "kpi_follow", "cac", response_url=slack.response_url())
    (refused,) = slack.wait_for("response_url")
    assert "not available here" in refused.params["text"] and follows.metrics("T0001", "U0ALICE") == ()
    assert slack.calls_to("views.publish") == []


def test_a_restricted_metric_followed_earlier_is_not_shown_on_the_home(slack, settings, serve_http) -> None:
    """The Home belongs to no channel: a metric opened to some channels only shows the rule, not the number."""
    follows = FollowStore()
    follows.follow("T0001", "U0ALICE", "cac")
    kpi = FakeKPI(slack={"access": [{"metrics": ["cac"], "channels": ["#leadership"]}]})
    url = serve_http(create_app(kpi, settings=settings, follows=follows))
    open_home(url)
    slack.wait_for("views.publish")
    text = json.dumps(slack.home_views["U0ALICE"])
    assert "not available here" in text and "$" not in text and kpi.queries == []


def test_forged_follow_button_is_answered(slack, settings, serve_http) -> None:
    url = serve_http(create_app(FakeKPI(), settings=settings))
    body = action_body("kpi_follow", "not json", response_url=slack.response_url())
    assert post(url, body, signed_headers(body))[0] == 200
    (reply,) = slack.wait_for("response_url")
    assert "could not be read" in reply.params["text"]
    click(url, "kpi_follow", "no_such_metric", response_url=slack.response_url())
    assert "unknown metric" in slack.wait_for("response_url", 2)[1].params["text"]


def test_home_over_socket_mode(slack) -> None:
    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.api_url)
    follows = FollowStore()
    follows.follow("T0001", "U0ALICE", "win_rate")
    handler = socket_handler(create_app(FakeKPI(), settings=settings, follows=follows), "xapp-test")
    handler.connect()
    try:
        slack.wait_ws_client()
        slack.ws_send({"envelope_id": "env-home", "type": "events_api", "payload": home_opened_body()})
        slack.wait_for("views.publish")
        assert home_metrics(slack.home_views["U0ALICE"]) == ['{"m": "win_rate"}']
        deadline = time.monotonic() + 5  # the ack and the publish race: wait for the ack
        while not any(m.get("envelope_id") == "env-home" for m in slack.ws_received):
            assert time.monotonic() < deadline, f"event not acked: {slack.ws_received}"
            time.sleep(0.02)
    finally:
        handler.close()


def test_follow_store_survives_a_restart(tmp_path: Path) -> None:
    store = FollowStore(tmp_path / "bot.sqlite3")
    assert store.follow("T1", "U1", "win_rate") and not store.follow("T1", "U1", "win_rate")
    assert store.follow("T1", "U1", "cac") and store.follow("T2", "U1", "clv")
    store.close()
    again = FollowStore(tmp_path / "bot.sqlite3")
    assert again.metrics("T1", "U1") == ("win_rate", "cac") and again.metrics("T2", "U1") == ("clv",)
    assert again.unfollow("T1", "U1", "win_rate") and not again.unfollow("T1", "U1", "win_rate")
    assert again.metrics("T1", "U1") == ("cac",)


def test_home_view_snapshots() -> None:
    items = [HomeItem("win_rate", result=make_result()),
             HomeItem("cac", result=make_result("cac", "this-quarter", value=1250.0, previous=1400.0, target=None)),
             HomeItem("clv", error="unknown metric 'clv'")]
    for name, view in {"home_three": render_home(items, as_of=AS_OF, freshness=AS_OF),
                       "home_empty": render_home([], as_of=AS_OF),
                       "home_pl": render_home(items[:1], as_of=AS_OF, freshness=AS_OF, locale="pl_PL")}.items():
        check_limits(view["blocks"])
        assert_snapshot(name, view)


def test_home_view_of_many_follows_stays_within_slack_limits() -> None:
    items = [HomeItem(f"m{i}", error="x" * 4000) for i in range(MAX_FOLLOWED + 7)]
    blocks = render_home(items, as_of=AS_OF)["blocks"]
    assert len(blocks) <= 100 and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "7 more metrics" in blocks[-1]["elements"][0]["text"]


def test_public_answers_always_offer_follow() -> None:
    """Everyone can click a shared answer's button: it follows for the clicker, so it says Follow."""
    def buttons(**kw: Any) -> list[str]:
        return [e["action_id"] for e in render_blocks(make_result(), **kw)[-1]["elements"]]
    assert buttons(ephemeral=False) == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_follow", "kpi_records"]
    assert buttons(ephemeral=True, followed=True) == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_unfollow", "kpi_share", "kpi_records"]
    (follow,) = [e for e in render_blocks(make_result())[-1]["elements"] if e["action_id"] == "kpi_follow"]
    assert json.loads(follow["value"]) == {"m": "win_rate"}
    assert button_value("win_rate", AS_OF)  # the other buttons still carry the question
