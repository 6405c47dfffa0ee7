"""Rollups on DuckDB: when they may serve, that they give the raw answer, and that stale ones never serve.

A small hand-made CRM in a DuckDB file (so the file stamp is the data version): deals with a DATE
close day and a TIMESTAMP creation time (cut into days in America/New_York), a snapshot measure,
an exact-only measure (count_distinct) and a table that declares ``updated_at``. Every answer is
compared with the same question asked with rollups off.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_core.api import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.compile import MetricQuery, Slot
from metrics_core.errors import DefinitionError
from metrics_core.load import parse_definitions
from metrics_core.periods import Period
from metrics_core.rollup_serve import Candidate, why_not
from metrics_core.rollup_sql import parts_of

AS_OF = date(2026, 11, 27)
YAML = """
calendar: {timezone: America/New_York}
tables:
  deals:
    source: deals
    primary_key: id
    updated_at: updated_at
    columns: {id: integer, segment: string, stage: string, amount: number, created_at: timestamp,
              closed_at: date, owner: string, updated_at: timestamp}
measures:
  won: {table: deals, agg: count, filter: "stage = 'won'", time: closed_at}
  closed: {table: deals, agg: count, filter: "stage IN ('won', 'lost')", time: closed_at}
  revenue: {table: deals, agg: sum, expr: amount, filter: "stage = 'won'", time: closed_at}
  avg_amount: {table: deals, agg: avg, expr: amount, filter: "stage = 'won'", time: closed_at}
  biggest: {table: deals, agg: max, expr: amount, time: closed_at}
  created: {table: deals, agg: count, time: created_at}
  owners: {table: deals, agg: count_distinct, expr: owner, time: closed_at}
  open: {table: deals, agg: count, snapshot: {from: created_at, to: closed_at}}
  open_at_start: {table: deals, agg: sum, expr: amount, snapshot: {from: created_at, to: closed_at, at: start}}
metrics:
  win_rate: {numerator: won, denominator: closed, format: percent}
  revenue: {measure: revenue}
  avg_amount: {measure: avg_amount}
  biggest: {measure: biggest}
  created: {measure: created}
  owners: {measure: owners}
  open: {measure: open}
  open_at_start: {measure: open_at_start}
  # several parts in one statement (each part's columns must land in its own places): two plain
  # parts placed by different days, a snapshot at the end and one at the start beside them
  created_per_won: {numerator: created, denominator: won}
  mixed: {expr: "biggest * created / open + open_at_start / revenue"}
rollups:
  directory: rollups
  by_month:
    measures: [won, closed, revenue, avg_amount, biggest, owners]
    dimensions: [segment]
    grain: month
  by_day:
    measures: [won, closed, revenue, avg_amount, biggest, created, open, open_at_start]
    dimensions: [segment, stage]
  owners_daily:
    measures: [owners]
"""
METRICS = ("win_rate", "revenue", "avg_amount", "biggest", "created", "owners", "open", "open_at_start",
           "created_per_won", "mixed")


def fill(con, n: int = 600) -> None:  # noqa: ANN001
    con.execute("CREATE OR REPLACE TABLE deals (id INTEGER, segment VARCHAR, stage VARCHAR, amount DOUBLE, "
                "created_at TIMESTAMP, closed_at DATE, owner VARCHAR, updated_at TIMESTAMP)")
    rows = []
    for i in range(n):
        created = date(2025, 1, 1) + timedelta(days=(i * 7) % 690)
        # creation times around local midnight (04:00-05:59 UTC), so the zone decides the day
        ts = f"{created} 0{4 + i % 2}:{(i * 13) % 60:02d}:00"
        stage = ("won", "lost", "open")[i % 3]
        closed = None if stage == "open" else str(created + timedelta(days=(i * 11) % 80 - 3))
        rows.append((i, ("SMB", "Enterprise", "Mid-Market", None)[i % 4], stage, None if i % 17 == 0 else 1000.0 + (i * 37) % 5000,
                     ts, closed, f"rep{i % 9}", "2026-01-01 00:00:00"))
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def setup(root: Path, text: str = YAML) -> tuple[KPI, KPI, DuckDBBackend]:
    backend = DuckDBBackend(str(root / "crm.duckdb"))
    fill(backend.connection)
    served = KPI.from_text(text, base_dir=root, backend=backend)
    raw = KPI.from_text(text, base_dir=root, backend=backend, rollups=False)
    served.rollups.build()
    return served, raw, backend


@pytest.fixture(scope="module")
def kpis(tmp_path_factory: pytest.TempPathFactory) -> tuple[KPI, KPI, DuckDBBackend]:
    """Built once; tests that change data or rollups use ``own`` instead."""
    return setup(tmp_path_factory.mktemp("rollups"))


@pytest.fixture
def own(tmp_path: Path) -> tuple[KPI, KPI, DuckDBBackend]:
    return setup(tmp_path)


def answer(kpi: KPI, text: str) -> tuple:
    r = kpi.query(text, as_of=AS_OF, use_cache=False)
    rows = () if r.breakdown is None else tuple(sorted((str(x[0]), _n(x[1])) for x in r.breakdown.iloc[:, [0, 1]].values))
    series = () if r.series is None else tuple(_n(v) for v in r.series["value"])
    prev = r.comparison.value if r.comparison is not None else None
    return _n(r.value), _n(prev), rows, series, tuple(_n(c.value) for c in r.components), r.notes


def _n(v: object) -> object:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 9)  # type: ignore[arg-type]


def served_by(kpi: KPI, text: str) -> str:
    return kpi.query(text, as_of=AS_OF, use_cache=False).sql.splitlines()[0]


QUESTIONS = ("2026-Q1", "2026-Q1 by segment", "2025 grain month vs last-year", "last-week grain day",
             "2026-03-08 where segment=SMB", "2026-03-01..2026-03-10 by stage", "fy2026 grain quarter",
             # issue 11's filters: served from by_day (segment, stage) or by_month, raw for amount
             "2026-Q1 by segment where segment != SMB and (stage = won or segment = (blank))",
             "2026-Q1 grain month where segment not in (Enterprise, Mid-Market) or stage != lost",
             "2026-Q1 where amount > 3000 or segment = SMB")


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("question", QUESTIONS)
def test_same_answer_with_and_without_rollups(kpis: tuple, metric: str, question: str) -> None:
    served, raw, _ = kpis
    text = f"{metric} {question}"
    assert answer(served, text) == answer(raw, text)


def test_which_rollup_serves(kpis: tuple) -> None:
    served, _, _ = kpis
    assert served_by(served, "revenue 2026-Q1") == "-- answered from rollup by_month"
    assert served_by(served, "revenue 2026-03-01..2026-03-10") == "-- answered from rollup by_day"  # not whole months
    assert served_by(served, "created 2026-Q1") == "-- answered from rollup by_day"
    assert served_by(served, "owners 2026-03-08 vs none") == "-- answered from rollup owners_daily"


def test_richer_filters_on_rollup_dimensions_are_served(kpis: tuple) -> None:
    served, _, _ = kpis
    assert served_by(served, "revenue 2026-Q1 where segment != SMB") == "-- answered from rollup by_month"
    assert served_by(served, "revenue 2026-Q1 where segment = SMB or stage != open") == "-- answered from rollup by_day"
    line = served_by(served, "revenue 2026-Q1 where amount > 3000")  # amount is no rollup dimension
    assert line.startswith("-- raw tables: no rollup serves revenue:") and "lacks dimension 'amount'" in line


def test_reasons_when_no_rollup_serves(kpis: tuple) -> None:
    served, _, _ = kpis
    line = served_by(served, "owners 2026-Q1")
    assert line.startswith("-- raw tables: no rollup serves owners:")
    assert "owners_daily count_distinct is exact only for windows of exactly one day" in line
    assert "by_month count_distinct is exact only at the rollup's grain, which has no dimensions here" in line
    line = served_by(served, "win_rate 2026-Q1 by owner")
    assert "by_month lacks dimension 'owner'" in line and "by_day lacks dimension 'owner'" in line


@pytest.mark.parametrize("declared", [True, False], ids=["updated_at", "file stamp"])
def test_changed_data_is_never_served_stale(tmp_path: Path, declared: bool) -> None:
    """With updated_at declared, count(*) and max(updated_at) are the stamp; without, the DuckDB file's."""
    served, raw, backend = setup(tmp_path, YAML if declared else YAML.replace("    updated_at: updated_at\n", ""))
    before = answer(served, "revenue 2026-Q1")
    backend.connection.execute("UPDATE deals SET amount = amount + 1, updated_at = TIMESTAMP '2026-02-01 00:00:00' "
                               "WHERE stage = 'won' AND closed_at BETWEEN DATE '2026-02-10' AND DATE '2026-02-20'")
    assert served_by(served, "revenue 2026-Q1").startswith("-- raw tables: no rollup serves revenue: by_month is stale")
    after = answer(served, "revenue 2026-Q1")
    assert after == answer(raw, "revenue 2026-Q1") and after != before
    served.rollups.build()
    assert served_by(served, "revenue 2026-Q1") == "-- answered from rollup by_month"
    assert answer(served, "revenue 2026-Q1") == after


def test_a_part_held_in_memory_gives_way_to_its_rebuilt_version(tmp_path: Path) -> None:
    """From its second use a part is read from a table held in an in-memory DuckDB (not the file); after
    the data changes and the part is rebuilt, the new version is read and held and the old table dropped."""
    served, raw, backend = setup(tmp_path)
    text = "revenue 2026-Q1 by segment"
    assert answer(served, text) == answer(served, text) == answer(raw, text)
    held = dict(served.rollups._held)
    assert set(held) == {"by_month__0"}
    assert "FROM rollup_" in served.query(text, as_of=AS_OF, use_cache=False).sql  # read from memory
    backend.connection.execute("UPDATE deals SET amount = amount + 1, updated_at = TIMESTAMP '2026-02-01 00:00:00' "
                               "WHERE stage = 'won' AND closed_at BETWEEN DATE '2026-02-10' AND DATE '2026-02-20'")
    served.rollups.build()
    for _ in range(3):
        assert served_by(served, text) == "-- answered from rollup by_month"
        assert answer(served, text) == answer(raw, text)
    assert served.rollups._held["by_month__0"] != held["by_month__0"]
    tables = served._local_engine.run("SELECT table_name FROM duckdb_tables()", {})["table_name"]
    assert sorted(tables) == sorted(t for _rel, t in served.rollups._held.values())


def test_changed_definitions_are_never_served(kpis: tuple) -> None:
    served, _, backend = kpis
    changed = YAML.replace("expr: amount, filter: \"stage = 'won'\"", "expr: amount * 2, filter: \"stage = 'won'\"", 1)
    other = KPI.from_text(changed, base_dir=served.loaded.base_dir, backend=backend)
    assert "was built from other definitions" in served_by(other, "revenue 2026-Q1")
    assert answer(other, "revenue 2026-Q1")[0] == 2 * answer(served, "revenue 2026-Q1")[0]


def test_incremental_refresh_recomputes_changed_days(own: tuple) -> None:
    served, raw, backend = own
    con = backend.connection
    con.execute("UPDATE deals SET stage = 'won', updated_at = TIMESTAMP '2026-02-01 00:00:00' "
                "WHERE stage = 'lost' AND closed_at BETWEEN DATE '2026-01-05' AND DATE '2026-01-20'")
    report = {r["part"]: r["mode"] for r in served.rollups.build(["by_day"])}
    assert report["by_day__0"] == "incremental"
    assert report["by_day__2"] == "full"  # a snapshot depends on all history: always rebuilt
    for text in ("win_rate 2026-01-01..2026-01-31 by segment", "revenue last-year grain day"):
        assert served_by(served, text) == "-- answered from rollup by_day"
        assert answer(served, text) == answer(raw, text)


def test_a_row_moved_to_another_day_forces_a_full_rebuild(own: tuple) -> None:
    """The changed row's old day is unknown: the rows counted no longer add up, so rebuild in full."""
    served, raw, backend = own
    backend.connection.execute("UPDATE deals SET closed_at = closed_at + 40, updated_at = TIMESTAMP '2026-02-01 00:00:00' "
                               "WHERE id = 4")
    report = {r["part"]: r["mode"] for r in served.rollups.build(["by_day"])}
    assert report["by_day__0"] == "full"
    text = "revenue last-year grain month"
    assert served_by(served, text) == "-- answered from rollup by_day"
    assert answer(served, text) == answer(raw, text)


def test_fresh_parts_are_kept_and_drop_removes_them(own: tuple) -> None:
    served, _, _ = own
    assert {r["mode"] for r in served.rollups.build()} == {"fresh (kept)"}
    status = served.rollups.status()
    assert {s["state"] for s in status} == {"fresh"} and all(s["rows"] > 0 for s in status)
    gone = served.rollups.drop(["by_month"])
    assert gone == ["by_month__0"]
    assert served_by(served, "revenue 2026-Q1") == "-- answered from rollup by_day"
    assert [s["state"] for s in served.rollups.status() if s["rollup"] == "by_month"] == ["not built"]
    assert not list(Path(served.loaded.base_dir, "rollups").glob("by_month*"))


@settings(max_examples=30, deadline=None)
@given(start=st.dates(date(2024, 11, 1), date(2026, 12, 31)), days=st.integers(0, 400),
       metric=st.sampled_from(METRICS), by=st.booleans())
def test_any_window_gives_the_raw_answer(kpis: tuple, start: date, days: int, metric: str, by: bool) -> None:
    served, raw, _ = kpis
    text = f"{metric} {start}..{start + timedelta(days=days)}" + (" by segment" if by else "")
    assert answer(served, text) == answer(raw, text)


# -- the matching rules, as pure functions ------------------------------------------------------------

def _query(defs_text: str, start: date, end: date, dims: tuple = (), filters: tuple = (), metric: str = "revenue") -> tuple:
    loaded = parse_definitions(defs_text)
    q = MetricQuery(metric, (Slot(0, "current", Period("x", "range", start, end)),), dims, filters)
    return loaded.defs, q


def _candidate(defs, name: str, index: int = 0, fresh: bool = True) -> Candidate:  # noqa: ANN001
    return Candidate(parts_of(defs, name, defs.rollups.named[name])[index], "r", fresh, "is stale: data changed")


@pytest.mark.parametrize(("start", "end", "why"), [
    (date(2026, 1, 1), date(2026, 3, 31), None),
    (date(2026, 1, 1), date(2026, 1, 30), "is by month and a window is not whole months"),
    (date(2026, 1, 2), date(2026, 2, 28), "is by month and a window is not whole months"),
])
def test_additive_measures_need_whole_buckets(start: date, end: date, why: str | None) -> None:
    defs, q = _query(YAML, start, end)
    assert why_not(defs, q, "revenue", _candidate(defs, "by_month")) == why


def test_dimensions_and_filters_must_be_kept() -> None:
    defs, q = _query(YAML, date(2026, 1, 1), date(2026, 1, 31), filters=(("owner", ("rep1",)),))
    assert why_not(defs, q, "revenue", _candidate(defs, "by_month")) == "lacks dimension 'owner'"
    defs, q = _query(YAML, date(2026, 1, 1), date(2026, 1, 31), dims=("segment",), filters=(("segment", ("SMB",)),))
    assert why_not(defs, q, "revenue", _candidate(defs, "by_month")) is None


def test_exact_measures_only_at_one_bucket_without_dimensions() -> None:
    defs, q = _query(YAML, date(2026, 1, 1), date(2026, 1, 31), metric="owners")
    by_month = _candidate(defs, "by_month")
    assert why_not(defs, q, "owners", by_month) == "count_distinct is exact only at the rollup's grain, which has no dimensions here"
    assert why_not(defs, q, "owners", _candidate(defs, "owners_daily")) == "count_distinct is exact only for windows of exactly one day"
    defs, q = _query(YAML.replace("dimensions: [segment]\n    grain: month", "grain: month"), date(2026, 1, 1), date(2026, 1, 31))
    assert why_not(defs, q, "owners", _candidate(defs, "by_month")) is None


def test_snapshots_need_the_edge_on_a_boundary() -> None:
    text = YAML.replace("measures: [won, closed, revenue, avg_amount, biggest, owners]",
                        "measures: [won, closed, revenue, avg_amount, biggest, owners, open]")
    defs, q = _query(text, date(2026, 1, 10), date(2026, 1, 31), metric="open")
    part = next(i for i, p in enumerate(parts_of(defs, "by_month", defs.rollups.named["by_month"])) if p.kind == "snapshot")
    assert why_not(defs, q, "open", _candidate(defs, "by_month", part)) is None  # the end edge is Feb 1
    defs, q = _query(text, date(2026, 1, 1), date(2026, 1, 30), metric="open")
    assert why_not(defs, q, "open", _candidate(defs, "by_month", part)) == "is by month and a window edge falls inside one"


def test_a_stale_part_never_serves() -> None:
    defs, q = _query(YAML, date(2026, 1, 1), date(2026, 3, 31))
    assert why_not(defs, q, "revenue", _candidate(defs, "by_month", fresh=False)) == "is stale: data changed"


@pytest.mark.parametrize(("snippet", "message"), [
    ("  bad:\n    measures: [revnue]\n", "rollups.bad.measures.0: unknown measure 'revnue' (did you mean 'revenue'?)"),
    ("  bad:\n    measures: [won]\n    dimensions: [segmnt]\n",
     "rollups.bad.dimensions.0: 'segmnt' is not a dimension of measure 'won' (table 'deals') (did you mean 'segment'?)"),
    ("  bad:\n    measures: [won]\n    grain: week\n", "rollups.bad.grain: 'week' is not allowed"),
    ("  bad:\n    measures: [won]\n    dimension: [segment]\n", "rollups.bad.dimension: unknown key 'dimension' (did you mean 'dimensions' or 'description'?)"),
    ("  bad: {}\n", "a rollup needs measures: (or conversions:) to store"),
    ("  stroe: warehouse\n", "'stroe' is neither a setting nor a rollup (a mapping with measures:) (did you mean 'store'?)"),
])
def test_bad_rollups_are_reported_with_their_line(snippet: str, message: str) -> None:
    with pytest.raises(DefinitionError) as e:
        parse_definitions(YAML + snippet)
    assert message in str(e.value)
    assert "definitions.yaml:" in str(e.value)


def test_rows_dated_by_month_are_cut_by_the_raw_path_only() -> None:
    """A table declared grain: month decides itself how a window cutting a month counts (prorate, refuse)."""
    text = YAML.replace("    updated_at: updated_at\n", "    updated_at: updated_at\n    grain: month\n")
    defs, q = _query(text, date(2026, 1, 1), date(2026, 1, 20))
    assert why_not(defs, q, "revenue", _candidate(defs, "by_day")) == "cannot cut revenue's rows, dated by month, at a window edge"
    defs, q = _query(text, date(2026, 1, 1), date(2026, 2, 28))
    assert why_not(defs, q, "revenue", _candidate(defs, "by_day")) is None


def test_the_rollups_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kpi rollups suggest / build / status / drop, and --sql naming the rollup (through the real CLI app)."""
    monkeypatch.setenv("KPI_NO_ROLLUPS", "0")  # --no-rollups sets it for the process: restored after the test
    import duckdb
    from typer.testing import CliRunner

    from metrics_core.cli import app

    con = duckdb.connect(str(tmp_path / "crm.duckdb"))
    fill(con)
    con.close()
    path = tmp_path / "definitions.yaml"
    path.write_text(f"connection: duckdb:///{tmp_path}/crm.duckdb\n" + YAML, encoding="utf-8")

    def kpi(*args: str) -> str:
        result = CliRunner().invoke(app, [*args, "-d", str(path)])
        assert result.exit_code == 0, result.output
        return result.stdout

    suggested = kpi("rollups", "suggest")
    assert suggested.startswith("rollups:\n  store: local\n  deals_daily:\n")
    assert "count_distinct" not in suggested and "owners" in suggested  # left out, with the reason
    built = kpi("rollups", "build").splitlines()
    assert len(built) == 6 and all("\tin full\t" in line for line in built)  # by_day: 2 plain, 2 snapshot parts
    assert all(line.split("\t")[5] == "fresh" for line in kpi("rollups", "status").splitlines())
    answer = kpi("query", "revenue 2026-Q1", "--as-of", "2026-11-27", "--sql")
    assert answer.startswith("-- answered from rollup by_month\n")
    assert kpi("query", "revenue 2026-Q1", "--as-of", "2026-11-27", "--sql", "--no-rollups").startswith("WITH")
    assert kpi("rollups", "drop", "owners_daily").strip() == "dropped 1 part: owners_daily__0"
    assert not list((tmp_path / "rollups").glob("owners_daily*"))
    assert [line.split("\t")[5] for line in kpi("rollups", "status").splitlines()][-1] == "not built"
