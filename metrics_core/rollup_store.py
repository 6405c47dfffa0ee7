"""Rollups built, versioned, refreshed and dropped (layer: backends; the I/O side of rollups).

    rollups = Rollups(loaded, backend)
    rollups.build()                 # every part not fresh: incremental where it can, else in full
    rollups.candidates(["won_deals"])  -> [Candidate(part, relation, fresh)]   (rollup_serve.match)
    rollups.status(), rollups.drop()

Where parts live (``rollups.store``):
- ``local``: one Parquet file per part version under ``rollups.directory``, read by DuckDB (the
  same connection for a DuckDB source; an in-process DuckDB for a warehouse kpi may not write to).
  A part version used a second time is held in an in-process in-memory DuckDB (``held_in``): warm
  answers then scan a table in memory instead of decoding the file again.
- ``warehouse``: one table per part version in ``rollups.schema`` of the connection's engine.
A manifest (``manifest.json`` in the directory) records per part its version: the definition hash,
the time zone, the source stamp and the watermark. A part serves only while the stamp read now
equals the recorded one, so changed data is never answered from a stale rollup.

Source stamps (rollup_stamp) say when the data changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .catalog import Catalog
from .errors import QueryError, hint_for
from .load import Loaded
from .models import Definitions
from .rollup_serve import Candidate, Plan
from .rollup_stamp import Stamper
from .rollup_sql import Part, definition_hash, parts_of

MAX_CHANGED_KEYS = 400  # more changed buckets than this: a full rebuild is as cheap


@dataclass
class Entry:
    """What the manifest keeps about one built part."""

    rollup: str
    part: str
    version: str
    relation: str
    location: str  # file path or table name (for drop)
    definition_hash: str
    zone: str
    stamp: str
    tables: dict[str, str]  # per-table stamps (an incremental refresh needs the joined ones unchanged)
    watermark: str | None
    built_at: str
    rows: int
    bytes: int | None
    seconds: float
    mode: str  # "full" | "incremental"


class Rollups:
    def __init__(self, loaded: Loaded, backend: Any) -> None:
        self.loaded, self.backend = loaded, backend
        self.defs: Definitions = loaded.defs
        self.cat = Catalog(self.defs)
        self.settings = self.defs.rollups
        self.dir = Path(self.settings.directory)
        if not self.dir.is_absolute():
            self.dir = loaded.base_dir / self.dir
        self.local = self.settings.store == "local" or backend.dialect == "duckdb"
        self._manifest: tuple[float, dict[str, Entry]] | None = None
        self._parts: list[Part] | None = None
        self._hashes = {p.name: definition_hash(self.defs, p) for p in self.parts()}
        self._stamper = Stamper(loaded, backend, self.cat, self.local)
        self._held: dict[str, tuple[str, str]] = {}  # part -> (its Parquet relation, the table holding it)
        self._seen: dict[str, str] = {}  # part -> the relation it was last read from (file, not yet held)
        self._hold_lock = threading.Lock()

    # -- what is defined -----------------------------------------------------------------------
    def parts(self, names: list[str] | None = None) -> list[Part]:
        named = self.defs.rollups.named
        for n in names or []:
            if n not in named:
                raise QueryError(f"unknown rollup '{n}'{hint_for(n, named, what='rollups')}")
        if not names:  # every part: looked at on each answer a rollup could serve, and the definitions are fixed
            if self._parts is None:
                self._parts = [p for n, r in named.items() for p in parts_of(self.defs, n, r)]
            return list(self._parts)
        return [p for n, r in named.items() if n in names for p in parts_of(self.defs, n, r)]

    def tables_of(self, part: Part) -> list[str]:
        """Every logical table the part reads: its own, the tables joined to it, a conversion's target."""
        roots = [part.table]
        if part.conversion:
            roots.append(self.defs.measures[self.defs.metrics[part.conversion].target.measure].table)  # type: ignore[union-attr]
        out: list[str] = []
        while roots:
            t = roots.pop(0)
            if t not in out:
                out.append(t)
                roots += [j.table for j in self.defs.tables[t].joins.values()]
        return out

    # -- the manifest --------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    def manifest(self) -> dict[str, Entry]:
        try:
            mtime = self.manifest_path.stat().st_mtime_ns
        except OSError:
            return {}
        if self._manifest is None or self._manifest[0] != mtime:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            self._manifest = (mtime, {k: Entry(**v) for k, v in data.get("parts", {}).items()})
        return dict(self._manifest[1])

    def _save(self, entries: dict[str, Entry]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".manifest-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"parts": {k: asdict(v) for k, v in entries.items()}}, f, indent=1, sort_keys=True)
        os.replace(tmp, self.manifest_path)

    # -- stamps --------------------------------------------------------------------------------
    def _change_column(self, table: str) -> str | None:
        return self._stamper.change_column(table)

    def stamps(self, tables: list[str]) -> tuple[str, dict[str, str]]:
        """(the stamp of all ``tables`` together, per-table stamps) as read now (see rollup_stamp)."""
        return self._stamper.stamps(tables)

    def _run(self, duck_sql: str) -> Any:
        return self._stamper.run(duck_sql)

    # -- serving -------------------------------------------------------------------------------
    def candidates(self, items: list[str]) -> list[Candidate]:
        """Built parts that store any of ``items``, in definition order, each with its freshness."""
        built = self.manifest()
        out, stamp_memo = [], {}
        for part in self.parts():
            if not (set(part.measures) | {part.conversion}) & set(items):
                continue
            entry = built.get(part.name)
            if entry is None:
                continue
            fresh, why = True, ""
            if entry.definition_hash != self._hashes[part.name] or entry.zone != self.defs.calendar.timezone:
                fresh, why = False, "was built from other definitions (run `kpi rollups build`)"
            else:
                tables = tuple(self.tables_of(part))
                if tables not in stamp_memo:
                    stamp_memo[tables] = self.stamps(list(tables))[0]
                if stamp_memo[tables] != entry.stamp:
                    fresh, why = False, "is stale: the data changed since it was built (run `kpi rollups build`)"
            out.append(Candidate(part, entry.relation, fresh, why))
        return out

    def held_in(self, engine: Callable[[], Any], plan: Plan) -> Plan | None:
        """``plan`` with every Parquet part read from a table in ``engine()`` (an in-memory DuckDB), or
        None while a part is used for the first time: a one-question process (`kpi query`) reads the
        file once instead of copying it, a serving one (the bot, a sync) holds each part version it
        uses again in memory. The table of a replaced version is dropped."""
        with self._hold_lock:
            fresh = [c for c in plan.parts.values() if self._seen.get(c.part.name) != c.relation
                     and self._held.get(c.part.name, ("",))[0] != c.relation]
            if fresh:
                self._seen.update({c.part.name: c.relation for c in fresh})
                return None
            parts, con = {}, engine()
            for item, c in plan.parts.items():
                held = self._held.get(c.part.name)
                if held is None or held[0] != c.relation:
                    table = "rollup_" + hashlib.sha256(c.relation.encode()).hexdigest()[:16]
                    con.run(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {c.relation}", {})
                    if held is not None:
                        con.run(f"DROP TABLE IF EXISTS {held[1]}", {})
                    held = self._held[c.part.name] = (c.relation, table)
                parts[item] = replace(c, relation=held[1])
        return Plan(parts, list(plan.misses))

    # -- build ---------------------------------------------------------------------------------
    def build(self, names: list[str] | None = None, *, full: bool = False) -> list[dict[str, Any]]:
        """Build or refresh every named part that is not fresh; one report row per part."""
        from .rollup_build import build_part

        entries = self.manifest()
        report = []
        for part in self.parts(names):
            entry, row = build_part(self, part, entries.get(part.name), full=full)
            if entry is not None:
                old = entries.get(part.name)
                entries[part.name] = entry
                self._save(entries)
                if old is not None and old.location != entry.location:
                    self._remove(old)
            report.append(row)
        return report

    def drop(self, names: list[str] | None = None) -> list[str]:
        entries = self.manifest()
        wanted = {p.name for p in self.parts(names)} if names else set(entries)
        gone = []
        for key in sorted(wanted & set(entries)):
            self._remove(entries.pop(key))
            gone.append(key)
        self._save(entries)
        return gone

    def _remove(self, entry: Entry) -> None:
        if entry.relation.startswith("read_parquet("):
            Path(entry.location).unlink(missing_ok=True)
        else:
            self._run(f"DROP TABLE IF EXISTS {entry.location}")

    def status(self) -> list[dict[str, Any]]:
        built = self.manifest()
        out = []
        for part in self.parts():
            entry = built.get(part.name)
            row: dict[str, Any] = {"rollup": part.rollup, "part": part.name, "kind": part.kind,
                                   "stores": ", ".join(part.measures or (part.conversion,)),  # type: ignore[arg-type]
                                   "grain": part.grain, "dimensions": ", ".join(part.dimensions)}
            if entry is None:
                row.update(state="not built")
            else:
                cand = self.candidates([*part.measures, part.conversion or ""])
                mine = [c for c in cand if c.part.name == part.name]
                state = "fresh" if mine and mine[0].fresh else (mine[0].why_stale if mine else "unknown")
                row.update(state=state, rows=entry.rows, bytes=entry.bytes, built_at=entry.built_at,
                           seconds=entry.seconds, mode=entry.mode, version=entry.version)
            out.append(row)
        return out


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def version_of(def_hash: str, zone: str, stamp: str, watermark: str | None) -> str:
    return hashlib.sha256(json.dumps([def_hash, zone, stamp, watermark]).encode()).hexdigest()[:12]


def as_dates(values: list[Any]) -> tuple[date, ...]:
    out = []
    for v in values:
        if v is None:
            continue
        out.append(v.date() if isinstance(v, datetime) else v if isinstance(v, date) else date.fromisoformat(str(v)[:10]))
    return tuple(sorted(set(out)))


def elapsed(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)
