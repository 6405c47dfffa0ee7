"""Hostile and malformed Slack requests (issue 12): a size cap before anything reads the body, 400/401
instead of 500 for malformed headers and payloads, no request bodies in the log, long questions quoted
as excerpts, and buttons that work for questions longer than a button can carry."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from urllib.parse import urlencode, urlparse

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from bot.logs import RedactBodies
from bot.render import BUTTON_VALUE_CHARS, button_value
from bot.transport import MAX_BODY, wsgi_app
from slack_doubles import AS_OF, FakeKPI
from slack_requests import action_body, check_limits, command_body, post, signed_headers


def raw_post(url: str, head_only_length: int) -> bytes:
    """Send only the headers of a request announcing ``head_only_length`` bytes; return what comes back."""
    u = urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(f"POST {u.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {head_only_length}\r\n\r\n".encode())
        return s.recv(4096)


def test_oversized_body_is_refused_with_413_before_it_is_read(slack, make_bot, serve_http) -> None:
    """Regression: a forged 100 MiB body was read whole (6 s) before the 401."""
    url = serve_http(make_bot(FakeKPI()))
    answer = raw_post(url, 50 * 1024 * 1024)  # the body is never sent: a 413 proves it was not awaited
    assert answer.startswith(b"HTTP/1.1 413")


def test_wsgi_app_checks_the_cap_itself_for_other_servers(slack, make_bot) -> None:
    class NoRead(io.RawIOBase):
        def read(self, n: int = -1) -> bytes:
            raise AssertionError("the body was read")
    statuses: list[str] = []
    environ = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(MAX_BODY + 1),
               "wsgi.input": NoRead()}
    wsgi_app(make_bot(FakeKPI()))(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["413 Request Entity Too Large"]


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-1", "9" * 40, "\xb2\xb3"])
def test_malformed_timestamp_is_401_not_500(slack, make_bot, serve_http, caplog, timestamp) -> None:
    """Regression: `X-Slack-Request-Timestamp: abc` gave 500 with a traceback in the log."""
    url = serve_http(make_bot(FakeKPI()))
    body = command_body("win_rate")
    headers = {**signed_headers(body), "X-Slack-Request-Timestamp": timestamp}
    with caplog.at_level(logging.DEBUG):
        assert post(url, body, headers)[0] == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


MALFORMED_PAYLOADS = ["not json", "[1, 2]", '"text"', "{", '{"type": "block_actions"}',
                      '{"type": "block_actions", "actions": "kpi_trend"}',
                      '{"type": "block_actions", "actions": [1]}',
                      '{"type": "block_actions", "actions": [{"action_id": "kpi_trend"}], "user": "U1"}']


@pytest.mark.parametrize("payload", MALFORMED_PAYLOADS)
def test_signed_malformed_interaction_payload_is_400(slack, make_bot, serve_http, caplog, payload) -> None:
    """Regression: signed but malformed interaction payloads gave 500."""
    url = serve_http(make_bot(FakeKPI()))
    body = urlencode({"payload": payload}).encode()
    with caplog.at_level(logging.WARNING):
        assert post(url, body, signed_headers(body))[0] == 400
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("value", ["not json", "[]", '{"as_of": "2026-11-27"}', '{"q": "win_rate", "as_of": "soon"}'])
def test_button_with_an_unreadable_value_gets_a_polite_error(slack, make_bot, serve_http, value) -> None:
    url = serve_http(make_bot(FakeKPI()))
    for action in ("kpi_trend", "kpi_explain", "kpi_share"):
        body = action_body(action, value, response_url=slack.response_url())
        assert post(url, body, signed_headers(body))[0] == 200
    replies = slack.wait_for("response_url", count=3)
    assert all("could not be read" in r.params["text"] for r in replies)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
                    max_leaves=12)
KEYS = st.sampled_from(["type", "actions", "user", "channel", "team", "container", "view", "response_url",
                        "trigger_id", "command", "text", "event", "api_app_id"])
PAYLOAD = st.dictionaries(KEYS, JSON | st.just("block_actions") | st.just([{"action_id": "kpi_explain",
                                                                          "value": "{}"}]), max_size=6)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=PAYLOAD | JSON, as_form=st.booleans(), kind=st.sampled_from(["payload", "command", "event"]))
def test_no_signed_body_makes_a_500(slack, make_bot, payload, as_form, kind) -> None:
    """Whatever a signed request carries, the answer is 200/400/401/404, never a 500."""
    app = getattr(test_no_signed_body_makes_a_500, "app", None) or make_bot(FakeKPI())
    test_no_signed_body_makes_a_500.app = app  # type: ignore[attr-defined]  # one app for all examples
    if kind == "payload":
        body, ctype = urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    elif kind == "command" and isinstance(payload, dict):
        form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
        body, ctype = urlencode({"command": "/kpi", **form}).encode(), "application/x-www-form-urlencoded"
    else:
        body, ctype = json.dumps(payload).encode(), "application/json" if as_form else "text/plain"
    headers = signed_headers(body, ctype=ctype)
    environ = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": headers.pop("Content-Type"), "wsgi.input": io.BytesIO(body),
               **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}}
    statuses: list[str] = []
    wsgi_app(app)(environ, lambda status, hdrs: statuses.append(status))
    assert statuses and statuses[0][:3] in {"200", "400", "401", "404"}, statuses


def test_request_bodies_never_reach_the_log(slack, make_bot, serve_http) -> None:
    """Regression: a forged body was copied into the log at INFO (50 MiB body -> 50 MiB of log)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactBodies())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # bolt and slack_sdk log bodies at DEBUG too
    try:
        url = serve_http(make_bot(FakeKPI()))
        marker = "SECRETMARKER" * 10
        forged = command_body(f"win_rate {marker}")
        assert post(url, forged, signed_headers(forged, secret="wrong"))[0] == 401
        signed = command_body(f"win_rate last-quarter where region={marker}", response_url=slack.response_url())
        assert post(url, signed, signed_headers(signed))[0] == 200
        unknown = json.dumps({"type": "event_callback", "token": marker, "event": {"type": "reaction_added"}}).encode()
        post(url, unknown, signed_headers(unknown, ctype="application/json"))
        logging.getLogger("slack_bolt.RequestVerification").info(
            "Invalid request signature detected (signature: x, timestamp: 1, body: token=%s)", marker)
        time.sleep(0.2)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    logged = stream.getvalue()
    assert "characters not logged" in logged  # the filter did see body-carrying lines
    assert "SECRETMARKER" not in logged


def test_long_question_is_quoted_back_as_a_short_excerpt(slack, make_bot) -> None:
    """Regression: a 4,000-character question was echoed back whole in the error."""
    from slack_bolt.request import BoltRequest

    app = make_bot(FakeKPI())
    for text in ["x" * 4000, "win_rate " + "nextweek" * 500, " ".join(["unknown"] * 800)]:
        body = command_body(text)
        resp = app.dispatch(BoltRequest(body=body.decode(), headers=signed_headers(body)))
        ack = json.loads(resp.body)
        assert len(ack["text"]) < 1000 and text not in resp.body and text[:300] not in resp.body
        check_limits(ack["blocks"])


def test_long_question_is_quoted_as_an_excerpt_by_the_real_core(slack, make_bot, real_kpi) -> None:
    from slack_bolt.request import BoltRequest

    app = make_bot(real_kpi)
    text = "win_rate last-quarter where region=" + "EMEA," * 800
    body = command_body(text)
    ack = json.loads(app.dispatch(BoltRequest(body=body.decode(), headers=signed_headers(body))).body)
    assert ":warning:" in json.dumps(ack["blocks"]) and len(ack["text"]) < 1000
    assert "EMEA," * 100 not in json.dumps(ack)


def long_question() -> str:
    q = "win_rate last-quarter where region=" + ",".join(f"Région-{i:04d}" for i in range(300))
    assert len(q) > 3600
    return q


def test_buttons_of_a_3600_character_question_carry_a_reference_that_works(slack, make_bot, serve_http) -> None:
    """Regression: buttons carried a truncated question, and then failed."""
    kpi = FakeKPI()
    app = make_bot(kpi)
    url = serve_http(app)
    question = long_question()
    body = command_body(question, response_url=slack.response_url())
    status, ack, _ = post(url, body, signed_headers(body))
    assert status == 200
    check_limits(ack["blocks"])
    (buttons,) = [b for b in ack["blocks"] if b["type"] == "actions"]
    values = {e["action_id"]: e["value"] for e in buttons["elements"]}
    assert json.loads(values.pop("kpi_follow")) == {"m": "win_rate"}  # Follow carries the metric, not the question
    assert all(len(v) <= BUTTON_VALUE_CHARS and "ref" in json.loads(v) for v in values.values())
    share = action_body("kpi_share", values["kpi_share"], response_url=slack.response_url())
    assert post(url, share, signed_headers(share))[0] == 200
    slack.wait_for("chat.postMessage")
    assert kpi.queries[-1] == question  # the whole question, not a cut one
    explain = action_body("kpi_explain", values["kpi_explain"], response_url=slack.response_url())
    assert post(url, explain, signed_headers(explain))[0] == 200
    replies = slack.wait_for("response_url", count=2)
    assert any("How Win rate is computed" in r.params.get("text", "") for r in replies)


def test_a_question_that_fits_travels_in_the_button_itself() -> None:
    value = json.loads(button_value("win_rate last-quarter where region=Région", AS_OF))
    assert value == {"q": "win_rate last-quarter where region=Région", "as_of": "2026-11-27"}


def test_a_forgotten_reference_is_told_to_ask_again(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = action_body("kpi_explain", button_value("", AS_OF, ref="q" + "0" * 31), response_url=slack.response_url())
    assert post(url, body, signed_headers(body))[0] == 200
    (reply,) = slack.wait_for("response_url")
    assert "ask again" in reply.params["text"]
