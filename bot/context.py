"""What every handler shares: the definitions provider and the answer pool (layer: bot runtime)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .access import Asker
from .budget import AnswerPool
from .provider import KpiProvider, Snapshot
from .user_locale import UserLocales

MAIN_COMMAND = "/kpi"


@dataclass
class BotContext:
    provider: KpiProvider
    pool: AnswerPool
    locales: UserLocales = field(default_factory=UserLocales)  # slack.user_locale lookups, cached
    syncs: Any = None  # a SyncRunner under `kpi serve`: enables /kpi sync

    def current(self) -> Snapshot:
        return self.provider.current()


def asker_of(body: dict[str, Any]) -> Asker:
    """Who asked where, from a slash command or an interaction payload."""
    if "channel_id" in body:  # slash command form
        return Asker(body.get("user_id", ""), body.get("channel_id", ""), body.get("channel_name", ""))
    channel = body.get("channel") or body.get("container") or {}
    user = body.get("user") or {}
    return Asker(user.get("id", ""), channel.get("id") or channel.get("channel_id", ""), channel.get("name", ""))
