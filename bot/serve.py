"""Running the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP under waitress (layer: bot entry).

    kpi slack serve [--definitions definitions.yaml] [--port 3000]

HTTP mode serves bolt's usual path ``/slack/events`` with a multi-threaded production server; the
signing secret is checked on every request. The transports themselves are in ``transport.py``. Both modes start the digest/alert scheduler and
the definitions watcher.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_bolt import App

from metrics_core.i18n import gettext as _, use_locale

from .app import create_app
from .provider import KpiProvider
from .scheduler import start_scheduler
from .store import FollowStore
from .settings import Settings
from .transport import EVENTS_PATH, http_server, socket_handler, stop_http, wsgi_app

__all__ = ["Bot", "serve", "start_bot", "EVENTS_PATH", "http_server", "socket_handler", "stop_http", "wsgi_app"]

log = logging.getLogger("kpi.bot")


@dataclass
class Bot:
    """A started bot minus its transport: the app, the reloading definitions, scheduler and watcher."""

    app: App
    provider: KpiProvider
    scheduler: Any
    stop_event: threading.Event

    def stop(self) -> None:
        self.stop_event.set()
        self.scheduler.shutdown(wait=False)


def start_bot(definitions: Path, settings: Settings, *, client: Any = None) -> Bot:
    """Load the definitions, build the app, start the watcher and the digest/alert scheduler."""
    holder: dict[str, App] = {}
    provider = KpiProvider.from_path(definitions, on_error=lambda msg: _tell_admin(holder.get("app"), msg))
    app = holder["app"] = create_app(provider, settings=settings, client=client,
                                     follows=FollowStore(settings.state_dir / "bot.sqlite3"))
    stop = threading.Event()
    provider.watch(stop)
    return Bot(app, provider, start_scheduler(app, provider, state_dir=settings.state_dir), stop)


def serve(definitions: Path, *, port: int | None = None, settings: Settings | None = None) -> None:
    """Start everything and block until interrupted."""
    settings = settings or Settings.from_env()
    bot = start_bot(definitions, settings)
    try:
        if settings.mode == "socket":
            log.info("kpi bot: Socket Mode")
            socket_handler(bot.app, settings.app_token or "").start()
        else:
            server = http_server(bot.app, port=port or settings.port)
            log.info("kpi bot: HTTP on port %s%s", server.effective_port, EVENTS_PATH)
            server.run()
    finally:
        bot.stop()


def _tell_admin(app: App | None, message: str) -> None:
    """Definition errors on reload go to slack.admin_channel when configured (the log has them anyway).

    A failure to post is logged, not raised: the watcher must keep watching."""
    if app is None:
        return
    channel = app.kpi.current().config.admin_channel  # type: ignore[attr-defined]
    if not channel:
        return
    from slack_sdk.errors import SlackApiError

    try:
        with use_locale(app.kpi.current().locale):  # type: ignore[attr-defined]
            head = _("definitions.yaml was not reloaded, still serving the last good version:")
        app.client.chat_postMessage(channel=channel, text=f":warning: {head}\n```{message[:2800]}```")
    except SlackApiError as e:
        log.error("could not tell %s about the reload error: %s", channel, e)
