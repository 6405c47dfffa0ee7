"""Events: ``@kpi what was win rate last quarter by region?`` answered in a thread.

Bolt acks events at once; the answer is computed on the bot's answer pool. The free words become the core's
grammar (``mention.to_query``); an answer goes in the thread, a user error to the asker only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from slack_bolt import App

from metrics_core.i18n import use_locale

from .access import Asker
from .answer import answer_query, guarded
from .context import BotContext
from .mention import to_query
from .messages import Reply, busy_reply
from .user_locale import speaking


def answer_mention(ctx: BotContext, text: str, asker: Asker) -> Reply:
    snap = ctx.current()

    def run() -> Reply:
        query = to_query(snap.kpi, text, cal=snap.calendar)
        return answer_query(snap, query, asker, ephemeral=False)
    with use_locale(speaking(snap, asker)):
        return guarded(run)


class SeenEvents:
    """Slack redelivers an event it thinks was not acked (x-slack-retry-num); answer each event_id once."""

    def __init__(self, size: int = 2000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def first_time(self, event_id: str) -> bool:
        if not event_id:  # nothing to recognise it by: answer it
            return True
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return True


def register(app: App, ctx: BotContext) -> None:
    seen = SeenEvents()

    def answer(event: dict[str, Any], client: Any) -> None:
        asker = Asker(str(event.get("user", "")), str(event.get("channel", "")))
        asker = ctx.locales.for_asker(ctx.current(), client, asker)  # on the pool: users.info may take a moment
        reply = answer_mention(ctx, str(event.get("text", "")), asker)
        thread = event.get("thread_ts") or event.get("ts")
        if reply.ok:
            client.chat_postMessage(channel=asker.channel_id, thread_ts=thread, text=reply.text, blocks=reply.blocks)
        else:
            client.chat_postEphemeral(channel=asker.channel_id, user=asker.user_id, text=reply.text,
                                      blocks=reply.blocks)

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        """Acked by bolt; this only queues the answer, so the ack is not held by the query."""
        if not seen.first_time(str(body.get("event_id", ""))):
            return
        if not ctx.pool.run_later(lambda: answer(event, client)):
            busy = busy_reply(ctx.pool.pending)
            client.chat_postEphemeral(channel=event.get("channel", ""), user=event.get("user", ""),
                                      text=busy.text, blocks=busy.blocks)
