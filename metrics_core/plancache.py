"""Planned questions and their statements kept on disk between `kpi query` processes (layer: I/O, beside
cache.py; its own files only).

A ``KPI`` remembers, per process, the work that reads no data (memo.py): the parsed question with its
windows, the statement and its parameters, the fine print's counting statement. A one-shot `kpi query`
starts with an empty memo, so it would import SQLGlot (0.1 s) and compile again the statement it
compiled a minute ago. This module keeps those memo entries on disk and hands them to the next
process, which then answers a question it has seen without importing SQLGlot at all:

    plancache.preload(kpi)      # before answering: the entries kept for these definitions, if any
    ...answer...
    plancache.store(kpi)        # after a successful answer that computed something new

The memo's keys already hold everything an entry depends on apart from the definitions (the
question text, the as-of day, the language, the dialect; memo.py). The file adds the rest: the
validated definitions' digest (defcache.py: the file's path, size, mtime and text hash, the values
of its ${VARS}, the code and library versions), the directory its relative paths start from, the
connection URL and whether rollups may serve. Any other key finds nothing, and a miss or any doubt
simply means compiling, as without this cache.

Format: pickle, because the entries are the compiler's own frozen dataclasses. It is read only from
the user's own cache directory (``$XDG_CACHE_HOME/kpi/plans``), only from a file this user owns that
no one else may write (mode 0600 from ``mkstemp``; a group- or world-writable file is ignored) -- the
trust Python gives the ``.pyc`` files it runs -- and through an unpickler that builds nothing but dates,
decimals, plain containers and dataclasses/enums of metrics_core modules already imported, so
loading can neither run other code nor import SQLGlot. Only ``kpi query`` uses it; ``--no-cache``
skips the lookup (and still stores).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import json
import pickle
import sys
from pathlib import Path
from typing import Any

from .defcache import cache_dir as _definitions_dir, ours, write_private

FORMAT = 1
KEEP = ("plan_many", "compiled", "excluded", "pretty")  # memo kinds that read no data and depend on nothing else
MAX_ENTRIES = 256  # the most recently used are kept
SUFFIX = ".pickle"
_PLAIN = {"datetime": {"date", "datetime", "time", "timedelta", "timezone"}, "decimal": {"Decimal"},
          "builtins": {"frozenset", "set", "complex"}, "collections": {"OrderedDict"}}


def cache_dir() -> Path:
    return _definitions_dir().parent / "plans"


def key_of(kpi: Any) -> str | None:
    """What the stored entries must have been planned under; None: these definitions were not read
    through the definitions cache (no digest), so nothing is kept."""
    digest = getattr(kpi.loaded, "digest", None)
    if not digest:
        return None
    parts = [FORMAT, digest, str(kpi.loaded.base_dir), kpi.url, bool(kpi.use_rollups), sys.version]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def _file(kpi: Any, directory: Path) -> Path:
    where = json.dumps([str(Path(kpi.loaded.source).resolve()), kpi.loaded.source])
    return directory / f"{hashlib.sha256(where.encode()).hexdigest()[:32]}{SUFFIX}"


def preload(kpi: Any, directory: Path | None = None) -> int:
    """Put the entries kept for ``kpi``'s definitions into its memo; how many (0 on any miss or doubt)."""
    entries = _read(kpi, directory or cache_dir())
    kpi.plans.preload(entries)
    return len(entries)


def _read(kpi: Any, directory: Path) -> list[tuple[tuple, Any]]:
    """The entries stored for ``kpi``'s key; [] when absent, another key, unreadable or not safely ours."""
    key = key_of(kpi)
    if key is None:
        return []
    path = _file(kpi, directory)
    try:
        st = path.stat()
        if not ours(st):
            return []
        stored_format, stored_key, entries = _Unpickler(io.BytesIO(path.read_bytes())).load()
        if stored_format != FORMAT or stored_key != key or not isinstance(entries, list):
            return []
        return [(k, v) for k, v in entries if isinstance(k, tuple) and k and k[0] in KEEP]
    except Exception:  # noqa: BLE001 - anything unreadable is a miss: the answer is compiled as usual
        return []


def store(kpi: Any, directory: Path | None = None) -> bool:
    """Write ``kpi``'s memo entries worth keeping, when this process computed any; False when nothing
    was written (nothing new, no key, or the directory or a value could not take it)."""
    key = key_of(kpi)
    if key is None or not kpi.plans.stats.misses:
        return False
    directory = directory or cache_dir()
    # what is on disk too (a --no-cache process did not preload it), this process's entries last
    merged = dict(_read(kpi, directory))
    for k, v in kpi.plans.items():
        if isinstance(k, tuple) and k and k[0] in KEEP:
            merged.pop(k, None)
            merged[k] = v
    entries = list(merged.items())[-MAX_ENTRIES:]
    try:
        data = pickle.dumps((FORMAT, key, entries), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a value pickle cannot take: not kept; the answer is already printed
        return False
    return write_private(_file(kpi, directory), data)


class _Unpickler(pickle.Unpickler):
    """Builds only dates, decimals, plain containers and metrics_core dataclasses/enums whose module is
    already imported: loading imports nothing and calls no other code."""

    def find_class(self, module: str, name: str) -> Any:
        if name in _PLAIN.get(module, ()):
            return super().find_class(module, name)
        if module.startswith("metrics_core.") and module in sys.modules and "." not in name:
            found = getattr(sys.modules[module], name, None)
            if isinstance(found, type) and (dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)):
                return found
        raise pickle.UnpicklingError(f"not kept in the plan cache: {module}.{name}")
