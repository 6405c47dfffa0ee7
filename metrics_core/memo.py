"""A bounded, thread-safe memo of work that depends only on its key (layer 1: plain data; no I/O).

The facade keeps one per ``KPI`` for what answering a question computes before any data is read:
the parsed question and its windows, the statement text and parameters, the excluded-rows
statement, the statement that reads a rollup. The bot, the API service and a Sheets sync ask the
same question texts again and again; each of those steps then costs a dictionary lookup.

    memo = Memo(size=1024)
    compiled = memo.get(("compiled", query, "duckdb"), lambda: compile_query(...))
    memo.stats.hits, memo.stats.misses; memo.clear(); memo.items(); memo.preload(items)

Keys hold everything the value depends on. The definitions are not in the key: a ``KPI`` keeps
its definitions for life (a reload builds a new ``KPI``, with a new memo), so a changed metric
is never answered from an old plan. Data is not in the key either: nothing kept here reads data,
and whether a rollup is fresh is checked on every answer, before its statement is looked up here
(that statement is keyed by the rollup version it reads).

A one-shot `kpi query` starts with an empty memo; plancache.py keeps the entries that read no data
on disk (``items``) and hands them to the next process (``preload``), under a key that adds what the
memo keys leave out (the definitions' version, where they live, the connection).

Least recently used entries go first once ``size`` is reached. ``make`` runs outside the lock, so
two threads asking a new question at once may both compute it (the same value; one is kept).
A ``make`` that raises stores nothing: a bad question is checked again the next time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")


@dataclass
class MemoStats:
    hits: int = 0
    misses: int = 0


class Memo:
    def __init__(self, size: int = 1024) -> None:
        if size < 1:
            raise ValueError("a memo holds at least one entry")
        self.size = size
        self.stats = MemoStats()
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value kept for ``key``, else ``make()`` (kept for next time)."""
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                self.stats.misses += 1
            else:
                self._data.move_to_end(key)
                self.stats.hits += 1
                return value  # type: ignore[no-any-return]
        value = make()
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value

    def items(self) -> list[tuple[Hashable, Any]]:
        """Every (key, value), least recently used first (plancache.py keeps them on disk)."""
        with self._lock:
            return list(self._data.items())

    def preload(self, items: list[tuple[Hashable, Any]]) -> None:
        """Put entries computed by an earlier process (plancache.py); neither a hit nor a miss."""
        with self._lock:
            for key, value in items[-self.size:]:
                self._data[key] = value
                self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
