"""Mentions and buttons through the real bolt app: Trend uploads a chart with files_upload_v2,
Explain answers ephemerally, Share re-posts in channel; a mention is answered in its thread."""

from __future__ import annotations

import json
import time

from bot.render import button_value
from slack_doubles import AS_OF, FakeKPI
from slack_requests import action_body, mention_body, post, signed_headers

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_trend_button_uploads_a_png_with_files_upload_v2(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = action_body("kpi_trend", button_value("win_rate last-quarter", AS_OF), response_url=slack.response_url())
    assert post(url, body, signed_headers(body))[0] == 200
    (complete,) = slack.wait_for("files.completeUploadExternal")
    (get_url,) = slack.calls_to("files.getUploadURLExternal")
    (upload,) = slack.calls_to("upload")
    assert get_url.params["filename"] == "win_rate-trend.png"
    assert int(get_url.params["length"]) == len(upload.body)
    assert upload.body.startswith(PNG_MAGIC)
    assert "authorization" not in upload.headers
    assert complete.params["channel_id"] == "C0SALES"
    assert json.loads(complete.params["files"])[0]["id"] == upload.params["file_id"]
    assert "<@U0ALICE> asked for the Win rate trend" in complete.params["initial_comment"]


def test_explain_button_answers_ephemerally(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = action_body("kpi_explain", button_value("cac ytd", AS_OF), response_url=slack.response_url())
    assert post(url, body, signed_headers(body))[0] == 200
    (reply,) = slack.wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral" and reply.params["replace_original"] is False
    text = json.dumps(reply.params["blocks"])
    assert "How CAC is computed" in text and "SELECT" in text


def test_share_button_posts_in_channel_and_removes_the_ephemeral(slack, make_bot, serve_http) -> None:
    kpi = FakeKPI()
    url = serve_http(make_bot(kpi))
    body = action_body("kpi_share", button_value("win_rate last-quarter", AS_OF), response_url=slack.response_url())
    assert post(url, body, signed_headers(body))[0] == 200
    (posted,) = slack.wait_for("chat.postMessage")
    blocks = json.loads(posted.params["blocks"]) if isinstance(posted.params["blocks"], str) else posted.params["blocks"]
    assert posted.params["channel"] == "C0SALES"
    assert "Shared by <@U0ALICE>" in json.dumps(blocks)
    assert [e["action_id"] for e in blocks[-1]["elements"]] == ["kpi_trend", "kpi_explain", "kpi_why", "kpi_follow", "kpi_records"]  # no Share again
    (removed,) = slack.wait_for("response_url")
    assert removed.params["delete_original"] is True


def test_mention_in_plain_words_is_answered_in_thread(slack, make_bot, serve_http) -> None:
    kpi = FakeKPI()
    url = serve_http(make_bot(kpi))
    body = mention_body("<@U0BOT> what was win rate last quarter by region?")
    assert post(url, body, signed_headers(body, ctype="application/json"))[0] == 200
    (posted,) = slack.wait_for("chat.postMessage")
    assert posted.params["thread_ts"] == "1700000000.000100"
    assert kpi.queries == ["win_rate last-quarter by region"]


def test_mention_without_a_metric_gets_a_clear_ephemeral_reply(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = mention_body("<@U0BOT> how is the weather?")
    assert post(url, body, signed_headers(body, ctype="application/json"))[0] == 200
    (eph,) = slack.wait_for("chat.postEphemeral")
    assert eph.params["user"] == "U0ALICE" and "could not find a metric" in eph.params["text"]


def test_redelivered_mention_is_answered_once(slack, make_bot, serve_http) -> None:
    url = serve_http(make_bot(FakeKPI()))
    body = mention_body("<@U0BOT> win rate ytd")
    for retry in ("", "1"):
        headers = signed_headers(body, ctype="application/json")
        if retry:
            headers.update({"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"})
        assert post(url, body, headers)[0] == 200
    slack.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_share_where_the_bot_is_not_invited_says_how_to_fix_it(slack, make_bot, serve_http) -> None:
    slack.refuse("chat.postMessage", "not_in_channel")
    url = serve_http(make_bot(FakeKPI()))
    body = action_body("kpi_share", button_value("win_rate ytd", AS_OF), response_url=slack.response_url())
    assert post(url, body, signed_headers(body))[0] == 200
    (reply,) = slack.wait_for("response_url")
    assert "invite me with `/invite @kpi`" in reply.params["text"] and reply.params["response_type"] == "ephemeral"
