"""The bot's state in a small SQLite file under ``.kpi/`` (layer: bot runtime, I/O).

    store = AlertStore(Path(".kpi/bot.sqlite3"))
    store.get("win-rate-below-target")        # None (never seen), True (firing) or False (ok)
    store.put("win-rate-below-target", True, 0.31)

    follows = FollowStore(Path(".kpi/bot.sqlite3"))   # the App Home: what each user follows
    follows.follow("T0001", "U0ALICE", "win_rate")     # True when new
    follows.metrics("T0001", "U0ALICE")                # ("win_rate",) in the order followed
    follows.unfollow("T0001", "U0ALICE", "win_rate")

SQLite gives atomic writes and safe use from the scheduler's threads without a server.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

_SCHEMA = """create table if not exists alert_state (
  key text primary key, firing integer not null, value real, changed_at text not null)"""


_FOLLOWS = """create table if not exists follows (
  team text not null, user text not null, metric text not null, followed_at text not null,
  primary key (team, user, metric))"""


class _Db:
    """One connection shared by the scheduler's and the answer pool's threads, behind a lock."""

    def __init__(self, path: Path | str, schema: str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute(schema)

    def close(self) -> None:
        self._db.close()


class FollowStore(_Db):
    """The metrics each user follows, per workspace (team id, user id): what their App Home shows."""

    def __init__(self, path: Path | str = ":memory:") -> None:
        super().__init__(path, _FOLLOWS)

    def follow(self, team: str, user: str, metric: str) -> bool:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            cur = self._db.execute("insert or ignore into follows (team, user, metric, followed_at) "
                                   "values (?, ?, ?, ?)", (team, user, metric, now))
        return cur.rowcount == 1

    def unfollow(self, team: str, user: str, metric: str) -> bool:
        with self._lock, self._db:
            cur = self._db.execute("delete from follows where team = ? and user = ? and metric = ?",
                                   (team, user, metric))
        return cur.rowcount == 1

    def metrics(self, team: str, user: str) -> tuple[str, ...]:
        with self._lock:
            rows = self._db.execute("select metric from follows where team = ? and user = ? "
                                    "order by followed_at, rowid", (team, user)).fetchall()
        return tuple(r[0] for r in rows)


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
