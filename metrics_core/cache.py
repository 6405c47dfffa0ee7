"""Result cache (layer: backends, beside them): query results on disk, keyed by what decides them.

Warehouse queries cost money and seconds; the same question asked from the CLI, the bot and the
Sheets sync should run once. A result is valid for one compiled SQL text, its bound parameters,
one backend URL, and one data version:

    cache = ResultCache(".kpi/cache", ttl_seconds=900)
    key = CacheKey.of(sql, params, backend.url, backend.data_version())
    cols = cache.get(key)                    # Columns, or None on a miss or when expired
    if cols is None:
        cols = backend.run(sql, params)
        cache.put(key, cols)

Every entry expires after ``ttl_seconds`` (``connection.cache_ttl_seconds``: how long a warehouse
answer may be reused). When the backend knows its data version (DuckDB file stamp, PostgreSQL WAL
position, BigQuery/Snowflake last-modified time), that version is part of the key too, so new data
means new keys before the TTL is up; without one (Spark) the TTL alone bounds staleness. Relative
periods need no special care: "this-month" binds its dates as parameters, so tomorrow's key differs.

Files are JSON with typed values (dates, timestamps and decimals tagged, so they come back as they
went in; no code runs on load, unlike pickle; no pandas or pyarrow on the path of a cached
answer), written to a temporary name and renamed, so a reader never sees half a file and
concurrent writers of the same key are harmless. Expired entries are deleted as new ones are
written (at most once per TTL for the directory), so the cache holds live answers only.
``--no-cache`` is the caller's flag: it simply does not call ``get``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .columns import Columns

DEFAULT_TTL = 5 * 60.0  # seconds; definitions.yaml's connection.cache_ttl_seconds overrides it
SUFFIX = ".json"


def _jsonable(value: Any) -> Any:
    """Parameters in a stable, typed text form: date(2026,1,1) and "2026-01-01" must not collide."""
    if isinstance(value, datetime):
        return {"ts": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _encode(value: Any) -> Any:
    """A cell as JSON: plain scalars as they are, the rest tagged ({"date": "2026-01-01"})."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else {"float": repr(value)}
    if isinstance(value, (datetime, date, Decimal)):
        return _jsonable(value)
    raise TypeError(f"cannot cache a {type(value).__name__}")


_DECODE: dict[str, Callable[[str], Any]] = {"ts": datetime.fromisoformat, "date": date.fromisoformat,
                                            "dec": Decimal, "float": float}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        (tag, text), = value.items()
        return _DECODE[tag](text)
    return value


def dumps(cols: Columns) -> str:
    """``Columns`` as typed JSON text (raises TypeError for a value it cannot tag)."""
    return json.dumps({"columns": {k: [_encode(v) for v in cols[k]] for k in cols.names}}, allow_nan=False)


def loads(text: str) -> Columns:
    data = json.loads(text)["columns"]
    return Columns({k: [_decode(v) for v in vs] for k, vs in data.items()})


@dataclass(frozen=True)
class CacheKey:
    sql: str
    params: tuple[tuple[str, Any], ...]
    url: str
    data_version: str | None

    @classmethod
    def of(cls, sql: str, params: dict[str, Any] | None, url: str, data_version: str | None) -> "CacheKey":
        items = tuple(sorted((params or {}).items()))
        return cls(sql=sql, params=items, url=url, data_version=data_version)

    @property
    def digest(self) -> str:
        blob = json.dumps([self.sql, [[k, _jsonable(v)] for k, v in self.params], self.url, self.data_version],
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0


@dataclass
class ResultCache:
    """JSON files under ``directory``; safe to share between threads and processes."""

    directory: Path
    ttl_seconds: float = DEFAULT_TTL
    clock: Callable[[], float] = time.time
    stats: CacheStats = field(default_factory=CacheStats)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)

    def path_for(self, key: CacheKey) -> Path:
        digest = key.digest
        return self.directory / digest[:2] / f"{digest}{SUFFIX}"

    def get(self, key: CacheKey) -> Columns | None:
        """The stored result, or None when absent, expired or unreadable (a miss, never an error)."""
        path = self.path_for(key)
        try:
            age = self.clock() - path.stat().st_mtime
            fresh = age <= self.ttl_seconds
            cols = loads(path.read_text(encoding="utf-8")) if fresh else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing, or truncated by a crash
            cols = None
        self._count("hits" if cols is not None else "misses")
        return cols

    def put(self, key: CacheKey, cols: Columns) -> None:
        """Store ``cols`` for ``key`` atomically (temp file + rename). Unstorable values are skipped."""
        try:
            text = dumps(cols)
        except (TypeError, ValueError):  # e.g. a value of a type JSON cannot tag: just not cached
            return
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=SUFFIX)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
            return
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._count("writes")
        self._prune_now_and_then()

    def _prune_now_and_then(self) -> None:
        """Delete expired entries as new ones are written, at most once per TTL (at least a minute) for
        the directory: the mtime of its ``.pruned`` marker says when it was last done, by any process.
        Without it a bot or a Sheets sync on a warehouse left one file per question and data version
        on disk for good (every entry expires, none was removed)."""
        marker = self.directory / ".pruned"
        now = self.clock()
        try:
            if now - marker.stat().st_mtime < max(self.ttl_seconds, 60.0):
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            marker.touch()
            os.utime(marker, (now, now))
        except OSError:
            return
        self.prune()

    def fetch(self, backend: Any, sql: str, params: dict[str, Any], *, use_cache: bool = True
              ) -> tuple[Columns, bool]:
        """Run ``sql`` on ``backend`` through this cache: (columns, was_cached). See ``cached_run``."""
        return cached_run(self, backend, sql, params, use_cache=use_cache)

    def prune(self) -> int:
        """Delete expired entries (and stray temp files); return how many went."""
        removed = 0
        now = self.clock()
        for path in self.directory.glob(f"*/*{SUFFIX}"):
            try:
                age = now - path.stat().st_mtime
                if age > self.ttl_seconds or (path.name.startswith(".tmp-") and age > 3600):
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

    def clear(self) -> int:
        """Delete every entry; return how many went."""
        removed = 0
        for path in self.directory.glob(f"*/*{SUFFIX}"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)


def cached_run(cache: ResultCache | None, backend: Any, sql: str, params: dict[str, Any],
               *, use_cache: bool = True) -> tuple[Columns, bool]:
    """Run through the cache: (columns, was_cached). ``use_cache=False`` (``--no-cache``) skips the
    lookup but still stores the fresh result, so the next cached call benefits."""
    if cache is None:
        return backend.run(sql, params), False
    key = CacheKey.of(sql, params, backend.url, backend.data_version())
    cols = cache.get(key) if use_cache else None
    if cols is not None:
        return cols, True
    cols = backend.run(sql, params)
    cache.put(key, cols)
    return cols, False
