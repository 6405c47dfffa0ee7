"""Test helpers: Slack's requests as Slack sends them (signed forms and JSON), posting them to the bot,
Slack's Block Kit limits, and golden snapshots."""

from __future__ import annotations

import difflib
import itertools
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_FLAG = "KPI_UPDATE_SNAPSHOTS"
_ids = itertools.count(1)


def command_body(text: str, *, command: str = "/kpi", response_url: str = "http://127.0.0.1:9/none",
                 channel: str = "C0SALES", channel_name: str = "sales", user: str = "U0ALICE") -> bytes:
    """A slash command as Slack posts it: a real form body."""
    return urlencode({"token": "legacy", "team_id": "T0001", "team_domain": "acme", "channel_id": channel,
                      "channel_name": channel_name, "user_id": user, "user_name": "alice", "command": command,
                      "text": text, "response_url": response_url, "trigger_id": f"trig.{next(_ids)}",
                      "api_app_id": "A0KPI"}).encode()


def action_body(action_id: str, value: str, *, response_url: str, channel: str = "C0SALES",
                user: str = "U0ALICE") -> bytes:
    payload = {"type": "block_actions", "team": {"id": "T0001"}, "user": {"id": user},
               "api_app_id": "A0KPI", "token": "legacy", "trigger_id": f"trig.{next(_ids)}",
               "channel": {"id": channel, "name": "sales"}, "container": {"type": "message", "is_ephemeral": True},
               "response_url": response_url,
               "actions": [{"action_id": action_id, "block_id": "kpi_actions", "value": value, "type": "button"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def mention_body(text: str, *, channel: str = "C0SALES", user: str = "U0ALICE") -> bytes:
    return json.dumps({"token": "legacy", "team_id": "T0001", "api_app_id": "A0KPI", "type": "event_callback",
                       "event_id": f"Ev{next(_ids)}", "event_time": int(time.time()),
                       "event": {"type": "app_mention", "user": user, "text": text, "channel": channel,
                                 "ts": "1700000000.000100", "event_ts": "1700000000.000100"}}).encode()


def signed_headers(body: bytes, *, secret: str = SECRET, ts: int | None = None,
                   ctype: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    sig = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body.decode())
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig, "Content-Type": ctype}


def assert_snapshot(name: str, data: Any) -> None:
    """Compare with tests/bot/snapshots/<name>.json; KPI_UPDATE_SNAPSHOTS=1 rewrites. Missing = failure."""
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get(UPDATE_FLAG) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"missing snapshot {path}; create it with:\n  {UPDATE_FLAG}=1 .venv/bin/pytest tests/bot -q",
                    pytrace=False)
    old = path.read_text(encoding="utf-8")
    if old != text:
        diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(path), "rendered"))
        pytest.fail(f"snapshot {name} differs (refresh with {UPDATE_FLAG}=1 if intended):\n{diff}", pytrace=False)


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, float]:
    start = time.monotonic()
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    took = time.monotonic() - start
    try:
        return status, json.loads(raw or b"null"), took
    except json.JSONDecodeError:
        return status, raw.decode(), took


def check_limits(blocks: list[dict[str, Any]]) -> None:
    """Slack's documented limits, checked by hand and by slack_sdk's own block models."""
    assert 0 < len(blocks) <= 50
    for b in blocks:
        Block.parse(b).to_dict()  # raises SlackObjectFormationError past a limit
        if b["type"] == "section":
            assert len(b.get("text", {}).get("text", "")) <= 3000
            assert len(b.get("fields", [])) <= 10
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25
            assert all(len(e.get("value", "")) <= 2000 for e in b["elements"])
        if b["type"] == "context":
            assert len(b["elements"]) <= 10
