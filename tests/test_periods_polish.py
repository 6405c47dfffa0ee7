"""Polish questions beside the English ones, in the same parser; every label kpi prints parses back.

The property test builds periods of every kind a question or a derived window can give, prints their
labels in en_US and pl_PL (``period_label`` and ``window_label``), and reads them back with
``resolve_period``: the same dates, both languages, whatever the calendar. A to-date name
("lis 2026 do dziś") is read on the day its window ends, the day it was asked.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_core.api import KPI
from metrics_core.errors import QueryError
from metrics_core.grammar import parse_query
from metrics_core.i18n import use_locale
from metrics_core.periods import (Calendar, buckets, period_label, previous_period, resolve_period,
                                  window_label, year_ago)

AS_OF = date(2026, 11, 27)
CAL = Calendar(timezone="Europe/Warsaw")


@pytest.mark.parametrize("text,expected", [
    ("ten tydzień", "this-week"), ("ten miesiąc", "this-month"), ("w tym kwartale", "this-quarter"),
    ("ten rok", "this-year"), ("bieżący kwartał", "this-quarter"),
    ("ostatni tydzień", "last-week"), ("zeszły miesiąc", "last-month"), ("poprzedni kwartał", "last-quarter"),
    ("w zeszłym roku", "last-year"), ("w zeszlym kwartale", "last-quarter"), ("ubiegły miesiąc", "last-month"),
    ("od początku roku", "this-year"), ("od początku miesiąca", "this-month"), ("od poczatku kwartalu", "this-quarter"),
    ("ostatnie 6 miesięcy", "last-6-months"), ("ostatnie 30 dni", "last-30-days"), ("ostatnich 2 tygodni", "last-2-weeks"),
    ("październik 2026", "2026-10"), ("października 2026", "2026-10"), ("w październiku 2026", "2026-10"),
    ("w październiku", "2026-10"), ("paź 2026", "2026-10"), ("pazdziernik 2026", "2026-10"), ("w grudniu", "2025-12"),
    ("III kw. 2026", "2026-Q3"), ("III kwartał 2026", "2026-Q3"), ("w 3 kwartale 2026", "2026-Q3"), ("Q3 2026", "2026-Q3"),
    ("rok fiskalny 2027", "fy2027"), ("RF2027", "fy2027"), ("RF2027 Q1", "fy2027-q1"), ("rf27", "fy2027"),
    ("ostatni rok fiskalny", "last-fiscal-year"),
    ("dziś", "today"), ("dzisiaj", "today"), ("wczoraj", "yesterday"), ("w 2026", "2026"),
])
def test_polish_periods(text: str, expected: str) -> None:
    got = resolve_period(text, CAL, AS_OF)
    want = resolve_period(expected, CAL, AS_OF)
    assert (got.start, got.end, got.kind, got.to_date) == (want.start, want.end, want.kind, want.to_date)


@pytest.mark.parametrize("text", ["zeszły wtorek", "kwartał", "ostatnie dni", "w październiku 20266", "XIV kw. 2026"])
def test_unknown_polish_periods_are_refused(text: str) -> None:
    with pytest.raises(QueryError, match="period"):
        resolve_period(text, CAL, AS_OF)


NAMES = {"win rate": "win_rate", "win_rate": "win_rate", "cac": "cac", "koszt pozyskania klienta": "cac"}


@pytest.mark.parametrize("text,period,by,where,compare,grain", [
    ("win rate zeszły kwartał wg region", "zeszły kwartał", ("region",), (), None, None),
    ("win rate ostatni kwartał według segment, region", "ostatni kwartał", ("segment", "region"), (), None, None),
    ("cac od początku roku gdzie segment=SMB i region=EMEA vs rok do roku", "od początku roku", (),
     (("segment", ("SMB",)), ("region", ("EMEA",))), "rok do roku", None),
    ("koszt pozyskania klienta w tym roku po miesiącach", "w tym roku", (), (), None, "month"),
    ("win rate III kw. 2026 w porównaniu z poprzedni", "III kw. 2026", (), (), "poprzedni", None),
    ("win rate ostatnie 6 miesięcy gdzie segment w (SMB, Enterprise) wg miesiąca", "ostatnie 6 miesięcy", (),
     (("segment", ("SMB", "Enterprise")),), None, "month"),
])
def test_polish_question_grammar(text, period, by, where, compare, grain) -> None:
    q = parse_query(text, NAMES)
    assert (q.period, q.by, q.where, q.compare, q.grain) == (period, by, where, compare, grain)


# ---------------------------------------------------------------- labels parse back

CALENDARS = st.builds(Calendar, timezone=st.just("Europe/Warsaw"), week_start=st.sampled_from([0, 6]),
                      fiscal_year_start_month=st.sampled_from([1, 2, 4, 7, 10]),
                      fiscal_year_named_by=st.sampled_from(["end", "start"]))
ASKED = st.sampled_from(["today", "yesterday", "this-week", "this-month", "this-quarter", "this-year",
                         "last-week", "last-month", "last-quarter", "last-year", "this-fiscal-year",
                         "this-fiscal-quarter", "last-fiscal-year", "last-fiscal-quarter", "last-7-days",
                         "last-6-months", "last-4-weeks", "2026-Q3", "2026-09", "fy2027", "fy2027-q2"])


@st.composite
def periods(draw):  # noqa: ANN201 - a hypothesis strategy
    cal = draw(CALENDARS)
    as_of = draw(st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31)))
    p = resolve_period(draw(ASKED), cal, as_of)
    how = draw(st.sampled_from(["asked", "previous", "year-ago", "bucket"]))
    if how == "previous":
        p = previous_period(p, cal)
    elif how == "year-ago":
        p = year_ago(p, cal)
    elif how == "bucket":
        grain = draw(st.sampled_from(["day", "week", "month", "quarter"]))
        if p.days <= 400:
            p = draw(st.sampled_from(buckets(p, grain, cal)))
    return cal, as_of, p


@settings(max_examples=300, deadline=None)
@given(periods(), st.sampled_from(["en_US", "pl_PL"]))
def test_every_label_parses_back_to_its_period(case, locale) -> None:
    cal, as_of, p = case
    with use_locale(locale):
        name, window = period_label(p, cal, locale), window_label(p, locale)
    # a to-date name ("Nov 2026 to date", "lis 2026 do dziś") means "up to the day it was asked":
    # read it on the day its window ends
    day = p.end if p.to_date else as_of
    for label in (name, window):
        back = resolve_period(label, cal, day)
        assert (back.start, back.end) == (p.start, p.end), (label, p)


def test_polish_mention_words_reach_the_core(tmp_path) -> None:
    """kpi.plan understands a whole Polish question (comparison words included)."""
    kpi = KPI.from_path("definitions.yaml")
    req = kpi.plan("win rate w zeszłym kwartale wg region vs rok do roku", as_of=AS_OF)
    assert req.compare_kind == "last-year" and req.query.dimensions == ("region",)
    assert req.query.slots[0].period.start == date(2026, 7, 1)
    assert kpi.plan("win rate ostatni kwartał vs poprzedni", as_of=AS_OF).compare_kind == "previous"
    assert len(kpi.plan("win rate III kw. 2026 vs brak", as_of=AS_OF).query.slots) == 1
