"""Who may see which metric (pure; layer: bot logic).

A metric named by no ``slack.access`` rule is open. A metric named by one or more rules may be asked
about in any channel listed by one of them, or by any user listed by one of them. Channels match by id
(``C0123``) or by name (``#sales`` or ``sales``); mentions carry only the id. Anything posted *publicly*
(Share, Trend charts, mention answers, digests, alerts) needs the channel itself to be allowed: a
listed user may see a restricted metric privately anywhere, but not post it where others would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from metrics_core.errors import AccessDenied

from .config import AccessRule

log = logging.getLogger("kpi.bot.access")


@dataclass(frozen=True)
class Asker:
    user_id: str = ""
    channel_id: str = ""
    channel_name: str = ""
    trusted: bool = False  # `kpi ask` without --channel/--user: whoever can read the file may see all
    locale: str | None = None  # the user's Slack language, set when slack.user_locale allows (user_locale.py)
    following: frozenset[str] = frozenset()  # the metrics they follow (App Home): their answers say Unfollow


class AccessPolicy:
    def __init__(self, rules: tuple[AccessRule, ...] = ()) -> None:
        self.rules = rules

    def _rules_for(self, metric: str) -> list[AccessRule]:
        return [r for r in self.rules if metric in r.metrics]

    def channel_allowed(self, metric: str, channel: str, channel_name: str = "") -> bool:
        rules = self._rules_for(metric)
        if not rules:
            return True
        names = {_norm(channel), _norm(channel_name)} - {""}
        return any(_norm(c) in names for r in rules for c in r.channels)

    def allowed(self, metric: str, asker: Asker, *, public: bool = False) -> bool:
        if asker.trusted:
            return True
        if self.channel_allowed(metric, asker.channel_id, asker.channel_name):
            return True
        return not public and any(asker.user_id and asker.user_id in r.users for r in self._rules_for(metric))

    def key_allowed(self, metric: str, *key_names: str) -> bool:
        """An API key (by its id or name) may read ``metric``: it is open, or a rule lists the key."""
        rules = self._rules_for(metric)
        return not rules or any(k and k in r.keys for r in rules for k in key_names)

    def check(self, metric: str, asker: Asker, *, public: bool = False) -> None:
        """Raise AccessDenied (a user error, answered politely and ephemerally) and log the refusal."""
        if self.allowed(metric, asker, public=public):
            return
        log.warning("access refused: user=%s channel=%s (%s) metric=%s public=%s",
                    asker.user_id, asker.channel_id, asker.channel_name, metric, public)
        if public and self.allowed(metric, asker):
            raise AccessDenied(f"Sorry, '{metric}' is not available here for everyone to see: you may ask for it "
                               "with /kpi (only you see that answer), but not post it in this channel.")
        raise AccessDenied(f"Sorry, '{metric}' is not available here. Ask in a channel where it is shared, "
                           "or ask an admin for access.")


def _norm(channel: str) -> str:
    return channel.strip().lstrip("#").lower()
