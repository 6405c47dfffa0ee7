"""What to compute and the statements that compute it, as plain data (layer: compile; pure, no SQLGlot).

``MetricQuery`` (a metric, its windows as ``Slot``s, breakdown and filters) goes in; ``Compiled`` (the
statement text, its bound parameters and what each column means) and ``ExcludedSQL`` (the fine
print's counting statement) come out of compile.py and excluded_sql.py. They live here, apart from
the compilers, so that code which only carries them -- the facade, the assembler, and a `kpi query`
whose statements come from the plan cache (plancache.py) -- never imports SQLGlot (0.1 s of a cold start).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .columns import Columns
from .errors import QueryError
from .filters import Filter
from .models import ConversionMetric
from .periods import Period

if TYPE_CHECKING:
    from .catalog import Catalog

KINDS = ("no_time", "no_value", "negative", "date_order")  # what the fine print counts, per measure and window


@dataclass(frozen=True)
class Slot:
    """One window the statement computes: 0 = the asked period, 1 = comparison, 2.. = series buckets."""

    pid: int
    role: str  # "current" | "comparison" | "bucket"
    period: Period


@dataclass(frozen=True)
class MetricQuery:
    """What to compute (frozen). Built by the grammar from text, or directly by API callers."""

    metric: str
    slots: tuple[Slot, ...]
    dimensions: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()  # dim in (values), each ANDed
    condition: Filter | None = None  # the rest of the where clause (!=, >, or ...), ANDed with filters


@dataclass(frozen=True)
class Compiled:
    sql: str
    params: dict[str, Any]
    dialect: str
    measure_cols: dict[str, str]  # measure name -> column ("m0"); its row count is column + "_n"
    conversion_cols: dict[str, tuple[str, str]]  # conversion metric -> (converted col, base col)
    metric_cols: dict[str, str]  # metric name -> column holding its value ("value" for the asked one)
    dim_cols: tuple[str, ...] = field(default=())
    # the statement for windows no row falls in (their totals over no rows; no parameters; DuckDB text,
    # transpiled by ``complete`` for another engine) and every window's pid: ``complete`` adds the
    # missing windows' totals to the rows (compile.empty_head)
    empty_sql: str = ""
    pids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ExcludedSQL:
    sql: str  # DuckDB text; per measure and window: measure, pid, g, d0.., no_time, no_value, negative, date_order
    params: dict[str, Any]
    details: dict[str, dict[str, str]]  # measure -> {"time": col, "expr": snippet, "first": col, "then": col}


def complete(c: Compiled, rows: Columns, run: Callable[[str, dict[str, Any]], Columns]) -> Columns:
    """``rows`` of ``c`` with a total row for every window.

    The statement returns rows for the windows its tables have rows in; a window no row falls in
    (an empty month of a series, a filter nothing matches) gets its total over no rows -- counts and
    sums 0, averages and extremes NULL, the metric's expression over those -- from ``c.empty_sql``,
    a statement on the windows alone, run only then. The rows added are the empty statement's own,
    by position (its SELECT list is the answer's)."""
    if not c.empty_sql or not c.pids:
        return rows
    names = rows.names
    lower = {n.lower(): n for n in names}
    total = 1 if c.dim_cols else 0
    have = ({int(p) for p, g in zip(rows[lower["pid"]], rows[lower["g"]]) if g == total}
            if "pid" in lower and "g" in lower else set())
    if have.issuperset(c.pids):
        return rows
    extra = run(empty_statement(c), {})
    names = names or extra.names
    pid = [n.lower() for n in extra.names].index("pid")
    keep = [i for i, p in enumerate(extra[extra.names[pid]]) if int(p) not in have]
    cols = [extra[n] for n in extra.names]
    return Columns({n: [*(rows[n] if n in rows else ()), *(cols[j][i] for i in keep)] for j, n in enumerate(names)})


def empty_statement(c: Compiled) -> str:
    """``c.empty_sql`` in the statement's dialect."""
    return from_duckdb(c.empty_sql, c.dialect)


@functools.lru_cache(maxsize=256)
def from_duckdb(sql: str, dialect: str) -> str:
    """DuckDB text in ``dialect``: as written for DuckDB (a round trip through SQLGlot only costs time),
    transpiled once per text for another engine (SQLGlot is imported only then)."""
    if dialect == "duckdb":
        return sql
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write=dialect)[0]


def for_engine(sql: str, dialect: str, fix: Callable[[Any], Any] | None = None) -> str:
    """An answer's statement (DuckDB text) as ``dialect``'s engine runs it: as written on DuckDB (a round
    trip through SQLGlot cost a first ask 6-46 ms), parsed, rewritten by ``fix`` and printed laid out for
    another engine (its statement is shown as it runs)."""
    if dialect == "duckdb":
        return sql
    import sqlglot

    tree = sqlglot.parse_one(sql, read="duckdb")
    return (fix(tree) if fix else tree).sql(dialect=dialect, pretty=True)


def pretty(sql: str, dialect: str) -> str:
    """A statement laid out for people (``--sql``, `kpi explain`, ``KPI.sql``, the golden files). DuckDB
    runs its statements as the compiler writes them; here SQLGlot prints them one clause per line.
    Another dialect's statement was printed so when it was transpiled. Comment lines at the top
    (``-- answered from rollup ...``) stay as they are; text SQLGlot cannot read is shown as it is."""
    if dialect != "duckdb":
        return sql
    import sqlglot

    lines = sql.split("\n")
    k = next((i for i, line in enumerate(lines) if not line.startswith("--")), len(lines))
    try:
        body = sqlglot.parse_one("\n".join(lines[k:]), read="duckdb").sql(dialect="duckdb", pretty=True)
    except sqlglot.errors.SqlglotError:
        return sql
    return "\n".join([*lines[:k], body])


def needs(cat: Catalog, *metrics: str) -> tuple[list[str], list[str]]:
    """(measures, conversion metrics) the metrics read, in the order their columns are numbered."""
    measures: list[str] = []
    conversions: list[str] = []

    def collect(name: str, seen: tuple[str, ...]) -> None:
        if name in seen:
            raise QueryError(f"metric '{name}' refers to itself: " + " -> ".join([*seen, name]))
        if isinstance(cat.defs.metrics[name], ConversionMetric):
            if name not in conversions:
                conversions.append(name)
            return
        direct, subs = cat.metric_refs(name)
        measures.extend(m for m in direct if m not in measures)
        for sub in subs:
            collect(sub, (*seen, name))

    for metric in metrics:
        collect(metric, ())
    return measures, conversions
