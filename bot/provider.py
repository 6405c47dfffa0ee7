"""The current definitions, swapped atomically on reload (layer: bot runtime).

    provider = KpiProvider.from_path("definitions.yaml")
    snap = provider.current()          # Snapshot(kpi, config, policy, calendar, shortcuts)
    stop = threading.Event(); provider.watch(stop)   # reload on change (watchfiles)

An edit that does not validate keeps the last good definitions serving; the errors are logged and
handed to ``on_error`` (the app posts them to ``slack.admin_channel``). Handlers take one snapshot per
request, so a reload never changes definitions under a running answer.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from metrics_core.errors import DefinitionError, KpiUserError
from metrics_core.periods import Calendar

from .access import AccessPolicy
from .config import SlackConfig, parse_section, validate_section
from .refs import QuestionRefs

log = logging.getLogger("kpi.bot.reload")


@dataclass(frozen=True)
class Snapshot:
    kpi: Any
    config: SlackConfig
    policy: AccessPolicy
    calendar: Calendar
    locale: str = "en_US"
    shortcuts: dict[str, str] = field(default_factory=dict)  # "/winrate" -> "win_rate"
    refs: QuestionRefs | None = None  # questions too long for a button (kept across reloads)


def default_command(metric: str) -> str:
    return "/" + metric.replace("_", "").lower()[:31]


def snapshot_of(kpi: Any) -> Snapshot:
    """Bundle a KPI with its parsed ``slack:`` section; DefinitionError when the section is invalid."""
    defs = kpi.definitions
    raw = (getattr(defs, "sections", None) or {}).get("slack")
    issues = validate_section(raw or {}, defs)
    if issues:
        raise DefinitionError(issues)
    cfg = parse_section(raw)
    shortcuts = {cfg.commands.get(m.name) or default_command(m.name): m.name for m in kpi.metrics()}
    cal_def = getattr(defs, "calendar", None)
    calendar = cal_def.to_calendar() if hasattr(cal_def, "to_calendar") else Calendar()
    locale = cfg.locale or getattr(getattr(defs, "locale", None), "locale", None) or "en_US"
    return Snapshot(kpi, cfg, AccessPolicy(cfg.access), calendar, locale, shortcuts)


def timezone_of(snap: Snapshot) -> str:
    """Where schedules are read: ``slack.timezone``, else the calendar's timezone."""
    return snap.config.timezone or snap.calendar.timezone


class KpiProvider:
    def __init__(self, load: Callable[[], Any], *, path: str | Path | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self._load, self.path, self.on_error = load, Path(path) if path else None, on_error
        self._lock = threading.Lock()
        self.on_reload: list[Callable[[Snapshot], None]] = []  # e.g. the scheduler re-reading schedules
        self.refs = QuestionRefs()
        self._snap = replace(snapshot_of(load()), refs=self.refs)  # no last good one yet: errors reach the caller

    @classmethod
    def from_path(cls, path: str | Path, **kw: Any) -> "KpiProvider":
        from metrics_core.api import KPI
        return cls(lambda: KPI.from_path(path), path=path, **kw)

    @classmethod
    def static(cls, kpi: Any) -> "KpiProvider":
        return cls(lambda: kpi)

    def current(self) -> Snapshot:
        with self._lock:
            return self._snap

    def reload(self) -> bool:
        """Load again; on a user error keep the last good snapshot and report. True when swapped."""
        try:
            snap = replace(snapshot_of(self._load()), refs=self.refs)
        except KpiUserError as e:
            log.error("definitions not reloaded, still serving the last good ones:\n%s", e)
            if self.on_error:
                self.on_error(str(e))
            return False
        with self._lock:
            old, self._snap = self._snap, snap
        self._retire(old.kpi, snap.kpi)
        for listener in self.on_reload:
            listener(snap)
        log.info("definitions reloaded: %d metrics", len(snap.kpi.metrics()))
        return True

    @staticmethod
    def _retire(old: Any, new: Any, grace: float = 120.0) -> None:
        """Close the replaced KPI's connection once answers still running on it have finished."""
        if old is not new and hasattr(old, "close"):
            timer = threading.Timer(grace, old.close)
            timer.daemon = True
            timer.start()

    def watch(self, stop: threading.Event) -> threading.Thread:
        """Reload whenever the definitions file changes, until ``stop`` is set."""
        if self.path is None:
            raise ValueError("this provider has no file to watch")
        from watchfiles import watch

        target = self.path.resolve()

        def loop() -> None:
            # Only the file itself: the state database, logs or a DuckDB file beside it change all the time.
            for changes in watch(target.parent, stop_event=stop, debounce=300, rust_timeout=500,
                                 watch_filter=lambda _change, path: Path(path).resolve() == target):
                if any(Path(p).resolve() == target for _, p in changes):
                    self.reload()

        t = threading.Thread(target=loop, name="kpi-definitions-watch", daemon=True)
        t.start()
        return t
