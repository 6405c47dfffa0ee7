"""API keys: created once, shown once, stored scrypt-hashed in the state database (layer: bot runtime, I/O).

    store = KeyStore(Path(".kpi/bot.sqlite3"))
    key, token = store.create(scopes={"query"}, metrics=("win_rate",), name="finance-sheet")
    store.verify(token)             # the ApiKey, or None (unknown, wrong secret or revoked)
    store.revoke(key.id)

A token reads ``kpi_<id>_<secret>``: the id finds the row, the secret is checked against its scrypt
hash in constant time. A verified token is remembered (by its SHA-256) so scrypt runs once per key
and process, while revocation still takes effect on the next request: every verify re-reads the row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from metrics_core.errors import ConfigError

SCOPES = ("query", "sync")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SCHEMA = """create table if not exists api_keys (
  id text primary key, name text not null, salt blob not null, hash blob not null,
  scopes text not null, metrics text, created_at text not null, revoked_at text)"""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[str]
    metrics: tuple[str, ...] | None  # None: every metric the access rules allow
    created_at: str
    revoked_at: str | None = None

    def may(self, scope: str) -> bool:
        return scope in self.scopes

    def covers(self, metric: str) -> bool:
        return self.metrics is None or metric in self.metrics


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class KeyStore:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
        self._lock = threading.Lock()
        self._verified: dict[bytes, str] = {}  # sha256(token) -> key id
        with self._lock, self._db:
            self._db.execute(_SCHEMA)

    def create(self, *, scopes: set[str] | frozenset[str], metrics: tuple[str, ...] | None = None,
               name: str = "") -> tuple[ApiKey, str]:
        bad = sorted(set(scopes) - set(SCOPES))
        if not scopes or bad:
            raise ConfigError(f"unknown scope {', '.join(bad) or '(none)'}: use --scope query and/or --scope sync")
        key_id, secret, salt = secrets.token_hex(4), secrets.token_urlsafe(24), secrets.token_bytes(16)
        key = ApiKey(key_id, name or key_id, frozenset(scopes), tuple(metrics) if metrics else None, _now())
        with self._lock, self._db:
            self._db.execute("insert into api_keys values (?, ?, ?, ?, ?, ?, ?, null)",
                             (key.id, key.name, salt, _hash(secret, salt), ",".join(sorted(key.scopes)),
                              json.dumps(list(key.metrics)) if key.metrics else None, key.created_at))
        return key, f"kpi_{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._lock:
            rows = self._db.execute("select id, name, scopes, metrics, created_at, revoked_at from api_keys "
                                    "order by created_at, id").fetchall()
        return [_key(r) for r in rows]

    def revoke(self, key_id: str) -> bool:
        """True when a live key was revoked; matches the id or the name."""
        with self._lock, self._db:
            cur = self._db.execute("update api_keys set revoked_at = ? where (id = ? or name = ?) "
                                   "and revoked_at is null", (_now(), key_id, key_id))
        return cur.rowcount > 0

    def verify(self, token: str) -> ApiKey | None:
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "kpi":
            return None
        key_id, secret = parts[1], "_".join(parts[2:])
        with self._lock:
            row = self._db.execute("select id, name, scopes, metrics, created_at, revoked_at, salt, hash "
                                   "from api_keys where id = ?", (key_id,)).fetchone()
        if row is None or row[5] is not None:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        if self._verified.get(digest) != key_id:
            if not hmac.compare_digest(_hash(secret, row[6]), row[7]):
                return None
            self._verified[digest] = key_id
        return _key(row[:6])

    def close(self) -> None:
        self._db.close()


def _key(row: tuple) -> ApiKey:
    return ApiKey(row[0], row[1], frozenset(row[2].split(",")), tuple(json.loads(row[3])) if row[3] else None,
                  row[4], row[5])
