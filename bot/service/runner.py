"""The running service: one provider, cache, key store and scheduler behind the API and Slack (layer: bot entry).

    service = Service(ServeSettings.load(), Path("definitions.yaml"))
    service.run()          # blocks; SIGTERM/SIGINT -> graceful stop

Start: load the definitions (errors listed, exit 1), open the state database, build the Slack app when
Slack is configured, schedule every job, then serve HTTP with uvicorn. Stop (signal): uvicorn stops
accepting and lets in-flight requests finish (a sync started by POST /v1/sync included), then the
scheduler waits for running jobs, a sync started from Slack and the Slack answers still being computed
are waited for (one ``KPI_SHUTDOWN_GRACE`` for all), Socket Mode disconnects.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from ..provider import KpiProvider
from ..store import AlertStore, FollowStore
from .keys import KeyStore
from .limits import RateLimiter
from .settings import ServeSettings
from .syncs import SyncRunner
from .telemetry import Telemetry

log = logging.getLogger("kpi.serve")


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn, minus re-raising the signal after its graceful stop: that would kill the process
        before the scheduler and a Slack-started sync are given their turn to finish (Service.stop)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            before = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in before.items():
                    signal.signal(sig, handler)
    return Server


def _Server(config: Any) -> Any:  # noqa: N802 - a class made on first use (uvicorn is imported late)
    return _server_class()(config)


class Service:
    def __init__(self, settings: ServeSettings, definitions: Path, *, slack_client: Any = None) -> None:
        self.settings, self.definitions = settings, Path(definitions)
        self.cache: Any = None
        self.telemetry = Telemetry(lambda: self.cache.stats if self.cache is not None else None)
        self.provider = KpiProvider(self._load, path=self.definitions, on_error=self._reload_failed)
        self.keys = KeyStore(settings.state_db)
        self.limiter = RateLimiter(settings.kpi_api_rate_limit)
        self.syncs = SyncRunner(self.provider, self.telemetry)
        self.teams: Any = None  # a TeamProviders when workspaces have their own definitions (oauth mode)
        self.workspaces: Any = None  # the installed workspaces and their tokens (oauth mode)
        self._slack_down: Any = None  # a SlackUnreachable when auth.test got no answer at start
        self.slack = self._slack_app(slack_client)
        from .jobs import Jobs

        # multi-workspace: each installed workspace's own token (the app's client has none of its own)
        jobs_client = self.slack.client if self.slack is not None and settings.slack_mode != "oauth" else None
        self.jobs = Jobs(self.provider, slack_client=jobs_client, workspaces=self.workspaces,
                         store=AlertStore(settings.state_db), syncs=self.syncs, telemetry=self.telemetry,
                         speed=settings.kpi_clock_speed)
        from .api import create_api

        self.api = create_api(self)
        self._stop = threading.Event()
        self._link: Any = None  # a SlackLink: Slack's connection, retried while it does not answer
        self.server: Any = None

    # -- pieces ----------------------------------------------------------------------------------
    def _load(self) -> Any:
        """The definitions with the one shared answer cache (warehouses only, as for `kpi query`)."""
        from metrics_core.cli import open_kpi

        kpi = open_kpi(self.definitions)
        if kpi.cache is not None:
            if self.cache is None:
                self.cache = kpi.cache
            self.cache.ttl_seconds = kpi.cache.ttl_seconds  # a reload may change cache_ttl_seconds
            kpi.cache = self.cache
        return kpi

    def _slack_app(self, client: Any) -> Any:
        mode = self.settings.slack_mode
        if mode == "off":
            return None
        from ..app import create_app, make_client

        slack = self.settings.slack()
        follows = FollowStore(self.settings.state_db)
        if mode == "oauth":
            from ..teams import TeamProviders
            from .installs import installation_store, oauth_settings
            from .workspaces import Workspaces

            self.teams = TeamProviders(self.provider, {team: KpiProvider.from_path(path, on_error=self._reload_failed)
                                                       for team, path in self.settings.team_definitions().items()})
            store = installation_store(self.settings)
            self.workspaces = Workspaces(store, self.teams, slack=slack, client_id=self.settings.slack_client_id or "",
                                         client_secret=self.settings.slack_client_secret or "")
            app = create_app(self.teams, settings=slack, syncs=self.syncs, follows=follows,
                             oauth_settings=oauth_settings(self.settings, store))
            app.enable_token_revocation_listeners()  # app_uninstalled, tokens_revoked: the bot is deleted
            return app
        from ..app import SlackUnreachable

        client = client or make_client(slack)
        try:
            return create_app(self.provider, client=client, settings=slack, syncs=self.syncs, follows=follows)
        except SlackUnreachable as e:  # the API and the schedules go on; SlackLink tries again
            self._slack_down = e
            return create_app(self.provider, client=client, settings=slack, syncs=self.syncs, follows=follows,
                              verify_token=False)

    def _reload_failed(self, message: str) -> None:
        from ..serve import _tell_admin

        _tell_admin(self.slack, message)

    def health(self) -> dict[str, Any]:
        snap = self.provider.current()
        return {"status": "ok", "metrics": len(snap.kpi.metrics()), "slack": self.settings.slack_mode,
                "slack_connected": self._link.connected if self._link is not None else None,
                "jobs": sorted(j.id for j in self.jobs.scheduler.get_jobs()),
                "sync_running": self.syncs.running.is_set()}

    # -- lifecycle -------------------------------------------------------------------------------
    def start_background(self) -> None:
        """The definitions watcher, the scheduler and (Socket Mode) the Slack connection."""
        self.provider.watch(self._stop)
        for team_provider in self.teams.by_team.values() if self.teams is not None else ():
            team_provider.watch(self._stop)
        self.jobs.start()
        jobs = [f"{j.id} (next {j.next_run_time:%Y-%m-%d %H:%M:%S %Z})" for j in self.jobs.scheduler.get_jobs()]
        log.info("kpi serve: %d metrics, jobs: %s", len(self.provider.current().kpi.metrics()),
                 ", ".join(jobs) or "none")
        if self.workspaces is not None:
            try:
                log.info("kpi serve: %s", self.workspaces.describe())
            except Exception as e:  # noqa: BLE001 - a log line must not stop the start
                log.error("cannot list the installed workspaces: %s", e)
        if self.slack is not None and self.settings.slack_mode in ("socket", "http"):
            from .slack_link import SlackLink

            socket = self.settings.slack_mode == "socket"
            self._link = SlackLink(self.slack, app_token=self.settings.slack_app_token if socket else None,
                                   stop=self._stop, down=self._slack_down)
            self._link.start()

    def http_server(self, *, host: str | None = None, port: int | None = None) -> Any:
        """The uvicorn server (not running yet) for the API and Slack's HTTP endpoints."""
        import uvicorn

        config = uvicorn.Config(self.api, host=host or self.settings.kpi_host,
                                port=self.settings.kpi_port if port is None else port, lifespan="off",
                                log_level="info", access_log=False,
                                timeout_graceful_shutdown=int(self.settings.kpi_shutdown_grace) or None)
        return _Server(config)

    def run(self, *, host: str | None = None, port: int | None = None) -> None:
        """Serve until SIGTERM/SIGINT (uvicorn's handlers: stop accepting, drain), then stop the rest."""
        self.server = self.http_server(host=host, port=port)
        self.start_background()
        cfg = self.server.config
        log.info("kpi serve: API on http://%s:%s (OpenAPI at /openapi.json)%s", cfg.host, cfg.port,
                 " and Slack at /slack/events" if self.settings.slack_mode in ("http", "oauth") else "")
        try:
            self.server.run()
        finally:
            self.stop()

    def stop(self) -> None:
        """After the HTTP server has drained: let running jobs, syncs and Slack answers finish, all within
        one ``KPI_SHUTDOWN_GRACE``, then let go of Slack's connection and the state database."""
        log.info("kpi serve: stopping (letting running jobs, syncs and answers finish)")
        grace = self.settings.kpi_shutdown_grace
        deadline = time.monotonic() + grace
        left = lambda: max(0.0, deadline - time.monotonic())  # noqa: E731
        self._stop.set()
        self.jobs.shutdown(timeout=left())
        if not self.syncs.close(timeout=left()):
            log.error("a sync was still running after %s s", grace)
        pool = getattr(getattr(self.slack, "kpi", None), "pool", None)
        if pool is not None and not pool.drain(left()):
            log.error("%d Slack answers were still pending after %s s", pool.pending, grace)
        if self._link is not None:  # last: a Socket Mode ack may still carry one of those answers
            self._link.close()
        self.keys.close()
        log.info("kpi serve: stopped")
