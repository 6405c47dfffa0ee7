"""The one-aggregation statement (compile_split) gives every cell the per-window statement gives.

Every shipped metric, on the demo data, asked for windows drawn by hypothesis (whole months, which
key spend by its month, and cut ones, which prorate it; overlapping series buckets; breakdowns with
their dirty and empty segments), is compiled twice: as shipped, and with ``splits`` forced off so each
table's windows are aggregated on their own and added up (the statement's shape before). Every row
and every column of the two results must be equal (relative 1e-9: floating sums may add in another
order).
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import metrics_core.compile as compile_mod
from metrics_core import KPI
from cli_demo import demo_kpi  # tests/ helper (on sys.path via conftest)

AS_OF = date(2026, 11, 27)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return demo_kpi()


def _rows(kpi: KPI, text: str) -> tuple[str, list[tuple]]:
    c = compile_mod.compile_query(kpi.catalog, kpi.calendar, kpi.plan(text, as_of=AS_OF).query)  # not the memo
    rows = [tuple(r) for r in kpi.backend.connection.execute(c.sql, c.params).fetchall()]
    return c.sql, sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r[:2 + len(c.dim_cols)]))  # by window, g, breakdown


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
        return (math.isnan(fa) and math.isnan(fb)) or math.isclose(fa, fb, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _both(kpi: KPI, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple], list[tuple]]:
    split_sql, split = _rows(kpi, text)
    with monkeypatch.context() as m:
        m.setattr(compile_mod, "splits", lambda bld: False)
        apart_sql, apart = _rows(kpi, text)
    assert re.search(r"\bc?w0 AS \(", apart_sql) and not re.search(r"\bc?w0 AS \(", split_sql), text  # two shapes
    return split, apart


def _assert_equal(split: list[tuple], apart: list[tuple], text: str) -> None:
    assert len(split) == len(apart), text
    for x, y in zip(split, apart):
        assert len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y)), (text, x, y)


def test_the_shipped_metrics_read_as_one_aggregation(kpi: KPI) -> None:
    """No shipped metric needs a per-window aggregate (none is a count distinct or median): the fast
    shape is the one every shipped answer uses."""
    for metric in kpi.definitions.metrics:
        c = kpi.compiled(kpi.plan(f"{metric} last-quarter", as_of=AS_OF).query)
        assert re.search(r"\bc?w\d+ AS \(", c.sql) is None and "GROUP BY" in c.sql or metric == "gross_margin", metric


@pytest.mark.parametrize("form", ["last-quarter", "last-quarter by segment", "last-12-months by segment grain month",
                                  "this-year grain quarter vs last-year", "last-quarter where segment=SMB"])
def test_every_metric_agrees_with_the_per_window_statement(kpi: KPI, form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for metric in kpi.definitions.metrics:
        if metric == "gross_margin":
            continue  # a constant reads no table
        text = f"{metric} {form}"
        _assert_equal(*_both(kpi, text, monkeypatch), text)


DAY = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 11, 20))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=DAY, days=st.integers(0, 200), whole=st.booleans(), by=st.sampled_from(["", " by segment", " by region"]),
       grain=st.sampled_from(["", " grain month", " grain week"]),
       metric=st.sampled_from(["cac", "ltv_cac_ratio", "win_rate", "open_deals", "lead_to_win_rate", "clv"]))
def test_any_window_agrees_with_the_per_window_statement(kpi: KPI, monkeypatch: pytest.MonkeyPatch, start: date,
                                                         days: int, whole: bool, by: str, grain: str, metric: str) -> None:
    if whole:  # whole months: spend keyed by its month, no proration
        start = start.replace(day=1)
        end = (date(start.year + (start.month + days // 30) // 12, (start.month + days // 30) % 12 + 1, 1)
               - timedelta(days=1))
    else:
        end = start + timedelta(days=days)
    if "segment" not in by and by and metric in ("cac", "ltv_cac_ratio", "clv"):
        by = " by segment"  # spend is budgeted by segment only
    text = f"{metric} {start.isoformat()}..{end.isoformat()}{by}{grain}"
    _assert_equal(*_both(kpi, text, monkeypatch), text)
