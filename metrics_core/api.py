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
from .compile_cumulative import widen
from .errors import QueryError, hint_for, mark_url_password, redact
from .filters import Filter
from .grammar import parse_query
from .i18n import _, active_locale, use_locale
from .load import Loaded, Sections, load_definitions, parse_definitions
from .memo import Memo
from .models import ConstantMetric, Definitions
from .periods import today, trailing
from .excluded import excluded_rows
from .fineprint import check_windows
from .question_plan import QuestionPlanning, _grain
from .result import MetricResult
from .rollup_answer import RollupAnswers
from .statement import Compiled, MetricQuery, Slot, complete, pretty
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


class KPI(QuestionPlanning, RollupAnswers):
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
        self._values: dict[tuple[str, str], tuple[float, tuple[str, ...]]] = {}
        self.cache = cache
        self._asm = Assembler(self.definitions, self.calendar)
        # False: always the raw tables (`--no-rollups`, or KPI_NO_ROLLUPS=1 for every KPI of the process)
        self.use_rollups = rollups if rollups is not None else os.environ.get("KPI_NO_ROLLUPS", "") in ("", "0")
        self._rollups: Any = None
        self._local_engine: Backend | None = None
        # parsed questions, statements, excluded-rows and rollup statements: work that reads no data (memo.py)
        self.plans = Memo(2048)
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
        """The statement's rows, a total row for every window (``complete``), and whether from the cache."""
        engine = backend or self.backend

        def run(sql: str, params: dict[str, Any]) -> tuple[Any, bool]:
            if self.cache is not None:
                return self.cache.fetch(engine, sql, params, use_cache=use_cache)
            return engine.run(sql, params), False

        def windows_only(sql: str, params: dict[str, Any]) -> Any:  # reads no table: once per statement and engine
            return self.plans.get(("empty", sql, engine.dialect), lambda: run(sql, params)[0])

        rows, cached = run(compiled.sql, compiled.params)
        return complete(compiled, rows, windows_only), cached

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
        return self.laid_out(c.sql, c.dialect), c.params

    def laid_out(self, sql: str, dialect: str) -> str:
        """``sql`` as people read it (statement.pretty), kept in the memo with the statement it shows, so
        `kpi query ... --sql` asked again lays it out without SQLGlot (plancache.py keeps it too)."""
        return self.plans.get(("pretty", sql, dialect), lambda: pretty(sql, dialect))

    @_localized
    def plan(self, text: str, *, as_of: date | None = None) -> Request:
        as_of = as_of or today(self.calendar)
        return self.plans.get(("plan", text, as_of, self._asm.locale), lambda: self._plan(text, as_of))

    def _plan(self, text: str, as_of: date) -> Request:
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
        """One Request per metric the question names, all with its period, breakdown and filters
        (planned once per text, day and language: the notes are worded in it)."""
        as_of = as_of or today(self.calendar)

        def make() -> tuple[Request, ...]:
            p = parse_query(text, self.catalog.synonyms)
            return tuple(self._request(m, p.period, p.by, p.where, p.compare, p.grain, as_of, p.condition)
                         for m in p.metrics)

        return self.plans.get(("plan_many", text, as_of, active_locale(), self._asm.locale), make)

    def compiled(self, query: MetricQuery, dialect: str | None = None, *, also: tuple[str, ...] = ()) -> Compiled:
        """The statement for a query, compiled once per process (queries and definitions are frozen);
        ``also``: more metrics over the same windows in the same statement."""
        dialect = dialect or self.dialect

        def make() -> Compiled:
            from .compile import compile_query  # SQLGlot: only when a statement is not already known

            return compile_query(self.catalog, self.calendar, query, dialect, base_dir=self.loaded.base_dir, also=also)

        return self.plans.get(("compiled", query, dialect, also), make)

    def forget(self) -> None:
        """Drop every memoised plan and fine-print count: the next answer of any question is a first ask."""
        self.plans.clear()
        with self._lock:
            self._counted.clear()

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
        compiled, df, cached, shared = self._with_open_parts(req, use_cache)  # one statement (rollup_answer.py)
        return self._finish(req, compiled, df, cached, use_cache, shared)

    def _finish(self, req: Request, compiled: Compiled, df: Any, cached: bool, use_cache: bool,
                shared: tuple | None = None) -> MetricResult:
        note = empty_filter_note(self, req, compiled, df)  # runs a statement only when the answer is empty
        if note:
            req = replace(req, notes=(*req.notes, note))
        excluded, parts = excluded_rows(self, req, use_cache)  # from the raw tables, whichever statement answered
        if excluded or parts:
            req = replace(req, notes=(*req.notes, *(e.note for e in excluded)), excluded=excluded, excluded_parts=parts)
        return build_result(self._asm, self.definitions, self._maturing(req, use_cache, shared), compiled, df, cached)

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
        from .compile_tables import TableSQL
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


def _dialect_of(url: str) -> str:
    scheme = url.split("://", 1)[0].split("+")[0].lower() if "://" in url else "duckdb"
    return {"postgresql": "postgres", "postgres": "postgres", "sc": "spark", "spark": "spark",
            "bigquery": "bigquery", "snowflake": "snowflake"}.get(scheme, "duckdb")
