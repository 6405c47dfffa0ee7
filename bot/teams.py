"""One deploy, several Slack workspaces: each request answered from its workspace's definitions (layer: bot runtime).

    providers = TeamProviders(shared, {"T0ACME": KpiProvider.from_path("acme.yaml")})
    app = create_app(providers, oauth_settings=...)      # a bolt middleware sets the request's team
    providers.current()                                  # the snapshot of the team being answered

Under a multi-workspace install (bolt's OAuth flow, ``service/installs.py``) every request carries its
``team_id``; ``KPI_TEAM_DEFINITIONS`` maps some team ids to their own definitions file, every other
team shares the service's one. The team is a context variable set by ``register``'s middleware for
the listener's thread; the answer pool copies it into its workers (``budget.AnswerPool.submit``).
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any, Callable

from .provider import KpiProvider, Snapshot

CURRENT_TEAM: contextvars.ContextVar[str] = contextvars.ContextVar("kpi_slack_team", default="")


class TeamProviders:
    """The KpiProvider interface the bot uses (``current``, ``refs``, ``on_reload``, ``watch``), per team."""

    def __init__(self, shared: KpiProvider, by_team: dict[str, KpiProvider]) -> None:
        self.shared, self.by_team = shared, dict(by_team)
        self.path = shared.path

    def for_team(self, team: str) -> KpiProvider:
        return self.by_team.get(team, self.shared)

    def current(self) -> Snapshot:
        return self.for_team(CURRENT_TEAM.get()).current()

    @property
    def refs(self) -> Any:
        return self.for_team(CURRENT_TEAM.get()).refs

    @property
    def on_reload(self) -> list[Callable[[Snapshot], None]]:
        return self.shared.on_reload  # the schedules follow the shared definitions

    def watch(self, stop: threading.Event) -> list[threading.Thread]:
        return [p.watch(stop) for p in (self.shared, *self.by_team.values()) if p.path is not None]


def register(app: Any) -> None:
    """Every request runs with its workspace as ``CURRENT_TEAM`` (listeners and the answers they queue).

    Set, not reset: bolt runs the listener after the whole middleware chain has returned, on this same
    thread, and every request sets it again before anything reads it (a reused thread holds no stale team
    that matters)."""
    @app.middleware
    def workspace(context: Any, next: Callable[[], Any]) -> Any:  # noqa: A002 - bolt passes it by this name
        CURRENT_TEAM.set(str(context.team_id or ""))
        return next()
