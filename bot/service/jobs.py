"""Every schedule on one APScheduler, in the calendar's timezone (layer: bot runtime).

    jobs = Jobs(provider, slack_client=client_or_None, store=AlertStore(...), syncs=runner, telemetry=t)
    jobs.start(); ...; jobs.shutdown()       # waits for running jobs (a sync finishes whole)

Digests and alerts need Slack (skipped, with one log line, when it is not configured); a Sheets sync
runs on ``sheets.every`` / ``sheets.cron``. Jobs are rebuilt when the definitions reload. A failing
job is logged, counted, reported to ``slack.admin_channel`` when there is one, and simply runs again at
its next time; it never stops the other jobs.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
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


class Jobs:
    def __init__(self, provider: KpiProvider, *, slack_client: Any = None, store: Any = None, syncs: Any = None,
                 telemetry: Any = None, speed: float = 1.0) -> None:
        self.provider, self.client, self.store, self.syncs = provider, slack_client, store, syncs
        self.telemetry, self.speed = telemetry, speed
        self._running: set[str] = set()
        self._idle = threading.Condition()
        self.scheduler = BackgroundScheduler(timezone=timezone_of(provider.current()),
                                             job_defaults={"coalesce": True, "max_instances": 1,
                                                           "misfire_grace_time": 600})
        provider.on_reload.append(lambda _snap: self.schedule())

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

    def schedule(self) -> list[str]:
        """(Re)create every job from the current definitions; returns their ids."""
        snap = self.provider.current()
        tz = timezone_of(snap)
        self.scheduler.remove_all_jobs()
        jobs: list[tuple[str, Any, Callable[[], Any]]] = []
        if self.client is not None:
            for i, d in enumerate(snap.config.digests):
                jobs.append((f"digest:{i}:{d.name or d.channel}", parse_schedule(d.schedule, tz),
                             lambda d=d: run_digest(self.client, self.provider.current(), d)))
            for a in snap.config.alerts:
                jobs.append((f"alert:{a.key}", parse_schedule(a.schedule, tz),
                             lambda a=a: run_alert(self.client, self.provider.current(), a, self.store)))
        elif snap.config.digests or snap.config.alerts:
            log.info("digests and alerts are configured but Slack is not: they do not run")
        sync_trigger = self._sync_trigger(snap, tz)
        if sync_trigger is not None and self.syncs is not None:
            jobs.append(("sheets:sync", sync_trigger, lambda: self._sync()))
        for job_id, trigger, run in jobs:
            self.scheduler.add_job(self._guarded, self._trigger(trigger), args=(job_id, run), id=job_id, name=job_id,
                                   replace_existing=True)
        return [j[0] for j in jobs]

    def _sync(self) -> None:
        outcome = self.syncs.run(trigger="schedule")
        if not outcome.ok:
            raise _JobFailed(outcome.text())

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

    def _guarded(self, job_id: str, run: Callable[[], Any]) -> None:
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
                             "It runs again at its next scheduled time.")
        finally:
            with self._idle:
                self._running.discard(job_id)
                self._idle.notify_all()

    def _tell_admin(self, text: str) -> None:
        channel = self.provider.current().config.admin_channel
        if self.client is None or not channel:
            return
        try:
            self.client.chat_postMessage(channel=channel, text=text)
        except Exception as e:  # noqa: BLE001 - reporting must never take the scheduler down
            log.error("could not report to %s: %s", channel, e)


class _JobFailed(Exception):
    """A job that ended with a user-level failure (already explained in its message)."""
