"""Digests and alerts on APScheduler (background threads), in the calendar's timezone (layer: bot runtime).

    scheduler = start_scheduler(app, provider, state_dir=Path(".kpi"))

Jobs are rebuilt whenever the definitions reload, so a changed schedule takes effect without a restart.
Each job takes the current snapshot when it runs.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk.errors import SlackApiError

from .alerts import run_alert
from .digests import run_digest
from .provider import KpiProvider, timezone_of
from .schedule import parse_schedule
from .store import AlertStore

log = logging.getLogger("kpi.bot.scheduler")


def schedule_jobs(scheduler: Any, client: Any, provider: KpiProvider, store: AlertStore) -> list[str]:
    """(Re)create one job per digest and alert of the current snapshot; returns the job ids."""
    snap = provider.current()
    tz = timezone_of(snap)
    scheduler.remove_all_jobs()
    ids = []
    for i, d in enumerate(snap.config.digests):
        job_id = f"digest:{i}:{d.name or d.channel}"
        scheduler.add_job(_job, parse_schedule(d.schedule, tz), id=job_id, name=job_id,
                          args=(run_digest, client, provider, d), misfire_grace_time=600, coalesce=True)
        ids.append(job_id)
    for a in snap.config.alerts:
        job_id = f"alert:{a.key}"
        scheduler.add_job(_job, parse_schedule(a.schedule, tz), id=job_id, name=job_id,
                          args=(run_alert, client, provider, a, store), misfire_grace_time=600, coalesce=True)
        ids.append(job_id)
    return ids


def _job(run: Any, client: Any, provider: KpiProvider, item: Any, *extra: Any) -> None:
    """One scheduled run; a failure is logged with a reference and does not stop the scheduler."""
    try:
        run(client, provider.current(), item, *extra)
    except SlackApiError as e:  # e.g. not_in_channel: the fix is in Slack, say which
        log.error("scheduled %s for %s could not post: %s (is the bot invited to %s?)",
                  getattr(run, "__name__", run), getattr(item, "channel", "?"), e.response.get("error"),
                  getattr(item, "channel", "the channel"))
    except Exception:  # noqa: BLE001 - a background job: nobody to answer, so log the trace
        log.exception("scheduled %s failed (ref %s)", getattr(run, "__name__", run), uuid.uuid4().hex[:6])


def start_scheduler(app: Any, provider: KpiProvider, *, state_dir: Path) -> BackgroundScheduler:
    store = AlertStore(Path(state_dir) / "bot.sqlite3")
    scheduler = BackgroundScheduler(timezone=timezone_of(provider.current()))
    schedule_jobs(scheduler, app.client, provider, store)
    provider.on_reload.append(lambda _snap: schedule_jobs(scheduler, app.client, provider, store))
    scheduler.start()
    return scheduler



