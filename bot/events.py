"""Events: ``@kpi what was win rate last quarter by region?`` answered in a thread.

Bolt acks events at once; the listener then runs on bolt's pool. The free words become the core's
grammar (``mention.to_query``); an answer goes in the thread, a user error to the asker only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from slack_bolt import App

from .access import Asker
from .answer import answer_query, guarded
from .context import BotContext
from .mention import to_query
from .messages import Reply


def answer_mention(ctx: BotContext, text: str, asker: Asker) -> Reply:
    snap = ctx.current()

    def run() -> Reply:
        query = to_query(snap.kpi, text, cal=snap.calendar)
        return answer_query(snap, query, asker, ephemeral=False)
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

    @app.event("app_mention")
    def on_mention(event: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        if not seen.first_time(body.get("event_id", "")):
            return
        asker = Asker(event.get("user", ""), event.get("channel", ""))
        reply = answer_mention(ctx, event.get("text", ""), asker)
        thread = event.get("thread_ts") or event.get("ts")
        if reply.ok:
            client.chat_postMessage(channel=asker.channel_id, thread_ts=thread, text=reply.text, blocks=reply.blocks)
        else:
            client.chat_postEphemeral(channel=asker.channel_id, user=asker.user_id, text=reply.text,
                                      blocks=reply.blocks)
