"""A Slack user's language, when the definitions let users choose (layer: bot runtime; one Slack call).

    locales = UserLocales()
    asker = locales.for_asker(snap, client, asker)   # Asker(..., locale="pl_PL") when slack.user_locale: true

With ``slack.user_locale: true`` every answer speaks the asker's Slack language (``users.info`` with
``include_locale``; "pl-PL" -> "pl_PL"), numbers and dates included; otherwise, and whenever Slack does
not say or the call fails, the answer uses ``slack.locale`` / ``locale:`` of the definitions. A language
kpi has no catalog for keeps English words but still gets its own number and date formats. Lookups are
cached per user for an hour, so a busy channel costs one ``users.info`` per person per hour.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from babel import Locale, UnknownLocaleError

from .access import Asker

log = logging.getLogger("kpi.bot")
TTL_SECONDS = 3600.0


def slack_locale(value: Any) -> str | None:
    """Slack's "pl-PL" as a Babel name ("pl_PL"); None for anything Babel does not know."""
    if not isinstance(value, str) or not value.strip():
        return None
    name = value.strip().replace("-", "_")
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return None
    return name


class UserLocales:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, client: Any, user_id: str) -> str | None:
        """The user's Slack locale (cached); None when unknown or Slack cannot be asked."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        try:
            resp = client.users_info(user=user_id, include_locale=True)
            found = slack_locale((resp.get("user") or {}).get("locale"))
        except Exception as e:  # noqa: BLE001 - the definitions' language is a fine answer
            log.warning("users.info for %s failed (%s); answering in the definitions' language", user_id, e)
            found = None
        with self._lock:
            self._cache[user_id] = (now, found)
        return found

    def for_asker(self, snap: Any, client: Any, asker: Asker) -> Asker:
        """``asker`` with its language when the definitions allow it (``slack.user_locale``)."""
        if not getattr(snap.config, "user_locale", False) or client is None or not asker.user_id:
            return asker
        found = self.lookup(client, asker.user_id)
        return replace(asker, locale=found) if found else asker


def speaking(snap: Any, asker: Asker | None) -> str:
    """The language of a reply: the asker's (when looked up and allowed), else the snapshot's."""
    return (asker.locale if asker is not None and asker.locale else None) or snap.locale
