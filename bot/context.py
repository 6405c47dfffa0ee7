"""What every handler shares: the definitions provider, the work pool and the ack rendezvous (layer: bot runtime)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .access import Asker
from .budget import Rendezvous
from .provider import KpiProvider, Snapshot

MAIN_COMMAND = "/kpi"


@dataclass
class BotContext:
    provider: KpiProvider
    rendezvous: Rendezvous

    def current(self) -> Snapshot:
        return self.provider.current()


def request_key(body: dict[str, Any]) -> str:
    """Slack's trigger_id (unique per command / click), or a digest of the body when absent."""
    if body.get("trigger_id"):
        return str(body["trigger_id"])
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def asker_of(body: dict[str, Any]) -> Asker:
    """Who asked where, from a slash command or an interaction payload."""
    if "channel_id" in body:  # slash command form
        return Asker(body.get("user_id", ""), body.get("channel_id", ""), body.get("channel_name", ""))
    channel = body.get("channel") or body.get("container") or {}
    user = body.get("user") or {}
    return Asker(user.get("id", ""), channel.get("id") or channel.get("channel_id", ""), channel.get("name", ""))
