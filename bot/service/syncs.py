"""One Sheets sync at a time, whoever asks: the schedule, ``POST /v1/sync`` or ``/kpi sync`` (layer: bot runtime).

    runner = SyncRunner(provider, telemetry)
    outcome = runner.run(tab="KPIs by month", trigger="api")    # waits for a running sync first
    runner.close()       # at shutdown: waits for the running sync to finish, refuses new ones

A sync writes the whole workbook in one atomic batchUpdate (sheets.sync), so a sheet is never left
half-written; ``close`` only has to let the running one end.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from metrics_core.errors import ConfigError, KpiUserError

log = logging.getLogger("kpi.serve.sync")


@dataclass(frozen=True)
class SyncOutcome:
    ok: bool
    spreadsheet: str | None
    tabs: tuple[str, ...]
    seconds: float
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "spreadsheet": self.spreadsheet, "tabs": list(self.tabs),
                "seconds": round(self.seconds, 3), "error": self.error}

    def text(self) -> str:
        from metrics_core.i18n import gettext as _, ngettext

        if not self.ok:
            return _("Sheets sync failed: {error}").format(error=self.error)
        return ngettext("Synced {n} tab ({tabs}) in {seconds} s", "Synced {n} tabs ({tabs}) in {seconds} s",
                        len(self.tabs)).format(n=len(self.tabs), tabs=", ".join(self.tabs),
                                               seconds=f"{self.seconds:.1f}")


class SyncRunner:
    def __init__(self, provider: Any, telemetry: Any = None) -> None:
        self.provider, self.telemetry = provider, telemetry
        self._lock = threading.Lock()
        self._closed = False
        self.running = threading.Event()

    def run(self, tab: str | None = None, *, trigger: str = "api") -> SyncOutcome:
        """Sync now (after any running sync). User errors come back in the outcome; others raise."""
        from sheets import sync

        with self._lock:
            if self._closed:
                raise ConfigError("kpi is shutting down; sync again once it is back")
            self.running.set()
            t0 = time.perf_counter()
            try:
                kpi = self.provider.current().kpi
                report = sync(kpi, tab=tab)
                outcome = SyncOutcome(True, report.spreadsheet_id, report.tabs, time.perf_counter() - t0)
            except KpiUserError as e:
                outcome = SyncOutcome(False, None, (), time.perf_counter() - t0, str(e).splitlines()[0])
            except Exception:
                self._count("error", trigger, time.perf_counter() - t0)
                raise
            finally:
                self.running.clear()
        self._count("ok" if outcome.ok else "failed", trigger, outcome.seconds)
        log.info("sync (%s): %s", trigger, outcome.text())
        return outcome

    def _count(self, result: str, trigger: str, seconds: float) -> None:
        if self.telemetry is not None:
            self.telemetry.syncs.labels(trigger=trigger, result=result).inc()
            self.telemetry.sync_seconds.observe(seconds)

    def close(self, timeout: float | None = None) -> bool:
        """Let a running sync finish, then refuse new ones; False when it did not end within ``timeout``."""
        got = self._lock.acquire(timeout=-1 if timeout is None else timeout)
        self._closed = True
        if got:
            self._lock.release()
        return got
