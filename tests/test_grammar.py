"""The question grammar (``metrics_core.grammar.parse_query``) and ``KPI.plan`` on the shipped definitions.

Periods themselves are tested in test_periods.py; here only that the period *text* is carried
through untouched, and which windows ``plan`` asks for (current, comparison, buckets).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metrics_core import KPI, QueryError
from metrics_core.grammar import ParsedQuery, parse_query

REPO = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 27)


@pytest.fixture(scope="module")
def kpi() -> KPI:
    return KPI.from_path(REPO / "definitions.yaml")


@pytest.fixture(scope="module")
def names(kpi: KPI) -> dict[str, str]:
    return kpi.catalog.synonyms


def parse(text: str, names: dict[str, str]) -> ParsedQuery:
    return parse_query(text, names)


def query_error(text: str, names: dict[str, str]) -> str:
    with pytest.raises(QueryError) as e:
        parse_query(text, names)
    message = str(e.value)
    assert "\n" not in message, f"QueryError must be one line, got {message!r}"
    return message


# -- the metric ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, metric", [
    ("win_rate", "win_rate"),
    ("win-rate", "win_rate"),
    ("WIN_RATE", "win_rate"),
    ("Win Rate", "win_rate"),            # label, any case
    ("winrate", "win_rate"),             # synonym
    ("close rate", "win_rate"),          # multi-word synonym
    ("Sales conversion rate", "conversion_rate"),   # multi-word label
    ("lead-to-win", "lead_to_win_rate"),
    ("ltv:cac", "ltv_cac_ratio"),
])
def test_metric_by_name_synonym_or_label(names: dict[str, str], text: str, metric: str) -> None:
    assert parse(text, names) == ParsedQuery(metric)


@pytest.mark.parametrize("text, metric, period", [
    ("cac payback last quarter", "cac_payback_months", "last quarter"),  # not cac + period "payback last quarter"
    ("ltv cac this-month", "ltv_cac_ratio", "this-month"),               # not clv ("ltv") + "cac this-month"
    ("customer churn rate ytd", "customer_churn_rate", "ytd"),
])
def test_longest_name_wins(names: dict[str, str], text: str, metric: str, period: str) -> None:
    p = parse(text, names)
    assert (p.metric, p.period) == (metric, period)


@pytest.mark.parametrize("text, period", [
    ("Win Rate this month", "this month"),
    ("win_rate last quarter", "last quarter"),
    ("win_rate last-quarter", "last-quarter"),
    ("win_rate Q3 2026", "Q3 2026"),
    ("win_rate 2026-Q3", "2026-Q3"),
    ("win_rate last-6-months", "last-6-months"),
])
def test_period_text_is_kept_as_written(names: dict[str, str], text: str, period: str) -> None:
    p = parse(text, names)
    assert (p.metric, p.period) == ("win_rate", period)


def test_no_period_means_default(names: dict[str, str]) -> None:
    assert parse("win_rate by segment", names).period is None


# -- clauses ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "win_rate last quarter by segment, region",
    "win_rate last quarter by segment and region",
    "win_rate last quarter BY Segment , Region",
    "win_rate last quarter by segment, region, segment",   # a repeated dimension counts once
])
def test_by_lists_dimensions(names: dict[str, str], text: str) -> None:
    p = parse(text, names)
    assert (p.period, p.by, p.grain) == ("last quarter", ("segment", "region"), None)


@pytest.mark.parametrize("text, by, grain", [
    ("win_rate 2026 by month", (), "month"),
    ("win_rate 2026 by week and segment", ("segment",), "week"),
    ("win_rate 2026 grain week", (), "week"),
    ("win_rate 2026 grain Fiscal Quarter", (), "fiscal_quarter"),
    ("win_rate 2026 by region grain quarter", ("region",), "quarter"),
])
def test_grain_from_by_or_grain(names: dict[str, str], text: str, by: tuple, grain: str) -> None:
    p = parse(text, names)
    assert (p.period, p.by, p.grain) == ("2026", by, grain)


def test_where_with_and_and_in_list(names: dict[str, str]) -> None:
    p = parse("conversion_rate last-quarter where source=webinar and segment in (SMB, Mid-Market)", names)
    assert p.where == (("source", ("webinar",)), ("segment", ("SMB", "Mid-Market")))
    assert (p.metric, p.period, p.by) == ("conversion_rate", "last-quarter", ())


@pytest.mark.parametrize("text, values", [
    ("win_rate where source = webinar", ("webinar",)),
    ("win_rate where source='paid search'", ("paid search",)),
    ('win_rate where source="paid search"', ("paid search",)),
    ("win_rate where source in ('paid search', \"webinar\")", ("paid search", "webinar")),
    ("win_rate where SOURCE=Webinar", ("Webinar",)),   # the dimension is lower-cased, the value kept
])
def test_where_values_quoted_or_not(names: dict[str, str], text: str, values: tuple) -> None:
    assert parse(text, names).where == (("source", values),)


def test_quoted_value_may_contain_and(names: dict[str, str]) -> None:
    """Quotes protect a value: 'Small and Medium' is one value, not two filters."""
    p = parse("win_rate where segment='Small and Medium'", names)
    assert p.where == (("segment", ("Small and Medium",)),)


def test_quoted_value_may_contain_a_comma(names: dict[str, str]) -> None:
    """In an in-list, a comma inside quotes belongs to the value."""
    p = parse("win_rate where office in ('Austin, TX', Boston)", names)
    assert p.where == (("office", ("Austin, TX", "Boston")),)


def test_quoted_value_may_contain_a_clause_keyword(names: dict[str, str]) -> None:
    """A quoted value containing ' by ' must stay a value, not silently become a breakdown."""
    p = parse("win_rate where source='word of mouth by phone'", names)
    assert (p.where, p.by) == ((("source", ("word of mouth by phone",)),), ())


@pytest.mark.parametrize("text, compare", [
    ("win_rate last-quarter vs last-year", "last-year"),
    ("win_rate last-quarter vs previous", "previous"),
    ("win_rate last-quarter vs none", "none"),
    ("win_rate last-quarter vs. Last-Year", "last-year"),
    ("win_rate last-quarter versus 2025-Q3", "2025-q3"),
    ("win_rate last-quarter compared to previous", "previous"),
])
def test_comparison(names: dict[str, str], text: str, compare: str) -> None:
    p = parse(text, names)
    assert (p.period, p.compare) == ("last-quarter", compare)


def test_no_comparison_clause_means_default(names: dict[str, str]) -> None:
    assert parse("win_rate last-quarter", names).compare is None


def test_all_clauses_together(names: dict[str, str]) -> None:
    p = parse("Win Rate Q3 2026 by region where segment in (SMB) vs last-year grain month", names)
    assert p == ParsedQuery("win_rate", "Q3 2026", ("region",), (("segment", ("SMB",)),), "last-year", "month")


# -- errors ----------------------------------------------------------------------------------------

def test_unknown_metric_suggests_the_close_name(names: dict[str, str]) -> None:
    message = query_error("winn_rate last-quarter", names)
    assert "unknown metric 'winn_rate'" in message and "did you mean 'win_rate'" in message
    assert "kpi metrics" in message


def test_unknown_metric_far_from_everything_lists_metrics(names: dict[str, str]) -> None:
    message = query_error("xyzzy last-quarter", names)
    assert "unknown metric 'xyzzy' (metrics: annual_churn_rate, avg_deal_size, avg_deal_size_all, cac, " in message
    assert "did you mean" not in message


def test_unknown_multiword_metric_suggests_the_close_name(names: dict[str, str]) -> None:
    """'win rat' is a typo of the label 'win rate': the hint should name win_rate, not list everything."""
    message = query_error("win rat last quarter", names)
    assert "did you mean" in message and "win_rate" in message


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_question_shows_usage(names: dict[str, str], text: str | None) -> None:
    message = query_error(text, names)  # type: ignore[arg-type]
    assert message.startswith("empty question") and "usage: <metric> [period]" in message


@pytest.mark.parametrize("text, expected", [
    ("win_rate where segment", "cannot read filter 'segment'; write dim=value or dim in (a, b)"),
    ("win_rate where segment=", "cannot read filter 'segment='"),
    ("win_rate where segment in SMB", "filter 'segment in SMB': write segment in (a, b)"),
    ("win_rate where segment in ()", "filter 'segment in ()' has no value"),
    ("win_rate where segment=''", "filter 'segment=''' has no value"),
    ("win_rate where segment != SMB or (region = EMEA", "filter '(region = EMEA': a '(' is not closed"),
    ("win_rate where segment = SMB)", "filter 'segment = SMB)': a ')' has no '(' before it"),
    ("win_rate where segment not in SMB", "filter 'segment not in SMB': write segment not in (a, b)"),
])
def test_bad_filters(names: dict[str, str], text: str, expected: str) -> None:
    assert expected in query_error(text, names)


def test_unknown_grain_lists_grains(names: dict[str, str]) -> None:
    message = query_error("win_rate 2026 grain fortnight", names)
    assert "unknown grain 'fortnight'" in message and "month" in message and "week" in message


# -- KPI.plan on the shipped definitions -----------------------------------------------------------

def test_plan_default_period_and_comparison(kpi: KPI) -> None:
    req = kpi.plan("win_rate", as_of=AS_OF)   # defaults: last-month, compare previous
    (cur, cmp) = req.query.slots
    assert (cur.pid, cur.role, cur.period.start, cur.period.end) == (0, "current", date(2026, 10, 1), date(2026, 10, 31))
    assert (cmp.pid, cmp.role, cmp.period.start, cmp.period.end) == (1, "comparison", date(2026, 9, 1), date(2026, 9, 30))
    assert (req.compare_kind, req.grain, req.as_of) == ("previous", None, AS_OF)


@pytest.mark.parametrize("text, kind, start", [
    ("win_rate last-quarter vs previous", "previous", date(2026, 4, 1)),
    ("win_rate last-quarter vs last-year", "last-year", date(2025, 7, 1)),
    ("win_rate last-quarter vs 2025-Q1", "custom", date(2025, 1, 1)),
])
def test_plan_comparison_slot(kpi: KPI, text: str, kind: str, start: date) -> None:
    req = kpi.plan(text, as_of=AS_OF)
    assert [s.role for s in req.query.slots] == ["current", "comparison"]
    assert (req.compare_kind, req.query.slots[1].period.start) == (kind, start)


def test_plan_vs_none_has_no_comparison_slot(kpi: KPI) -> None:
    req = kpi.plan("win_rate last-quarter vs none", as_of=AS_OF)
    assert [s.role for s in req.query.slots] == ["current"] and req.compare_kind is None


def test_plan_grain_buckets_cover_the_period(kpi: KPI) -> None:
    req = kpi.plan("win_rate 2026-Q3 by month and segment", as_of=AS_OF)
    buckets = [s for s in req.query.slots if s.role == "bucket"]
    assert [s.pid for s in buckets] == [2, 3, 4]
    assert [(b.period.start, b.period.end) for b in buckets] == [
        (date(2026, 7, 1), date(2026, 7, 31)), (date(2026, 8, 1), date(2026, 8, 31)), (date(2026, 9, 1), date(2026, 9, 30))]
    assert (req.grain, req.query.dimensions) == ("month", ("segment",))


def test_plan_week_buckets_are_clipped_to_the_period(kpi: KPI) -> None:
    buckets = [s.period for s in kpi.plan("win_rate 2026-Q3 grain week", as_of=AS_OF).query.slots if s.role == "bucket"]
    assert (buckets[0].start, buckets[-1].end) == (date(2026, 7, 1), date(2026, 9, 30))
    assert all(a.end.toordinal() + 1 == b.start.toordinal() for a, b in zip(buckets, buckets[1:]))  # no gap, no overlap
    assert all(b.start.weekday() == 0 for b in buckets[1:])   # week_start: monday


def test_plan_carries_filters(kpi: KPI) -> None:
    req = kpi.plan("win_rate last-quarter where segment in (SMB, Enterprise)", as_of=AS_OF)
    assert req.query.filters == (("segment", ("SMB", "Enterprise")),)


@pytest.mark.parametrize("text, expected", [
    ("win_rate by regoin", "cannot break win_rate down by 'regoin' (did you mean 'region'?)"),
    ("win_rate where sgment=SMB", "cannot filter win_rate by 'sgment' (did you mean 'segment'?)"),
    ("conversion_rate by size_band", "cannot break conversion_rate down by 'size_band' (it can use: office, owner, region, segment, source, team)"),
    ("gross_margin by segment", "'gross_margin' is a constant; it has no breakdown"),
    ("win_rate last-quarter vs bogus", "unknown comparison 'bogus'"),
])
def test_plan_errors(kpi: KPI, text: str, expected: str) -> None:
    with pytest.raises(QueryError) as e:
        kpi.plan(text, as_of=AS_OF)
    assert expected in str(e.value) and "\n" not in str(e.value)
