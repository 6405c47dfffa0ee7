"""Every schedule on one APScheduler, in the calendar's timezone (layer: bot runtime).

    jobs = Jobs(provider, slack_client=client_or_None, store=AlertStore(...), syncs=runner, telemetry=t)
    jobs = Jobs(provider, workspaces=Workspaces(...), ...)   # multi-workspace (Slack OAuth)
    jobs.start(); ...; jobs.shutdown()       # waits for running jobs (a sync finishes whole)

Digests and alerts need Slack (skipped, with one log line, when it is not configured); a Sheets sync
runs on ``sheets.every`` / ``sheets.cron``. Under a multi-workspace install each installed workspace
gets its own digest and alert jobs (``digest:T0ACME:0:name``), from its own definitions or the shared
ones, posted with its own bot token and reported to its own admin channel; alert state is kept per
workspace; a workspace with a definitions file of its own also syncs that file's workbook on its
schedule (``sheets:sync:T0ACME``, its failures reported to that workspace's admin channel). Jobs are rebuilt when definitions reload; a workspace's jobs are added when it installs and
removed when it uninstalls.
A failing job is logged, counted, reported to ``slack.admin_channel`` when there is one, and simply
runs again at its next time; it never stops the other jobs (nor another workspace's).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..alerts import run_alert
from ..digests import run_digest
from ..provider import KpiProvider, timezone_of
from ..schedule import parse_schedule
from .clock import FastTrigger

log = logging.getLogger("kpi.serve.jobs")


@dataclass(frozen=True)
class Target:
    """Where one set of digests and alerts goes: a workspace ('' when there is only one), the definitions
    it is answered from, and how to get the client to post with (looked up each time a job runs)."""

    team: str
    provider: Any
    client: Callable[[], Any]


class Jobs:
    def __init__(self, provider: KpiProvider, *, slack_client: Any = None, store: Any = None, syncs: Any = None,
                 telemetry: Any = None, speed: float = 1.0, workspaces: Any = None) -> None:
        self.provider, self.client, self.store, self.syncs = provider, slack_client, store, syncs
        self.telemetry, self.speed, self.workspaces = telemetry, speed, workspaces
        self._running: set[str] = set()
        self._team_syncs: dict[str, Any] = {}  # workspace -> its SyncRunner (own definitions only)
        self._idle = threading.Condition()
        self._lock = threading.RLock()  # reloads and installs reschedule from their own threads
        self.scheduler = BackgroundScheduler(timezone=timezone_of(provider.current()),
                                             job_defaults={"coalesce": True, "max_instances": 1,
                                                           "misfire_grace_time": 600})
        provider.on_reload.append(lambda _snap: self.schedule())
        if workspaces is not None:
            for team, own in workspaces.teams.by_team.items():
                own.on_reload.append(lambda _snap, team=team: self.schedule(team=team))
            workspaces.store.on_save.append(self._installed)
            workspaces.store.on_delete.append(self._uninstalled)

    def start(self) -> list[str]:
        ids = self.schedule()
        self.scheduler.start()
        return ids

    def shutdown(self, timeout: float = 60.0) -> bool:
        """Start no more jobs; wait up to ``timeout`` for running ones. False when some still run."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._running and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
            if self._running:
                log.error("still running after %.0f s, left behind: %s", timeout, ", ".join(sorted(self._running)))
            return not self._running

    def _trigger(self, trigger: Any) -> Any:
        return trigger if self.speed == 1 else FastTrigger(trigger, self.speed)

    def targets(self, team: str | None = None) -> list[Target]:
        """Who gets digests and alerts: each installed workspace (multi-workspace), else the one client."""
        if self.workspaces is None:
            return [Target("", self.provider, lambda: self.client)] if self.client is not None else []
        try:
            installed = self.workspaces.installed()
        except Exception as e:  # noqa: BLE001 - an unreadable store must not stop the Sheets sync job
            log.error("cannot read the installed workspaces (%s): no digests or alerts scheduled", e)
            return []
        return [Target(ws.id, self.workspaces.provider(ws), lambda ws=ws: self.workspaces.client(ws))
                for ws in installed if team is None or ws.id == team]

    def schedule(self, team: str | None = None) -> list[str]:
        """(Re)create every job from the current definitions (``team``: only that workspace's digests and
        alerts); returns the ids of the jobs (re)created."""
        with self._lock:
            jobs = self._digests_and_alerts(self.targets(team))
            if team is None:
                self.scheduler.remove_all_jobs()
                snap = self.provider.current()
                sync_trigger = self._sync_trigger(snap, timezone_of(snap))
                if sync_trigger is not None and self.syncs is not None:
                    jobs.append(("sheets:sync", sync_trigger, lambda: self._sync(), None))
            else:
                for job in self.scheduler.get_jobs():
                    mine = job.id.split(":")[:2] in (["digest", team], ["alert", team])
                    if mine or job.id == f"sheets:sync:{team}":
                        job.remove()
            for job_id, trigger, run, target in jobs:
                self.scheduler.add_job(self._guarded, self._trigger(trigger), args=(job_id, run, target), id=job_id,
                                       name=job_id, replace_existing=True)
            return [j[0] for j in jobs]

    def _digests_and_alerts(self, targets: list[Target]) -> list[tuple[str, Any, Callable[[], Any], Target | None]]:
        jobs: list[tuple[str, Any, Callable[[], Any], Target | None]] = []
        for t in targets:
            snap = t.provider.current()
            tz, tag = timezone_of(snap), f"{t.team}:" if t.team else ""
            store = _TeamAlerts(self.store, t.team) if t.team and self.store is not None else self.store
            for i, d in enumerate(snap.config.digests):
                jobs.append((f"digest:{tag}{i}:{d.name or d.channel}", parse_schedule(d.schedule, tz),
                             lambda d=d, t=t: run_digest(t.client(), t.provider.current(), d), t))
            for a in snap.config.alerts:
                jobs.append((f"alert:{tag}{a.key}", parse_schedule(a.schedule, tz),
                             lambda a=a, t=t, store=store: run_alert(t.client(), t.provider.current(), a, store), t))
            if t.team in self._own_definitions() and self.syncs is not None:
                # a workspace with definitions of its own syncs its own workbook on its own schedule
                sync_trigger = self._sync_trigger(snap, tz)
                if sync_trigger is not None:
                    jobs.append((f"sheets:sync:{t.team}", sync_trigger,
                                 lambda t=t: self._sync(self._team_runner(t)), t))
        if not targets and self.workspaces is None:
            snap = self.provider.current()
            if snap.config.digests or snap.config.alerts:
                log.info("digests and alerts are configured but Slack is not: they do not run")
        return jobs

    def _installed(self, team: str) -> None:
        ids = self.schedule(team=team)
        log.info("workspace %s installed: %s", team, ", ".join(ids) if ids else "no digests or alerts to schedule")

    def _uninstalled(self, team: str) -> None:
        self.schedule(team=team)  # no longer installed: its jobs are removed, none added
        log.info("workspace %s uninstalled (or its token revoked): its digests and alerts stop", team)

    def _sync(self, runner: Any = None) -> None:
        outcome = (runner or self.syncs).run(trigger="schedule")
        if not outcome.ok:
            raise _JobFailed(outcome.text())

    def _own_definitions(self) -> set[str]:
        """The workspaces with a definitions file of their own (KPI_TEAM_DEFINITIONS)."""
        return set(self.workspaces.teams.by_team) if self.workspaces is not None else set()

    def _team_runner(self, t: Target) -> Any:
        """One sync runner per workspace with its own definitions (syncs of one workbook never overlap)."""
        from .syncs import SyncRunner

        with self._lock:
            runner = self._team_syncs.get(t.team)
            if runner is None or runner.provider is not t.provider:
                runner = self._team_syncs[t.team] = SyncRunner(t.provider, self.telemetry)
            return runner

    @staticmethod
    def _sync_trigger(snap: Any, tz: str) -> Any:
        from sheets import parse_every, workbook_for

        try:
            cfg = workbook_for(snap.kpi)
        except Exception:  # noqa: BLE001 - a broken sheets: section is reported by kpi validate
            return None
        if cfg.every:
            return IntervalTrigger(seconds=parse_every(cfg.every).total_seconds(), timezone=tz)
        if cfg.cron:
            return CronTrigger.from_crontab(cfg.cron, timezone=tz)
        return None

    def _guarded(self, job_id: str, run: Callable[[], Any], target: Target | None = None) -> None:
        """Run one job; on failure log, count and tell the admin channel. The next run is the retry."""
        with self._idle:
            self._running.add(job_id)
        try:
            run()
        except Exception as e:  # noqa: BLE001 - a background job: nobody else would hear of it
            ref = uuid.uuid4().hex[:6]
            what = str(e).splitlines()[0] if isinstance(e, _JobFailed) else f"{type(e).__name__}: {e}"
            log.error("job %s failed (ref %s): %s", job_id, ref, what, exc_info=not isinstance(e, _JobFailed))
            if self.telemetry is not None:
                self.telemetry.job_failures.labels(job=job_id.split(":")[0]).inc()
            self._tell_admin(f":warning: kpi job `{job_id}` failed (ref {ref}): {what[:2500]}\n"
                             "It runs again at its next scheduled time.", target)
        finally:
            with self._idle:
                self._running.discard(job_id)
                self._idle.notify_all()

    def _tell_admin(self, text: str, target: Target | None = None) -> None:
        """To the admin channel of the workspace whose job failed (the only one; none for the shared
        definitions' Sheets sync under a multi-workspace install: that failure is in the log)."""
        target = target or (self.targets()[0] if self.workspaces is None and self.client is not None else None)
        if target is None:
            return
        channel = target.provider.current().config.admin_channel
        if not channel:
            return
        try:
            target.client().chat_postMessage(channel=channel, text=text)
        except Exception as e:  # noqa: BLE001 - reporting must never take the scheduler down
            log.error("could not report to %s%s: %s", channel, f" in {target.team}" if target.team else "", e)


class _TeamAlerts:
    """The alert state of one workspace: the same store, keys prefixed with the workspace id."""

    def __init__(self, store: Any, team: str) -> None:
        self.store, self.prefix = store, f"{team}:"

    def get(self, key: str) -> bool | None:
        return self.store.get(self.prefix + key)

    def put(self, key: str, firing: bool, value: float | None) -> None:
        self.store.put(self.prefix + key, firing, value)


class _JobFailed(Exception):
    """A job that ended with a user-level failure (already explained in its message)."""
