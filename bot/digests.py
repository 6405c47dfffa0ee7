"""Scheduled digests: each listed metric posted to a channel with ``chat.postMessage`` (layer: bot logic).

A metric the channel may not see (``slack.access``) is skipped and logged, never posted. A metric
that fails is logged and skipped; the others still go out.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from metrics_core.i18n import gettext as _, use_locale

from .access import Asker
from .answer import answer_query
from .config import Digest
from .labels import esc

log = logging.getLogger("kpi.bot.digests")


def digest_queries(digest: Digest) -> list[tuple[str, str]]:
    by = f" by {', '.join(digest.by)}" if digest.by else ""
    return [(m, f"{m} {digest.period}{by}") for m in digest.metrics]


def _digest_word(snap: Any) -> str:
    with use_locale(snap.locale):
        return _("Digest")


def run_digest(client: Any, snap: Any, digest: Digest, *, as_of: date | None = None) -> int:
    """Post the digest; returns how many messages went out."""
    where = Asker(channel_id=digest.channel, channel_name=digest.channel)
    posted = 0
    for metric, query in digest_queries(digest):
        if not snap.policy.channel_allowed(metric, digest.channel, digest.channel):
            log.warning("digest %s: %s skipped, it may not be seen in %s", digest.name, metric, digest.channel)
            continue
        reply = answer_query(snap, query, where, as_of=as_of, ephemeral=False)
        if not reply.ok:
            log.error("digest %s: %s not posted: %s", digest.name or digest.channel, query, reply.text)
            continue
        label = {"type": "context", "elements": [{"type": "mrkdwn", "text":
                 f":mailbox_with_mail: {esc(digest.name or _digest_word(snap))} · {esc(digest.schedule)}"}]}
        client.chat_postMessage(channel=digest.channel, text=reply.text, blocks=[label, *reply.blocks])
        posted += 1
    return posted
