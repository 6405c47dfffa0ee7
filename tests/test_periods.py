"""Period parsing and derived windows. Expected dates are worked out by hand (2026-11-27 is a Friday)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from metrics_core.errors import QueryError
from metrics_core.periods import (
    MAX_BUCKETS,
    PERIOD_FORMS, Calendar, Grain, Period, buckets, period_label, previous_period, resolve_period,
    target_kind, today, trailing, utc_bounds, window_label, year_ago,
)

AS_OF = date(2026, 11, 27)  # Friday
CAL = Calendar()
SUN = Calendar(week_start=6)
FEB_END = Calendar(fiscal_year_start_month=2, fiscal_year_named_by="end")
FEB_START = Calendar(fiscal_year_start_month=2, fiscal_year_named_by="start")
NY = Calendar(timezone="America/New_York")
D = date


def window(text, cal=CAL, as_of=AS_OF):
    p = resolve_period(text, cal, as_of)
    return p.start, p.end


# ------------------------------------------------------------------ forms


@pytest.mark.parametrize("text, start, end, kind, to_date", [
    ("today", D(2026, 11, 27), D(2026, 11, 27), "day", False),
    ("yesterday", D(2026, 11, 26), D(2026, 11, 26), "day", False),
    ("this-week", D(2026, 11, 23), D(2026, 11, 27), "week", True),
    ("this-month", D(2026, 11, 1), D(2026, 11, 27), "month", True),
    ("this-quarter", D(2026, 10, 1), D(2026, 11, 27), "quarter", True),
    ("this-year", D(2026, 1, 1), D(2026, 11, 27), "year", True),
    ("wtd", D(2026, 11, 23), D(2026, 11, 27), "week", True),
    ("mtd", D(2026, 11, 1), D(2026, 11, 27), "month", True),
    ("qtd", D(2026, 10, 1), D(2026, 11, 27), "quarter", True),
    ("ytd", D(2026, 1, 1), D(2026, 11, 27), "year", True),
    ("last-week", D(2026, 11, 16), D(2026, 11, 22), "week", False),
    ("last-month", D(2026, 10, 1), D(2026, 10, 31), "month", False),
    ("last-quarter", D(2026, 7, 1), D(2026, 9, 30), "quarter", False),
    ("last-year", D(2025, 1, 1), D(2025, 12, 31), "year", False),
    ("last-7-days", D(2026, 11, 20), D(2026, 11, 26), "days", False),
    ("last-30-days", D(2026, 10, 28), D(2026, 11, 26), "days", False),
    ("last-2-weeks", D(2026, 11, 9), D(2026, 11, 22), "weeks", False),
    ("last-6-months", D(2026, 5, 1), D(2026, 10, 31), "months", False),
    ("last-1-month", D(2026, 10, 1), D(2026, 10, 31), "months", False),
    ("last-3-quarters", D(2026, 1, 1), D(2026, 9, 30), "quarters", False),
    ("last-2-years", D(2024, 1, 1), D(2025, 12, 31), "years", False),
    ("2026", D(2026, 1, 1), D(2026, 12, 31), "year", False),
    ("2026-Q3", D(2026, 7, 1), D(2026, 9, 30), "quarter", False),
    ("Q3 2026", D(2026, 7, 1), D(2026, 9, 30), "quarter", False),
    ("q3-2026", D(2026, 7, 1), D(2026, 9, 30), "quarter", False),
    ("q4", D(2026, 10, 1), D(2026, 12, 31), "quarter", False),
    ("2026-09", D(2026, 9, 1), D(2026, 9, 30), "month", False),
    ("sep 2026", D(2026, 9, 1), D(2026, 9, 30), "month", False),
    ("September 2026", D(2026, 9, 1), D(2026, 9, 30), "month", False),
    ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "month", False),
    ("2026-09-15", D(2026, 9, 15), D(2026, 9, 15), "day", False),
    ("2026-09-01..2026-09-30", D(2026, 9, 1), D(2026, 9, 30), "range", False),
    ("2026-09-01 .. 2026-09-30", D(2026, 9, 1), D(2026, 9, 30), "range", False),
    ("fy2026", D(2026, 1, 1), D(2026, 12, 31), "fiscal_year", False),
])
def test_forms(text, start, end, kind, to_date):
    p = resolve_period(text, CAL, AS_OF)
    assert (p.start, p.end, p.kind, p.to_date) == (start, end, kind, to_date)


@pytest.mark.parametrize("text, canonical", [
    ("Last_Quarter", "last-quarter"), ("last quarter", "last-quarter"), ("LAST-QUARTER", "last-quarter"),
    ("mtd", "this-month"), ("YTD", "this-year"), ("fytd", "this-fiscal-year"),
    ("Q3 2026", "2026-Q3"), ("2026q3", "2026-Q3"), ("sep 2026", "2026-09"), ("FY 2027", "fy2027"),
    ("fy27", "fy2027"), ("FY2027 Q1", "fy2027-q1"), ("Last 7 Days", "last-7-days"), ("2026", "2026"),
])
def test_canonical_text(text, canonical):
    assert resolve_period(text, CAL, AS_OF).text == canonical


def test_n_and_days():
    p = resolve_period("last-7-days", CAL, AS_OF)
    assert (p.n, p.days, p.end_exclusive) == (7, 7, D(2026, 11, 27))


def test_q_alone_uses_previous_year_until_started():
    assert window("q1", as_of=D(2026, 2, 10)) == (D(2026, 1, 1), D(2026, 3, 31))
    assert window("q2", as_of=D(2026, 2, 10)) == (D(2025, 4, 1), D(2025, 6, 30))
    assert window("q2", as_of=D(2026, 4, 1)) == (D(2026, 4, 1), D(2026, 6, 30))


def test_year_boundaries():
    assert window("last-month", as_of=D(2026, 1, 15)) == (D(2025, 12, 1), D(2025, 12, 31))
    assert window("last-quarter", as_of=D(2026, 2, 10)) == (D(2025, 10, 1), D(2025, 12, 31))
    # 2026-01-02 is a Friday in the week Mon 2025-12-29 .. Sun 2026-01-04
    assert window("last-week", as_of=D(2026, 1, 2)) == (D(2025, 12, 22), D(2025, 12, 28))
    assert window("this-week", as_of=D(2026, 1, 2)) == (D(2025, 12, 29), D(2026, 1, 2))
    assert window("last-7-days", as_of=D(2026, 1, 3)) == (D(2025, 12, 27), D(2026, 1, 2))


def test_week_start_sunday():
    assert window("this-week", SUN) == (D(2026, 11, 22), D(2026, 11, 27))
    assert window("last-week", SUN) == (D(2026, 11, 15), D(2026, 11, 21))
    assert window("last-2-weeks", SUN) == (D(2026, 11, 8), D(2026, 11, 21))
    # on a Sunday the Sunday-week has just begun
    assert window("this-week", SUN, D(2026, 11, 29)) == (D(2026, 11, 29), D(2026, 11, 29))


# ------------------------------------------------------------------ fiscal


def test_fiscal_named_by_end():
    assert window("fy2027", FEB_END) == (D(2026, 2, 1), D(2027, 1, 31))
    assert window("fy27", FEB_END) == (D(2026, 2, 1), D(2027, 1, 31))
    assert window("fy2027-q1", FEB_END) == (D(2026, 2, 1), D(2026, 4, 30))
    assert window("FY2027 Q4", FEB_END) == (D(2026, 11, 1), D(2027, 1, 31))
    assert window("this-fiscal-year", FEB_END) == (D(2026, 2, 1), D(2026, 11, 27))
    assert window("last-fiscal-year", FEB_END) == (D(2025, 2, 1), D(2026, 1, 31))
    assert window("this-fiscal-quarter", FEB_END) == (D(2026, 11, 1), D(2026, 11, 27))
    assert window("last-fiscal-quarter", FEB_END) == (D(2026, 8, 1), D(2026, 10, 31))
    assert window("fytd", FEB_END, D(2026, 1, 15)) == (D(2025, 2, 1), D(2026, 1, 15))
    p = resolve_period("this-fiscal-year", FEB_END, AS_OF)
    assert period_label(p, FEB_END) == "FY2027 to date"
    assert period_label(resolve_period("last-fiscal-quarter", FEB_END, AS_OF), FEB_END) == "FY2027 Q3"


def test_fiscal_named_by_start():
    assert window("fy2026", FEB_START) == (D(2026, 2, 1), D(2027, 1, 31))
    assert window("fy2026-q1", FEB_START) == (D(2026, 2, 1), D(2026, 4, 30))
    assert period_label(resolve_period("this-fiscal-year", FEB_START, AS_OF), FEB_START) == "FY2026 to date"


def test_fiscal_start_january_is_calendar():
    for named in ("end", "start"):
        cal = Calendar(fiscal_year_named_by=named)
        assert window("fy2026", cal) == (D(2026, 1, 1), D(2026, 12, 31))
        assert window("fy2026-q3", cal) == (D(2026, 7, 1), D(2026, 9, 30))


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("text, fragment", [
    ("last-fortnight", "did you mean"), ("this-mnth", "this-month"), ("blah", "try:"),
    ("2026-02-30", "2026-02-30"), ("2025-02-29", "day is out of range"), ("last-0-days", "at least 1"),
    ("q5", "Q1..Q4"), ("2026-Q5", "Q1..Q4"), ("2026-13", "01..12"), ("", "empty"),
    ("2026-09-30..2026-09-01", "starts after it ends"), ("2026-09..2026-10", "YYYY-MM-DD"),
])
def test_errors_are_one_line(text, fragment):
    with pytest.raises(QueryError) as exc:
        resolve_period(text, CAL, AS_OF)
    msg = str(exc.value)
    assert "\n" not in msg and fragment in msg
    if text == "last-fortnight":
        assert msg.startswith("unknown period 'last-fortnight' (did you mean")


def test_calendar_validation_and_forms_help():
    for bad in (dict(week_start=7), dict(fiscal_year_start_month=13), dict(timezone="Mars/Base")):
        with pytest.raises(ValueError):
            Calendar(**bad)
    assert "2026-Q3, Q3 2026, q3" in PERIOD_FORMS and all(isinstance(f, str) for f in PERIOD_FORMS)


# ------------------------------------------------------------------ previous / year ago


def prev(text, cal=CAL, as_of=AS_OF):
    p = previous_period(resolve_period(text, cal, as_of), cal)
    return p.start, p.end, p.kind, p.text


def test_previous_period():
    assert prev("2026-Q3") == (D(2026, 4, 1), D(2026, 6, 30), "quarter", "2026-Q2")
    assert prev("2026-01") == (D(2025, 12, 1), D(2025, 12, 31), "month", "2025-12")
    assert prev("last-week") == (D(2026, 11, 9), D(2026, 11, 15), "week", "2026-11-09..2026-11-15")
    assert prev("2026-09-15")[:2] == (D(2026, 9, 14), D(2026, 9, 14))
    assert prev("this-month") == (D(2026, 10, 1), D(2026, 10, 27), "month", "2026-10-01..2026-10-27")
    assert prev("this-month", as_of=D(2026, 3, 31))[:2] == (D(2026, 2, 1), D(2026, 2, 28))
    assert prev("this-month", as_of=D(2026, 11, 30))[:2] == (D(2026, 10, 1), D(2026, 10, 31))
    assert prev("this-quarter")[:2] == (D(2026, 7, 1), D(2026, 8, 27))
    assert prev("ytd")[:2] == (D(2025, 1, 1), D(2025, 11, 27))
    assert prev("2026-09-01..2026-09-30") == (D(2026, 8, 2), D(2026, 8, 31), "range", "2026-08-02..2026-08-31")
    assert prev("last-7-days")[:3] == (D(2026, 11, 13), D(2026, 11, 19), "days")
    assert prev("last-6-months")[:3] == (D(2025, 11, 1), D(2026, 4, 30), "months")
    assert prev("fy2027-q1", FEB_END) == (D(2025, 11, 1), D(2026, 1, 31), "fiscal_quarter", "fy2026-q4")
    assert previous_period(resolve_period("this-month", CAL, AS_OF), CAL).to_date


def ago(text, cal=CAL, as_of=AS_OF):
    p = year_ago(resolve_period(text, cal, as_of), cal)
    return p.start, p.end, p.kind


def test_year_ago():
    assert ago("2024-02-29") == (D(2023, 2, 28), D(2023, 2, 28), "day")
    assert ago("2024-02") == (D(2023, 2, 1), D(2023, 2, 28), "month")
    assert ago("2026-Q3") == (D(2025, 7, 1), D(2025, 9, 30), "quarter")
    assert ago("last-week") == (D(2025, 11, 17), D(2025, 11, 23), "week")  # Mon..Sun, 52 weeks back
    assert ago("ytd") == (D(2025, 1, 1), D(2025, 11, 27), "year")
    assert ago("fy2027-q1", FEB_END) == (D(2025, 2, 1), D(2025, 4, 30), "fiscal_quarter")
    assert year_ago(resolve_period("fy2027-q1", FEB_END, AS_OF), FEB_END).text == "fy2026-q1"
    assert ago("last-7-days", as_of=D(2024, 3, 2)) == (D(2023, 2, 23), D(2023, 3, 1), "days")


# ------------------------------------------------------------------ buckets / trailing / utc


def test_buckets():
    p = resolve_period("2026-09-01..2026-09-30", CAL, AS_OF)  # Sep 1 2026 is a Tuesday
    weeks = buckets(p, Grain.WEEK, CAL)
    assert [(b.start, b.end) for b in weeks] == [
        (D(2026, 9, 1), D(2026, 9, 6)), (D(2026, 9, 7), D(2026, 9, 13)), (D(2026, 9, 14), D(2026, 9, 20)),
        (D(2026, 9, 21), D(2026, 9, 27)), (D(2026, 9, 28), D(2026, 9, 30))]
    q = buckets(resolve_period("ytd", CAL, AS_OF), "quarter", CAL)
    assert [b.text for b in q] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-10-01..2026-11-27"]
    assert q[-1].to_date and not q[0].to_date
    with pytest.raises(QueryError, match="did you mean"):
        buckets(p, "mnth", CAL)


def test_trailing():
    t = trailing(Grain.MONTH, 3, CAL, AS_OF)
    assert [(b.start, b.end) for b in t] == [
        (D(2026, 9, 1), D(2026, 9, 30)), (D(2026, 10, 1), D(2026, 10, 31)), (D(2026, 11, 1), D(2026, 11, 27))]
    assert t[-1].to_date and [b.text for b in t[:2]] == ["2026-09", "2026-10"]
    t = trailing("month", 3, CAL, AS_OF, include_current=False)
    assert [b.text for b in t] == ["2026-08", "2026-09", "2026-10"]
    assert [b.start for b in trailing("week", 2, SUN, AS_OF)] == [D(2026, 11, 15), D(2026, 11, 22)]
    with pytest.raises(QueryError):
        trailing("day", 0, CAL, AS_OF)


def test_utc_bounds_dst():
    day = lambda d: resolve_period(d, NY, AS_OF)  # noqa: E731
    assert utc_bounds(day("2026-03-08"), NY) == (datetime(2026, 3, 8, 5), datetime(2026, 3, 9, 4))
    assert utc_bounds(day("2026-11-01"), NY) == (datetime(2026, 11, 1, 4), datetime(2026, 11, 2, 5))
    assert utc_bounds(day("2026-07-04"), CAL) == (datetime(2026, 7, 4), datetime(2026, 7, 5))


# ------------------------------------------------------------------ labels / json


def label(text, cal=CAL, locale="en_US"):
    return period_label(resolve_period(text, cal, AS_OF), cal, locale)


def test_labels():
    assert label("2026-Q3") == "Q3 2026"
    assert label("2026-09") == "Sep 2026"
    assert label("2026") == "2026"
    assert label("fy2027", FEB_END) == "FY2027"
    assert label("fy2027-q1", FEB_END) == "FY2027 Q1"
    assert label("this-week") == "Week of Nov 23, 2026 to date"
    assert label("last-week") == "Week of Nov 16, 2026"
    assert label("today") == "Nov 27, 2026"
    assert label("mtd") == "Nov 2026 to date"
    assert label("2026-09", locale="pl_PL") == "wrz 2026"
    assert label("2026-Q3", locale="pl_PL") == "III kw. 2026"
    assert label("2026-07-01..2026-09-30") == "Jul 1\u2009–\u2009Sep 30, 2026"
    q3 = resolve_period("2026-Q3", CAL, AS_OF)
    assert window_label(q3) == "Jul 1\u2009–\u2009Sep 30, 2026"
    assert window_label(q3, "pl_PL") == "1 lip–30 wrz 2026"
    assert window_label(resolve_period("2025-12-01..2026-01-30", CAL, AS_OF)) == "Dec 1, 2025\u2009–\u2009Jan 30, 2026"
    assert window_label(resolve_period("2026-07-01", CAL, AS_OF)) == "Jul 1, 2026"


def test_to_json_and_target_kind():
    p = resolve_period("last-fiscal-quarter", FEB_END, AS_OF)
    assert p.to_json() == {"text": "last-fiscal-quarter", "kind": "fiscal_quarter", "start": "2026-08-01",
                           "end": "2026-10-31", "label": "FY2027 Q3", "to_date": False}
    assert resolve_period("qtd", CAL, AS_OF).to_json()["label"] == "Q4 2026 to date"
    assert target_kind(p) == "fiscal_quarter"
    assert target_kind(resolve_period("mtd", CAL, AS_OF)) == "month"
    assert target_kind(resolve_period("last-7-days", CAL, AS_OF)) is None
    assert target_kind(resolve_period("2026-09-01..2026-09-30", CAL, AS_OF)) is None
    assert isinstance(today(NY), date)
    with pytest.raises(ValueError):
        Period("x", "range", D(2026, 2, 1), D(2026, 1, 1))


# ------------------------------------------------------------------ properties

calendars = st.builds(Calendar, week_start=st.integers(0, 6), fiscal_year_start_month=st.integers(1, 12),
                      fiscal_year_named_by=st.sampled_from(["end", "start"]))
as_ofs = st.dates(D(1990, 1, 1), D(2090, 12, 31))
FIXED = ["today", "yesterday", "this-week", "this-month", "this-quarter", "this-year", "last-week",
         "last-month", "last-quarter", "last-year", "this-fiscal-year", "this-fiscal-quarter",
         "last-fiscal-year", "last-fiscal-quarter", "q1", "q2", "q3", "q4", "fy2030", "fy2030-q3", "2026-02"]
forms = st.one_of(
    st.sampled_from(FIXED),
    st.builds("last-{}-{}".format, st.integers(1, 40), st.sampled_from(["days", "weeks", "months", "quarters", "years"])),
)
MONTHS = {"months": 1, "quarters": 3, "years": 12, "month": 1, "quarter": 3, "year": 12,
          "fiscal_quarter": 3, "fiscal_year": 12}


def month_span(p):
    return (p.end_exclusive.year - p.start.year) * 12 + p.end_exclusive.month - p.start.month


@settings(max_examples=150, deadline=None)
@given(forms, calendars, as_ofs)
def test_prop_previous_is_adjacent_and_equal(text, cal, as_of):
    p = resolve_period(text, cal, as_of)
    assert p.start <= p.end
    if text not in ("fy2030", "fy2030-q3", "2026-02"):  # relative forms never reach past as_of
        assert (p.start <= as_of) and (p.end <= as_of or text in ("q1", "q2", "q3", "q4"))
    q = previous_period(p, cal)
    assert q.kind == p.kind and q.start <= q.end
    if p.to_date:
        assert q.end < p.start and q.days <= p.days
        return
    assert q.end + timedelta(days=1) == p.start
    if p.kind in MONTHS:
        assert q.start.day == 1 and month_span(q) == month_span(p) == MONTHS[p.kind] * p.n
    else:
        assert q.days == p.days  # day, week, days, weeks


@settings(max_examples=100, deadline=None)
@given(forms, calendars, as_ofs, st.sampled_from(list(Grain)))
def test_prop_buckets_cover_exactly(text, cal, as_of, grain):
    p = resolve_period(text, cal, as_of)
    try:
        bs = buckets(p, grain, cal)
    except QueryError:  # more than MAX_BUCKETS: only possible for a window longer than that many days
        assert p.days > MAX_BUCKETS
        return
    assert len(bs) <= MAX_BUCKETS
    assert bs[0].start == p.start and bs[-1].end == p.end
    for a, b in zip(bs, bs[1:]):
        assert a.end + timedelta(days=1) == b.start
    assert all(b.kind == grain.value and b.start <= b.end for b in bs)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Grain)), st.integers(1, 8), calendars, as_ofs, st.booleans())
def test_prop_trailing(grain, count, cal, as_of, current):
    ts = trailing(grain, count, cal, as_of, include_current=current)
    assert len(ts) == count
    for a, b in zip(ts, ts[1:]):
        assert a.end + timedelta(days=1) == b.start and not a.to_date
    if current:
        assert ts[-1].end == as_of and ts[-1].start <= as_of
    else:
        assert ts[-1].end < as_of and ts[-1].end + timedelta(days=1) == trailing(grain, 1, cal, as_of)[0].start


SPRING = {D(2024, 3, 10), D(2025, 3, 9), D(2026, 3, 8)}
FALL = {D(2024, 11, 3), D(2025, 11, 2), D(2026, 11, 1)}


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.dates(D(2024, 1, 1), D(2026, 12, 31)), st.sampled_from(sorted(SPRING | FALL))))
def test_prop_utc_bounds_day_length_new_york(d):
    a, b = utc_bounds(Period(d.isoformat(), "day", d, d), NY)
    hours = (b - a) / timedelta(hours=1)
    assert hours == (23 if d in SPRING else 25 if d in FALL else 24)
    assert a.hour in (4, 5)
