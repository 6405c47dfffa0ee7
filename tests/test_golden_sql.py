"""Golden SQL per dialect: the statement every shipped metric compiles to (refresh: KPI_UPDATE_SNAPSHOTS=1).

    tests/snapshots/<dialect>/<metric>.sql     "<metric> last-quarter by segment" as of 2026-11-27

A diff in one of these files is a change in what kpi runs on a warehouse: read it in review. User
values never appear in the SQL text: they are bound parameters, listed on a last ``-- params:`` line.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import sqlglot

from metrics_core import KPI
from snapshot import assert_snapshot

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).parent / "snapshots"
AS_OF = date(2026, 11, 27)
DIALECTS = ("duckdb", "postgres", "spark")
PLACEHOLDER = {"duckdb": "${}", "postgres": "%({})s", "spark": ":{}"}  # how each dialect writes parameter p0

_kpi = KPI.from_path(REPO / "definitions.yaml")
METRICS = sorted(_kpi.definitions.metrics)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return _kpi


def golden_text(sql: str, params: dict) -> str:
    return sql + ("\n-- params: " + json.dumps(params, sort_keys=True, ensure_ascii=False) if params else "")


def question(kpi: KPI, metric: str) -> str:
    """Constants have no breakdown; every other shipped metric can be split by segment."""
    return f"{metric} last-quarter" + ("" if kpi.definitions.metrics[metric].type == "constant" else " by segment")


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("metric", METRICS)
def test_golden_sql(kpi: KPI, metric: str, dialect: str) -> None:
    sql, params = kpi.sql(question(kpi, metric), as_of=AS_OF, dialect=dialect)
    assert_snapshot(SNAPSHOTS / dialect / f"{metric}.sql", golden_text(sql, params))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("metric", ["win_rate", "lead_to_win_rate", "cac", "open_deals", "gross_margin"])
def test_golden_sql_parses_in_its_dialect(kpi: KPI, metric: str, dialect: str) -> None:
    sql, _ = kpi.sql(question(kpi, metric), as_of=AS_OF, dialect=dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert tree.find(sqlglot.exp.Select) is not None


def test_every_dialect_has_one_snapshot_per_metric() -> None:
    """A removed metric must not leave its golden SQL behind."""
    for dialect in DIALECTS:
        shipped = sorted(p.stem for p in (SNAPSHOTS / dialect).glob("*.sql") if "_where_" not in p.stem)
        assert shipped == METRICS, dialect


def test_compiling_is_deterministic(kpi: KPI) -> None:
    first = kpi.sql("pipeline_velocity last-quarter by segment", as_of=AS_OF, dialect="postgres")
    again = KPI.from_path(REPO / "definitions.yaml").sql("pipeline_velocity last-quarter by segment", as_of=AS_OF,
                                                         dialect="postgres")
    assert first == again


# -- user values are parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_filter_value_is_a_bound_parameter(kpi: KPI, dialect: str) -> None:
    sql, params = kpi.sql("win_rate last-quarter by segment where source=webinar", as_of=AS_OF, dialect=dialect)
    assert_snapshot(SNAPSHOTS / dialect / "win_rate_where_source.sql", golden_text(sql, params))
    assert "webinar" not in sql.lower()
    assert params == {"p0": "webinar"}  # one per table scan: won_deals and closed_deals share the deals scan
    for name in params:
        assert PLACEHOLDER[dialect].format(name) in sql


RICH = "win_rate last-quarter where segment != Zz-Seg and (region = Zz-Reg or amount > 50000)"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_richer_filter_is_bound_parameters(kpi: KPI, dialect: str) -> None:
    """Issue 11: !=, a number comparison and or/parentheses; the values typed (text lower-cased, a float)."""
    sql, params = kpi.sql(RICH, as_of=AS_OF, dialect=dialect)
    assert_snapshot(SNAPSHOTS / dialect / "win_rate_where_rich.sql", golden_text(sql, params))
    assert params == {"p0": "zz-seg", "p1": "zz-reg", "p2": 50000.0}
    assert "zz-" not in sql.lower() and "50000" not in sql
    for name in params:
        assert PLACEHOLDER[dialect].format(name) in sql


@pytest.mark.parametrize("dialect", DIALECTS)
def test_in_list_values_are_one_parameter_each(kpi: KPI, dialect: str) -> None:
    sql, params = kpi.sql("conversion_rate last-quarter where segment in (Zz-One, Zz-Two)", as_of=AS_OF, dialect=dialect)
    assert sorted(set(params.values())) == ["zz-one", "zz-two"]  # lower-cased: compared with LOWER(column)
    assert "zz-" not in sql.lower()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_malicious_filter_value_stays_in_params(kpi: KPI, dialect: str) -> None:
    evil = "x' OR 1=1 --"
    sql, params = kpi.sql(f'win_rate last-quarter where source="{evil}"', as_of=AS_OF, dialect=dialect)
    assert params and set(params.values()) == {evil.lower()}
    assert "1=1" not in sql and "1 = 1" not in sql and "x'" not in sql.lower()
    # the text outside the parameter still parses as one statement
    assert len(sqlglot.parse(re.sub(r"%\((\w+)\)s", r":\1", sql), read=dialect)) == 1


# -- the snapshot helper itself ------------------------------------------------------------------------

def test_snapshot_missing_fails_with_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPI_UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception) as e:
        assert_snapshot(tmp_path / "x.sql", "SELECT 1")
    assert "KPI_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_golden_sql.py" in str(e.value)
    assert not (tmp_path / "x.sql").exists()


def test_snapshot_mismatch_shows_a_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KPI_UPDATE_SNAPSHOTS", raising=False)
    (tmp_path / "x.sql").write_text("SELECT 1\nFROM a\n")
    with pytest.raises(pytest.fail.Exception) as e:
        assert_snapshot(tmp_path / "x.sql", "SELECT 1\nFROM b")
    assert "-FROM a" in str(e.value) and "+FROM b" in str(e.value)
    assert_snapshot(tmp_path / "x.sql", "SELECT 1\nFROM a")   # equal text passes


def test_snapshot_update_flag_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_UPDATE_SNAPSHOTS", "1")
    assert_snapshot(tmp_path / "new" / "x.sql", "SELECT 2")
    assert (tmp_path / "new" / "x.sql").read_text() == "SELECT 2\n"
