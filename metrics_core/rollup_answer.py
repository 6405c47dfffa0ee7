"""Answers from rollups, and the maturing share of conversions (layer: facade; a mixin of ``KPI`` in
api.py, which it reads through ``self``: catalog, definitions, backend, caches and locks)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from .assemble import Request
from .backends import Backend
from .columns import Columns, _records
from .statement import Compiled, MetricQuery, Slot
from .fineprint import maturing_note, maturing_window
from .models import ConversionMetric


OPEN = 1000  # pids of the open parts of a conversion's windows, asked beside the answer's own windows


def table_names(table: Any) -> list[str]:
    """Column names of an engine's answer (plain columns, or a DataFrame from a warehouse driver)."""
    return [str(c) for c in (table.columns if hasattr(table, "to_dict") else table.names)]


class RollupAnswers:
    """Serving a query from built rollups (or saying why not) and the conversions' maturing share."""

    def _open_parts(self, req: Request) -> list[tuple[int, Slot, Slot]]:
        """(window pid, the window, its open part) of each window of a conversion that some base rows are
        still inside their conversion window for (the asked period and each series bucket). The part gets
        a pid from ``OPEN`` on, so it can ride along in the answer's own statement."""
        q = req.query
        if not isinstance(self.definitions.metrics[q.metric], ConversionMetric):
            return []
        wins = [q.slots[0], *(s for s in q.slots if s.role == "bucket")]
        out: list[tuple[int, Slot, Slot]] = []
        for w in wins:
            part = maturing_window(self.catalog, q.metric, w.period, req.as_of)
            if part is not None:
                out.append((w.pid, w, Slot(OPEN + len(out), "bucket", part)))
        return out

    def _with_open_parts(self, req: Request, use_cache: bool) -> tuple[Compiled, Any, bool, tuple | None]:
        """The answer's statement; for a maturing conversion, its open parts asked in the same statement:
        (statement, the answer's rows, cached, (open parts, their rows) for ``_maturing``)."""
        opened = self._open_parts(req)
        if not opened:
            return (*self._statement(req.query, use_cache), None)
        q = req.query
        compiled, table, cached = self._statement(replace(q, slots=(*q.slots, *(part for _p, _w, part in opened))),
                                                  use_cache)
        rows = _records(table)
        mine = Columns.from_records([r for r in rows if int(r["pid"]) < OPEN], [k.lower() for k in table_names(table)])
        return compiled, mine, cached, (opened, compiled, rows)

    def _maturing(self, req: Request, use_cache: bool, shared: tuple | None = None) -> Request:
        """A conversion whose window is still open for some base rows: the share of them, for the total,
        each breakdown row and each series bucket. ``shared``: the open parts and the rows of the answer's
        own statement, which asked for them too; else one more statement (each window and its open part)."""
        q = req.query
        if not isinstance(self.definitions.metrics[q.metric], ConversionMetric):
            return req
        opened = shared[0] if shared is not None else self._open_parts(req)
        if not opened:  # every window has closed: nothing is maturing
            return replace(req, maturing=0.0)
        if shared is not None:
            compiled, table = shared[1], shared[2]
            pairs = [(pid, pid, part.pid) for pid, _w, part in opened]
        else:
            slots = tuple(s for i, (_p, w, part) in enumerate(opened)
                          for s in (Slot(2 * i, "current" if i == 0 else "bucket", w.period), Slot(2 * i + 1, "bucket", part.period)))
            pairs = [(pid, 2 * i, 2 * i + 1) for i, (pid, _w, _part) in enumerate(opened)]
            # the open parts' base rows: from a conversion rollup when one serves (the same rows), else raw
            compiled, table, _cached = self._statement(replace(q, slots=slots), use_cache)
        base_col = compiled.conversion_cols[q.metric][1]
        dims = compiled.dim_cols
        base: dict[tuple, float] = {}
        for r in (table if isinstance(table, list) else _records(table)):
            base[(int(r["pid"]), int(r["g"]), *(r[d] for d in dims))] = float(r[base_col] or 0)
        total_g = 1 if dims else 0

        def share(full: int, part: int, key: tuple = (), g: int = total_g) -> float | None:
            whole = base.get((full, g, *key), 0.0)
            return base.get((part, g, *key), 0.0) / whole if whole else None

        shares = {pid: share(full, part, (None,) * len(dims)) for pid, full, part in pairs}
        notes = list(req.notes)
        total = shares.get(0)
        if total:
            m = self.definitions.metrics[q.metric]
            label = self.definitions.measure_label(m.base.measure)
            notes.append(maturing_note(total, label, m.within_days, req.as_of, self._asm.locale))
        rows: dict[tuple, float | None] = {}
        cells: dict[tuple, float | None] = {}  # (bucket pid, *breakdown values): a series broken down
        for pid, full, part in pairs if dims else ():
            keys = [k[2:] for k in base if k[0] == full and k[1] == 0]
            if pid == 0:
                rows = {k: share(full, part, k, g=0) for k in keys}
            else:
                cells.update({(pid, *k): share(full, part, k, g=0) for k in keys})
        closed = {s.pid: 0.0 for s in q.slots if s.role == "bucket"}
        return replace(req, notes=tuple(notes), maturing=total if 0 in shares else 0.0, maturing_rows=rows,
                       maturing_buckets={**closed, **{p: v for p, v in shares.items() if p != 0}}, maturing_cells=cells)

    def _from_rollups(self, query: MetricQuery, use_cache: bool) -> tuple[Compiled, Any, bool] | str | None:
        """(statement, rows, cached) when rollups answer ``query``; else why not (None: none built)."""
        if self._rollups is None and not self._manifest_exists():
            return None  # nothing built: not even the rollup machinery is loaded (a cold `kpi query`)
        from .errors import KpiError
        from .rollup_serve import match, needed
        from .rollup_serve_sql import serve_sql

        rollups = self.rollups
        measures, conversions = needed(self.catalog, query.metric)
        candidates = rollups.candidates([*measures, *conversions])
        if not candidates:
            return None
        plan = match(self.catalog, query, candidates)
        if not plan.served:
            return "; ".join(plan.misses)
        engine = self.backend
        if all(c.relation.startswith("read_parquet(") for c in plan.parts.values()):  # the local store
            try:
                held = rollups.held_in(self._memory_engine, plan)
            except KpiError as e:  # e.g. a part's file removed after the freshness check
                return f"(reading the rollup failed: {str(e).splitlines()[0]})"
            if held is not None or engine.dialect != "duckdb":  # the files: any DuckDB reads them
                engine, plan = self._memory_engine(), held or plan
        def write() -> Compiled:
            c = serve_sql(self.catalog, query, plan, engine.dialect)
            return replace(c, sql=f"-- answered from rollup {', '.join(plan.rollups)}\n{c.sql}")

        # keyed by the part versions it reads (their relations): a rebuilt rollup is a new statement
        key = ("served", query, tuple((item, c.relation) for item, c in plan.parts.items()), engine.dialect)
        compiled = self.plans.get(key, write)
        try:
            df, cached = self._run(compiled, use_cache, engine)
        except KpiError as e:  # e.g. a part dropped between the freshness check and the read
            return f"(reading the rollup failed: {str(e).splitlines()[0]})"
        return compiled, df, cached

    def _manifest_exists(self) -> bool:
        """Whether any rollup was built (rollup_store keeps its manifest there, for either store)."""
        d = Path(self.definitions.rollups.directory)
        return (d if d.is_absolute() else self.loaded.base_dir / d).joinpath("manifest.json").exists()

    def _memory_engine(self) -> Backend:
        """The in-process DuckDB that holds local rollup parts in memory (the source may be read-only)."""
        with self._lock:
            if self._local_engine is None:
                from .backends.duckdb import PLANS_KEPT, DuckDBBackend

                # its tables are rollup part versions, read again and again: their plans are kept
                self._local_engine = DuckDBBackend(":memory:", reuse_plans=PLANS_KEPT)
            return self._local_engine
