"""What every handler shares: the definitions provider, the answer pool, who follows what (layer: bot runtime)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .access import Asker
from .budget import AnswerPool
from .provider import KpiProvider, Snapshot
from .store import FollowStore
from .user_locale import UserLocales

MAIN_COMMAND = "/kpi"


@dataclass
class BotContext:
    provider: KpiProvider
    pool: AnswerPool
    locales: UserLocales = field(default_factory=UserLocales)  # slack.user_locale lookups, cached
    syncs: Any = None  # a SyncRunner under `kpi serve`: enables /kpi sync
    follows: FollowStore = field(default_factory=FollowStore)  # App Home (home.py); in memory unless given

    def current(self) -> Snapshot:
        return self.provider.current()

    def who(self, snap: Snapshot, client: Any, asker: Asker, team: str) -> Asker:
        """The asker with their language (``slack.user_locale``) and the metrics they follow (for the
        Follow/Unfollow button of a private answer)."""
        asker = self.locales.for_asker(snap, client, asker)
        if not asker.user_id:
            return asker
        return replace(asker, following=frozenset(self.follows.metrics(team, asker.user_id)))


def team_of(body: dict[str, Any]) -> str:
    """The workspace a request came from: a command's ``team_id``, an interaction's ``team.id``."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    return str(team)


def asker_of(body: dict[str, Any]) -> Asker:
    """Who asked where, from a slash command or an interaction payload."""
    if "channel_id" in body:  # slash command form
        return Asker(body.get("user_id", ""), body.get("channel_id", ""), body.get("channel_name", ""))
    channel = body.get("channel") or body.get("container") or {}
    user = body.get("user") or {}
    return Asker(user.get("id", ""), channel.get("id") or channel.get("channel_id", ""), channel.get("name", ""))
