"""Result cache (layer: backends, beside them): query results on disk, keyed by what decides them.

Warehouse queries cost money and seconds; the same question asked from the CLI, the bot and the
Sheets sync should run once. A result is valid for one compiled SQL text, its bound parameters,
one backend URL, and one data version:

    cache = ResultCache(".kpi/cache", ttl_seconds=900)
    key = CacheKey.of(sql, params, backend.url, backend.data_version())
    df = cache.get(key)                      # None on a miss or when expired
    if df is None:
        df = backend.run(sql, params)
        cache.put(key, df)

Every entry expires after ``ttl_seconds`` (``connection.cache_ttl_seconds``: how long a warehouse
answer may be reused). When the backend knows its data version (DuckDB file stamp, PostgreSQL WAL
position, BigQuery/Snowflake last-modified time), that version is part of the key too, so new data
means new keys before the TTL is up; without one (Spark) the TTL alone bounds staleness. Relative
periods need no special care: "this-month" binds its dates as parameters, so tomorrow's key differs.

Files are parquet (no code runs on load, unlike pickle), written to a temporary name and renamed,
so a reader never sees half a file and concurrent writers of the same key are harmless.
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

import pandas as pd

DEFAULT_TTL = 5 * 60.0  # seconds; definitions.yaml's connection.cache_ttl_seconds overrides it


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
    """Parquet files under ``directory``; safe to share between threads and processes."""

    directory: Path
    ttl_seconds: float = DEFAULT_TTL
    clock: Callable[[], float] = time.time
    stats: CacheStats = field(default_factory=CacheStats)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)

    def path_for(self, key: CacheKey) -> Path:
        digest = key.digest
        return self.directory / digest[:2] / f"{digest}.parquet"

    def get(self, key: CacheKey) -> pd.DataFrame | None:
        """The stored result, or None when absent, expired or unreadable (a miss, never an error)."""
        path = self.path_for(key)
        try:
            age = self.clock() - path.stat().st_mtime
            fresh = age <= self.ttl_seconds
            df = pd.read_parquet(path) if fresh else None
        except (OSError, ValueError):  # missing, or truncated by a crash mid-copy
            df = None
        self._count("hits" if df is not None else "misses")
        return df

    def put(self, key: CacheKey, df: pd.DataFrame) -> None:
        """Store ``df`` for ``key`` atomically (temp file + rename). Unstorable frames are skipped."""
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
        os.close(fd)
        try:
            df.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        except (ValueError, TypeError, OSError, ImportError):
            Path(tmp).unlink(missing_ok=True)  # e.g. a column of mixed Python objects: just not cached
            return
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._count("writes")

    def fetch(self, backend: Any, sql: str, params: dict[str, Any], *, use_cache: bool = True
              ) -> tuple[pd.DataFrame, bool]:
        """Run ``sql`` on ``backend`` through this cache: (frame, was_cached). See ``cached_run``."""
        return cached_run(self, backend, sql, params, use_cache=use_cache)

    def prune(self) -> int:
        """Delete expired entries (and stray temp files); return how many went."""
        removed = 0
        now = self.clock()
        for path in self.directory.glob("*/*.parquet"):
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
        for path in self.directory.glob("*/*.parquet"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)


def cached_run(cache: ResultCache | None, backend: Any, sql: str, params: dict[str, Any],
               *, use_cache: bool = True) -> tuple[pd.DataFrame, bool]:
    """Run through the cache: (frame, was_cached). ``use_cache=False`` (``--no-cache``) skips the
    lookup but still stores the fresh result, so the next cached call benefits."""
    if cache is None:
        return backend.run(sql, params), False
    key = CacheKey.of(sql, params, backend.url, backend.data_version())
    df = cache.get(key) if use_cache else None
    if df is not None:
        return df, True
    df = backend.run(sql, params)
    cache.put(key, df)
    return df, False
