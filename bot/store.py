"""The alerts' last known state, in a small SQLite file under ``.kpi/`` (layer: bot runtime, I/O).

    store = AlertStore(Path(".kpi/bot.sqlite3"))
    store.get("win-rate-below-target")        # None (never seen), True (firing) or False (ok)
    store.put("win-rate-below-target", True, 0.31)

SQLite gives atomic writes and safe use from the scheduler's threads without a server.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

_SCHEMA = """create table if not exists alert_state (
  key text primary key, firing integer not null, value real, changed_at text not null)"""


class AlertStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(_SCHEMA)

    def get(self, key: str) -> bool | None:
        with self._lock:
            row = self._db.execute("select firing from alert_state where key = ?", (key,)).fetchone()
        return None if row is None else bool(row[0])

    def put(self, key: str, firing: bool, value: float | None) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._db.execute(
                "insert into alert_state (key, firing, value, changed_at) values (?, ?, ?, ?) "
                "on conflict(key) do update set firing = excluded.firing, value = excluded.value, "
                "changed_at = case when alert_state.firing = excluded.firing then alert_state.changed_at "
                "else excluded.changed_at end", (key, int(firing), value, now))

    def close(self) -> None:
        self._db.close()
