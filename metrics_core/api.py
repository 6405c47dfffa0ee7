"""The facade (top layer): definitions + a backend -> answers. The public Python API.

    from metrics_core import KPI
    kpi = KPI.from_path("definitions.yaml")          # or KPI.from_text(yaml_text, base_dir=...)
    r = kpi.query("win_rate last-quarter by region", as_of=date(2026, 11, 27))
    r.value, r.formatted, r.components, r.comparison, r.breakdown  # a MetricResult
    w = kpi.why("pipeline_velocity last-month")         # a WhyResult: w.factors, w.segments, w.summary
    m = kpi.query_many("win_rate, cac last-quarter")  # a MultiResult: m.results, m.to_json()
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from .assemble import Assembler, Request, build_result
from .backends import Backend, connect
from .catalog import Catalog, normalize_words
from .columns import Columns
from .compile import Compiled, MetricQuery, Slot, compile_query
from .compile_cumulative import widen
from .compile_tables import TableSQL
from .compile_filters import check_types, metric_fields, unknown_field
from .errors import QueryError, hint_for, mark_url_password, redact
from .filters import Filter, conds, join, split
from .grammar import GRAINS, check_text, parse_query
from .i18n import _, active_locale, use_locale
from .phrases import fold, inflected
from .load import Loaded, Sections, load_definitions, parse_definitions
from .models import ConstantMetric, ConversionMetric, Definitions
from .periods import Grain, Period, buckets, previous_period, resolve_period, today, trailing, year_ago
from .excluded import excluded_rows
from .fineprint import check_windows, maturing_note, maturing_window
from .result import MetricResult
from .multi import MultiResult, view
from .values import DimensionValues, empty_filter_note, list_values

if TYPE_CHECKING:
    from .doctor import DoctorReport
    from .records import Records
    from .why import WhyResult


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    description: str
    type: str  # simple | ratio | derived | conversion | constant
    synonyms: tuple[str, ...]
    format: str
    currency: str | None
    better: str
    dimensions: tuple[str, ...]  # dimensions it may be broken down by
    formula: str  # human-readable, e.g. "won_deals / closed_deals"
    owner: str | None = None


@dataclass(frozen=True)
class Explanation:
    metric: MetricInfo
    text: str  # multi-line plain text: definition, formula, what each part counts
    components: tuple[tuple[str, str], ...]  # (name, description) of each measure / sub-metric
    sql: str  # the SQL for "<metric> <default period>" in the backend's dialect


F = TypeVar("F", bound=Callable[..., Any])


def _localized(fn: F) -> F:
    """Run a public method in the reader's language: the active one (a Slack user's), else ``locale:``."""
    @functools.wraps(fn)
    def run(self: "KPI", *args: Any, **kw: Any) -> Any:
        with use_locale(active_locale() or self.definitions.locale.locale):
            return fn(self, *args, **kw)
    return run  # type: ignore[return-value]


class KPI:
    """Answers questions against one set of definitions and one backend (thread-safe for reads)."""

    def __init__(self, loaded: Loaded, *, connection: str | None = None, backend: Backend | None = None,
                 cache: Any = None, rollups: bool | None = None) -> None:
        self.loaded = loaded
        self.definitions: Definitions = loaded.defs
        self.catalog = Catalog(self.definitions)
        self.calendar = self.definitions.calendar.to_calendar()
        self.url = connection or self.definitions.connection.url
        mark_url_password(self.url)  # never shown, whichever message or log line would carry it
        self._backend = backend
        self._lock = threading.Lock()
        self._fresh: tuple[float, date | None] | None = None
        self._compiled: dict[tuple[MetricQuery, str], Compiled] = {}
        self._values: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}
        self.cache = cache
        self._asm = Assembler(self.definitions, self.calendar)
        # False: always the raw tables (`--no-rollups`, or KPI_NO_ROLLUPS=1 for every KPI of the process)
        self.use_rollups = rollups if rollups is not None else os.environ.get("KPI_NO_ROLLUPS", "") in ("", "0")
        self._rollups: Any = None
        self._local_engine: Backend | None = None
        self._served: dict[tuple, Compiled] = {}  # statements from rollups, by query and part versions
        self._counted: dict[tuple, Any] = {}  # excluded-rows counts by statement and data version (excluded.py)

    @classmethod
    def from_path(cls, path: str | Path | None = None, *, sections: Sections = True, **kw: Any) -> "KPI":
        """``sections``: which extension sections (slack:, sheets:) to validate too; True = all present."""
        return cls(load_definitions(path, sections=sections), **kw)

    @classmethod
    def from_text(cls, text: str, *, source: str = "definitions.yaml", base_dir: str | Path = ".",
                  sections: Sections = True, **kw: Any) -> "KPI":
        return cls(parse_definitions(text, source=source, base_dir=base_dir, sections=sections), **kw)

    # -- engine --------------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        with self._lock:
            if self._backend is None:
                # Read-only: answering never writes, and a DuckDB file opened for writing is locked
                # against every other process (the bot, a sync and a `kpi query` run side by side).
                self._backend = connect(self.url, base_dir=self.loaded.base_dir, read_only=True,
                                        missing_ok=self._files_only())
            return self._backend

    def _files_only(self) -> bool:
        """Every table reads CSV/Parquet files: the DuckDB file is only an engine, memory will do."""
        return all(t.source.files for t in self.definitions.tables.values())

    @property
    def dialect(self) -> str:
        return self._backend.dialect if self._backend is not None else _dialect_of(self.url)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
        if self._local_engine is not None:
            self._local_engine.close()

    @property
    def rollups(self) -> Any:
        """The rollups of these definitions on this engine (build, status, drop; see rollup_store)."""
        from .rollup_store import Rollups

        backend = self.backend
        with self._lock:
            if self._rollups is None:
                self._rollups = Rollups(self.loaded, backend)
            return self._rollups

    def _run(self, compiled: Compiled, use_cache: bool, backend: Backend | None = None) -> tuple[Any, bool]:
        backend = backend or self.backend
        if self.cache is not None:
            return self.cache.fetch(backend, compiled.sql, compiled.params, use_cache=use_cache)
        return backend.run(compiled.sql, compiled.params), False

    # -- questions -----------------------------------------------------------------------------
    @_localized
    def query(self, text: str, *, as_of: date | None = None, use_cache: bool = True) -> MetricResult:
        req = self.plan(text, as_of=as_of)
        return self._answer(req, use_cache)

    @_localized
    def query_many(self, text: str, *, as_of: date | None = None, use_cache: bool = True) -> MultiResult:
        """A question naming one or more metrics ("win_rate, cac last-quarter by segment"): one MetricResult
        per metric, each equal to ``query`` for that metric alone. Metrics with the same windows are
        answered by one statement (each table read once); a metric a built rollup serves is read
        from the rollup instead (a rollup statement serves one metric)."""
        reqs = self.plan_many(text, as_of=as_of)
        if len(reqs) == 1:  # one metric: exactly the single-question path
            return MultiResult((self._answer(reqs[0], use_cache),), 1)
        groups: dict[tuple, list[int]] = {}
        for i, req in enumerate(reqs):  # metrics that refuse to split a grain may keep fewer windows, and
            windows = widen(self.catalog, req.query).slots  # a cumulative metric's windows are wider
            groups.setdefault((windows, req.compare_kind), []).append(i)
        results: list[MetricResult | None] = [None] * len(reqs)
        statements = 0
        rollups = self.use_rollups and bool(self.definitions.rollups.named)
        for members in groups.values():
            raw = []
            for i in members:  # a metric a rollup serves is read from it; the others share one statement
                served = self._from_rollups(reqs[i].query, use_cache) if rollups else None
                if isinstance(served, tuple):
                    results[i] = self._finish(reqs[i], *served, use_cache)
                    statements += 1
                else:
                    raw.append(i)
            if not raw:
                continue
            also = tuple(reqs[i].query.metric for i in raw[1:])
            compiled = self.compiled(reqs[raw[0]].query, also=also)
            df, cached = self._run(compiled, use_cache)
            statements += 1
            for pos, i in enumerate(raw):
                mine, rows = view(self.catalog, compiled, df, reqs[i].query.metric, pos)
                results[i] = self._finish(reqs[i], mine, rows, cached, use_cache)
        return MultiResult(tuple(r for r in results if r is not None), statements)

    @_localized
    def ask(self, metric: str, period: str = "", *, by: Sequence[str] = (), where: dict[str, Sequence[str]] | None = None,
            compare: str | None = "previous", grain: str | None = None, as_of: date | None = None,
            condition: Filter | None = None) -> MetricResult:
        """``where``: {dim: values} (each dim in values); ``condition``: a filters tree (!=, >, or ...)."""
        name = self.metric_info(metric).name
        filters = tuple((k, tuple(v)) for k, v in (where or {}).items())
        req = self._request(name, period or None, tuple(by), filters, compare or "none", grain, as_of, condition)
        return self._answer(req, True)

    @_localized
    def trend(self, metric: str, *, grain: str = "month", count: int = 12, by: Sequence[str] = (),
              where: dict[str, Sequence[str]] | None = None, as_of: date | None = None,
              condition: Filter | None = None) -> MetricResult:
        """`count` trailing periods of `grain` (the last one to date) in one query: result.series has one
        row per period (start, end, label, value, formatted, and the dimension columns when `by` is given)."""
        as_of = as_of or today(self.calendar)
        name = self.metric_info(metric).name
        periods = trailing(_grain(grain), count, self.calendar, as_of)
        current = periods[-1]
        _none, kept, notes = check_windows(self.catalog, self.calendar, name, [], periods, self._asm.locale)
        notes = [*notes, *self._cumulative_notes(name)]
        slots = (Slot(0, "current", current), *(Slot(i + 2, "bucket", p) for i, p in enumerate(kept)))
        filters, cond = self._check_filters(name, tuple((k, tuple(v)) for k, v in (where or {}).items()), condition)
        q = MetricQuery(name, slots, self._dims(name, tuple(by)), filters, cond)
        result = self._answer(Request(q, None, grain, as_of, tuple(notes)), True)
        if current not in kept:  # the to-date period cuts a grain the metric refuses to split
            result = replace(result, value=None, formatted=self._asm.metric_fmt(name, None), target=None)
        return result

    @_localized
    def why(self, text: str, *, as_of: date | None = None, use_cache: bool = True) -> "WhyResult":
        """Why did it move: ``why("pipeline_velocity last-month")`` splits the change against the comparison
        (``vs ...``, else the default) into each factor's share (a product or ratio of metrics), or with
        ``by <dimension>`` into rate and mix effects by value (see metrics_core.why for the formulas)."""
        from .why_answer import explain_change

        return explain_change(self, text, as_of=as_of, use_cache=use_cache)

    @_localized
    def sql(self, text: str, *, as_of: date | None = None, dialect: str | None = None) -> tuple[str, dict[str, Any]]:
        req = self.plan(text, as_of=as_of)
        c = self.compiled(req.query, dialect)
        return c.sql, c.params

    @_localized
    def plan(self, text: str, *, as_of: date | None = None) -> Request:
        p = parse_query(text, self.catalog.synonyms)
        if p.also:
            raise QueryError(_("'{text}' asks for several metrics ({metrics}); ask for one at a time here")
                             .format(text=text, metrics=", ".join(p.metrics)))
        return self._request(p.metric, p.period, p.by, p.where, p.compare, p.grain, as_of, p.condition)

    @_localized
    def metrics_in(self, text: str) -> tuple[str, ...]:
        """The metrics a question names, in order ("win rate, cac last-quarter" -> ("win_rate", "cac")); only
        the grammar runs, so a bad period or breakdown still lets a caller check access to each first."""
        return parse_query(text, self.catalog.synonyms).metrics

    @_localized
    def plan_many(self, text: str, *, as_of: date | None = None) -> tuple[Request, ...]:
        """One Request per metric the question names, all with its period, breakdown and filters."""
        p = parse_query(text, self.catalog.synonyms)
        return tuple(self._request(m, p.period, p.by, p.where, p.compare, p.grain, as_of, p.condition) for m in p.metrics)

    def _request(self, metric: str, period_text: str | None, by: tuple[str, ...], where: tuple,
                 compare: str | None, grain: str | None, as_of: date | None, condition: Filter | None = None) -> Request:
        as_of = as_of or today(self.calendar)
        d = self.definitions.defaults
        period = resolve_period(period_text or d.period, self.calendar, as_of)
        slots = [Slot(0, "current", period)]
        kind, cmp = self._comparison(period, compare or d.compare, as_of)
        series = buckets(period, _grain(grain), self.calendar) if grain else []
        compared, series, notes = check_windows(self.catalog, self.calendar, metric, [period, *([cmp] if cmp else [])],
                                                series, self._asm.locale)
        notes = [*notes, *self._cumulative_notes(metric)]
        if cmp is not None and compared:
            slots.append(Slot(1, "comparison", cmp))
        elif cmp is not None:
            kind = None
        slots += [Slot(i + 2, "bucket", b) for i, b in enumerate(series)]
        dims = self._dims(metric, by)
        filters, cond = self._check_filters(metric, tuple(where), condition)
        return Request(MetricQuery(metric, tuple(slots), dims, filters, cond), kind, grain, as_of, tuple(notes))

    def _cumulative_notes(self, metric: str) -> list[str]:
        from .compile_cumulative import cumulative_note
        from .models import CumulativeMetric

        m = self.definitions.metrics[metric]
        if not isinstance(m, CumulativeMetric):
            return []
        return [cumulative_note(self.definitions.metric_label(metric), m, self._asm.locale)]

    def _check_filters(self, metric: str, where: tuple, condition: Filter | None = None) -> tuple[tuple, Filter | None]:
        """Check every field name and value; returns (plain text filters, the rest as a tree): a plain
        ``amount = 1000`` on a number column moves into the tree, where it is compared as a number."""
        fields = metric_fields(self.catalog, metric)
        tree = join(tuple((d, tuple(v)) for d, v in where), condition)
        for c in conds(tree):
            if c.dim not in fields:
                raise unknown_field(metric, c.dim, fields)
            for value in c.values:  # ask()/trend() take values straight from Python, not through the grammar
                check_text(str(value), _("the filter value for '{dimension}'").format(dimension=c.dim))
        check_types(tree, fields)
        plain, rest = split(tree)
        moved = [(d, v) for d, v in plain if fields[d] != "text"]
        if moved:
            plain = tuple((d, v) for d, v in plain if fields[d] == "text")
            rest = join(tuple(moved), rest)
        return plain, rest

    def _comparison(self, period: Period, text: str, as_of: date) -> tuple[str | None, Period | None]:
        key = fold(normalize_words(text))
        if key in ("none", "no", "nothing", "brak", "bez", "bez porownania", "nic"):
            return None, None
        if key in ("previous", "prev", "previous period", "prior", "last period", "poprzedni", "poprzedni okres",
                   "poprzednim okresem", "poprzedniego okresu", "poprz", "poprz."):
            return "previous", previous_period(period, self.calendar)
        if key in ("last year", "previous year", "year ago", "a year ago", "py", "yoy", "rok do roku", "rdr",
                   "r/r", "rok wczesniej", "zeszly rok", "zeszlym rokiem", "poprzedni rok", "poprzednim rokiem",
                   "ubiegly rok", "ubieglym rokiem"):
            return "last-year", year_ago(period, self.calendar)
        try:
            return "custom", resolve_period(text, self.calendar, as_of)
        except QueryError:
            raise QueryError(_("unknown comparison '{text}' (use vs previous, vs last-year, vs none, "
                               "or vs a period like 2025-Q3)").format(text=text)) from None

    def _dims(self, metric: str, by: tuple[str, ...]) -> tuple[str, ...]:
        if self.definitions.metrics[metric].type == "constant" and by:
            raise QueryError(_("'{metric}' is a constant; it has no breakdown").format(metric=metric))
        allowed = self.catalog.metric_dimensions(metric)
        # a Polish case form of an allowed name ("wg segmentu", "po opiekunie") names it
        by = tuple(d if d in allowed else inflected(d, allowed) or d for d in by)
        for dim in by:
            if dim not in allowed:
                raise QueryError(_("cannot break {metric} down by '{dimension}'").format(metric=metric, dimension=dim)
                                 + self.catalog.breakdown_hint(metric, dim))
        return by

    def compiled(self, query: MetricQuery, dialect: str | None = None, *, also: tuple[str, ...] = ()) -> Compiled:
        """The statement for a query, compiled once per process (queries and definitions are frozen);
        ``also``: more metrics over the same windows in the same statement."""
        key: tuple = (query, dialect or self.dialect, *also)
        hit = self._compiled.get(key)
        if hit is None:
            hit = compile_query(self.catalog, self.calendar, query, key[1], base_dir=self.loaded.base_dir, also=also)
            with self._lock:
                if len(self._compiled) >= 512:
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[key] = hit
        return hit

    def _statement(self, query: MetricQuery, use_cache: bool) -> tuple[Compiled, Any, bool]:
        """(statement, rows, cached) for ``query``: from rollups when they can answer, else the raw tables."""
        m = self.definitions.metrics[query.metric]
        if isinstance(m, ConstantMetric) and not query.dimensions:
            # a constant reads no data: the rows its statement would return (one per window), no round trip
            c = self.compiled(query)
            pids = sorted({s.pid for s in query.slots})
            rows = Columns({"pid": pids, "g": [0] * len(pids), "value": [float(m.value)] * len(pids)})
            return replace(c, sql=f"-- a constant: answered without running the statement\n{c.sql}"), rows, False
        served = self._from_rollups(query, use_cache) if self.use_rollups and self.definitions.rollups.named else None
        if isinstance(served, tuple):
            return served
        compiled = self.compiled(query)
        df, cached = self._run(compiled, use_cache)
        if served:  # rollups were built but could not answer: say why (shown by --sql)
            compiled = replace(compiled, sql=f"-- raw tables: no rollup serves {served}\n{compiled.sql}")
        return compiled, df, cached

    def _answer(self, req: Request, use_cache: bool) -> MetricResult:
        return self._finish(req, *self._statement(req.query, use_cache), use_cache)

    def _finish(self, req: Request, compiled: Compiled, df: Any, cached: bool, use_cache: bool) -> MetricResult:
        note = empty_filter_note(self, req, compiled, df)  # runs a statement only when the answer is empty
        if note:
            req = replace(req, notes=(*req.notes, note))
        excluded = excluded_rows(self, req, use_cache)  # from the raw tables, whichever statement answered
        if excluded:
            req = replace(req, notes=(*req.notes, *(e.note for e in excluded)), excluded=excluded)
        return build_result(self._asm, self.definitions, self._maturing(req, use_cache), compiled, df, cached)

    def _maturing(self, req: Request, use_cache: bool) -> Request:
        """A conversion whose window is still open for some base rows: the share of them, for the total,
        each breakdown row and each series bucket (one more statement: each window and its open part)."""
        q = req.query
        wins = [(0, q.slots[0].period), *((s.pid, s.period) for s in q.slots if s.role == "bucket")]
        pairs: list[tuple[int, Slot, Slot]] = []
        for pid, w in wins:
            part = maturing_window(self.catalog, q.metric, w, req.as_of)
            if part is not None:
                n = len(pairs) * 2
                pairs.append((pid, Slot(n, "current" if n == 0 else "bucket", w), Slot(n + 1, "bucket", part)))
        if not isinstance(self.definitions.metrics[q.metric], ConversionMetric):
            return req
        if not pairs:  # every window has closed: nothing is maturing
            return replace(req, maturing=0.0)
        slots = tuple(s for _pid, full, part in pairs for s in (full, part))
        # the open parts' base rows: from a conversion rollup when one serves (the same rows), else raw
        compiled, table, _cached = self._statement(MetricQuery(q.metric, slots, q.dimensions, q.filters, q.condition),
                                                   use_cache)
        base_col = compiled.conversion_cols[q.metric][1]
        dims = compiled.dim_cols
        base: dict[tuple, float] = {}
        for r in _records(table):
            base[(int(r["pid"]), int(r["g"]), *(r[d] for d in dims))] = float(r[base_col] or 0)
        total_g = 1 if dims else 0

        def share(full: Slot, part: Slot, key: tuple = (), g: int = total_g) -> float | None:
            whole = base.get((full.pid, g, *key), 0.0)
            return base.get((part.pid, g, *key), 0.0) / whole if whole else None

        shares = {pid: share(full, part, (None,) * len(dims)) for pid, full, part in pairs}
        notes = list(req.notes)
        total = shares.get(0)
        if total:
            m = self.definitions.metrics[q.metric]
            label = self.definitions.measure_label(m.base.measure)
            notes.append(maturing_note(total, label, m.within_days, req.as_of, self._asm.locale))
        rows: dict[tuple, float | None] = {}
        if dims and pairs[0][0] == 0:
            full, part = pairs[0][1], pairs[0][2]
            rows = {k[2:]: share(full, part, k[2:], g=0) for k in base if k[0] == full.pid and k[1] == 0}
        closed = {s.pid: 0.0 for s in q.slots if s.role == "bucket"}
        return replace(req, notes=tuple(notes), maturing=total if 0 in shares else 0.0, maturing_rows=rows,
                       maturing_buckets={**closed, **{p: v for p, v in shares.items() if p != 0}})

    def _from_rollups(self, query: MetricQuery, use_cache: bool) -> tuple[Compiled, Any, bool] | str | None:
        """(statement, rows, cached) when rollups answer ``query``; else why not (None: none built)."""
        if self._rollups is None and not self._manifest_exists():
            return None  # nothing built: not even the rollup machinery is loaded (a cold `kpi query`)
        from .errors import KpiError
        from .rollup_serve import match, needed, serve_sql

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
        key = (query, tuple((item, c.relation) for item, c in plan.parts.items()), engine.dialect)
        compiled = self._served.get(key)
        if compiled is None:
            compiled = serve_sql(self.catalog, query, plan, engine.dialect)
            compiled = replace(compiled, sql=f"-- answered from rollup {', '.join(plan.rollups)}\n{compiled.sql}")
            with self._lock:
                if len(self._served) >= 512:
                    self._served.pop(next(iter(self._served)))
                self._served[key] = compiled
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
                from .backends.duckdb import DuckDBBackend

                self._local_engine = DuckDBBackend(":memory:")
            return self._local_engine

    # -- the catalogue -------------------------------------------------------------------------
    @_localized
    def metrics(self) -> list[MetricInfo]:
        return [self._info(n) for n, m in self.definitions.metrics.items() if not m.hidden]

    @_localized
    def metric_info(self, name_or_synonym: str) -> MetricInfo:
        name = self.catalog.synonyms.get(normalize_words(name_or_synonym))
        if name is None:
            raise QueryError(_("unknown metric '{name}'").format(name=name_or_synonym)
                             + hint_for(name_or_synonym, list(self.definitions.metrics), what=_("metrics")))
        return self._info(name)

    def dimension_values(self, metric: str, dimension: str, *, limit: int = 500) -> tuple[str, ...]:
        """The values ``dimension`` takes for ``metric`` over the last 12 months, most common first (at most
        ``limit``; remembered for ten minutes): how a mention's "w EMEA" finds that EMEA is a region."""
        key = (metric, dimension)
        hit = self._values.get(key)
        if hit and time.monotonic() - hit[0] < 600:
            return hit[1]
        r = self.ask(metric, "last-12-months", by=[dimension], compare="none")
        rows = r.breakdown_columns
        values = tuple(str(v) for v in rows[dimension] if v is not None)[:limit] if rows is not None and len(rows) else ()
        with self._lock:
            self._values[key] = (time.monotonic(), values)
        return values

    @_localized
    def values(self, dimension: str, *, metric: str | None = None, period: str | None = None,
               as_of: date | None = None) -> DimensionValues:
        """The values ``dimension`` takes with row counts, most first: the rows ``metric`` is about (a ratio's
        denominator), else every row of the one table with that dimension; ``period`` limits them by time."""
        return list_values(self, dimension, metric=metric, period=period, as_of=as_of)

    @_localized
    def rows(self, text: str, *, part: str | None = None, limit: int = 100, as_of: date | None = None) -> "Records":
        """The records behind a number, ordered by time: ``kpi.rows("won_deals last-quarter where segment=SMB")``;
        ``part``: a ratio's numerator or denominator (default), a conversion's base, or a measure's name."""
        from .records import list_rows

        return list_rows(self, text, part=part, limit=limit, as_of=as_of)

    @_localized
    def match_metric(self, words: str) -> MetricInfo | None:
        """Tolerant lookup in free text ("what was win rate last quarter?") by name/synonym/label."""
        text = " " + normalize_words(words) + " "
        best = max(((len(k), n) for k, n in self.catalog.synonyms.items() if f" {k} " in text), default=None)
        if best:
            return self._info(best[1])
        from .errors import suggest

        for word in normalize_words(words).split():
            close = suggest(word, [k for k in self.catalog.synonyms if " " not in k], cutoff=0.8, limit=1)
            if close:
                return self._info(self.catalog.synonyms[close[0]])
        return None

    def _info(self, name: str) -> MetricInfo:
        m = self.definitions.metrics[name]
        return MetricInfo(name, self.definitions.metric_label(name), m.description, m.type, tuple(m.synonyms),
                          m.format.kind, m.format.currency or self.definitions.locale.currency, m.better,
                          tuple(self.catalog.metric_dimensions(name)), formula(self.definitions, name), m.owner)

    @_localized
    def explain(self, name: str, *, as_of: date | None = None) -> Explanation:
        from .explain import explain_metric

        info = self.metric_info(name)
        sql, _params = self.sql(info.name, as_of=as_of)
        e = explain_metric(self.definitions, self.catalog, info, sql)
        return dataclasses.replace(e, text=redact(e.text), sql=redact(e.sql))  # the CLI and Slack show these

    @_localized
    def doctor(self, *, as_of: date | None = None, period: str = "last-month") -> "DoctorReport":
        """Data-quality checks over every table the definitions use (see metrics_core.doctor)."""
        from .doctor import run_doctor

        return run_doctor(self, as_of=as_of, period=period)

    def freshness(self) -> date | None:
        """The latest event date seen across the metric time columns (cached for a minute)."""
        if self._fresh and time.monotonic() - self._fresh[0] < 60:
            return self._fresh[1]
        from .explain import freshness_sql

        sql = freshness_sql(self.catalog, TableSQL(self.catalog, self.loaded.base_dir))
        v = self.backend.run(sql, {}).scalar() if sql else None
        value = v.date() if isinstance(v, datetime) else v
        self._fresh = (time.monotonic(), value)
        return value


def formula(defs: Definitions, name: str) -> str:
    m = defs.metrics[name]
    if m.type == "cumulative":
        from .compile_cumulative import describe

        return describe(m)
    return {"simple": lambda: m.measure, "ratio": lambda: f"{m.numerator} / {m.denominator}",
            "derived": lambda: m.expr, "constant": lambda: f"{m.value:g}",
            "conversion": lambda: f"share of {m.base.measure} ({m.base.entity}) followed by "
                                  f"{m.target.measure} ({m.target.entity}) within {m.within}"}[m.type]()


def _grain(g: str) -> Grain:
    key = normalize_words(g).replace(" ", "_")
    if key not in GRAINS:
        raise QueryError(_("unknown grain '{grain}'").format(grain=g) + hint_for(g, GRAINS))
    return Grain(key)


def _dialect_of(url: str) -> str:
    scheme = url.split("://", 1)[0].split("+")[0].lower() if "://" in url else "duckdb"
    return {"postgresql": "postgres", "postgres": "postgres", "sc": "spark", "spark": "spark",
            "bigquery": "bigquery", "snowflake": "snowflake"}.get(scheme, "duckdb")


def _records(table: Any) -> list[dict[str, Any]]:
    """Rows of an engine's answer as dicts with lower-case keys (a DataFrame or plain columns)."""
    if hasattr(table, "to_dict"):
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
    else:
        rows = table.records()
    return [{str(k).lower(): v for k, v in r.items()} for r in rows]
