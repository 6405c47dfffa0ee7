"""`kpi doctor` shows what each finding does to the metrics (issue 12), numbers worked out by hand.

On the ten-deal CRM of tests/test_doctor.py, April 2026 (as of 2026-05-10), by closed_at:

    won (mapped 'won'):  D1 1000, D2 2000, D5 (no amount), D7 -400      closed: those + D6 (lost) = 5
    D9 'Clossed Won' 100 is a typo of 'closed won': today it counts as open.

* win_rate: 4 / 5 = 80.0%; with D9 mapped to won: 5 / 6 = 83.3%.
* avg_deal_size (won amounts, NULL skipped): (1000 + 2000 - 400) / 3 = $866.67; with D9: 2700 / 4 = $675;
  without the negative D7: 3000 / 2 = $1,500.
* D6 closed before it was created, but it is lost: sales_cycle_days (won only) does not move.

Every kind's shift on all three engines: tests/test_doctor.py (SHIFTS). Here, on DuckDB: the words,
the kinds that need another period (duplicates and stale data in March), a filter that never matches,
the Polish sentences, and the four places a shift is shown.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console
from test_doctor import DATA, FIXTURE

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.i18n import use_locale

AS_OF = date(2026, 5, 10)


def _kpi() -> KPI:
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    return KPI.from_text(FIXTURE.read_text(), backend=backend)


@pytest.fixture(scope="module")
def report():  # noqa: ANN201
    kpi = _kpi()
    return kpi, kpi.doctor(as_of=AS_OF)


def shifts(report, check: str, subject: str) -> dict:  # noqa: ANN001
    f = next(f for f in report[1].findings if (f.check, f.subject) == (check, subject))
    return {s.metric: s for s in f.shifts}


def test_a_typo_of_a_mapped_value_shifts_win_rate(report) -> None:  # noqa: ANN001
    got = shifts(report, "unmapped_near", "stage")
    w = got["win_rate"]
    assert (w.now, w.fixed) == (pytest.approx(4 / 5), pytest.approx(5 / 6)) and w.how == "mapped"
    assert w.change == pytest.approx(5 / 6 - 4 / 5)
    assert w.text == "win_rate Apr 2026: 80.0% → 83.3% if these values were mapped"
    a = got["avg_deal_size"]
    assert (a.now, a.fixed) == (pytest.approx(2600 / 3), pytest.approx(675.0))
    assert list(got)[:2] == ["cac", "win_rate"]  # ratios first, then by name; at most three


def test_a_negative_amount_left_out(report) -> None:  # noqa: ANN001
    a = shifts(report, "negative_value", "won_amount")["avg_deal_size"]
    assert (a.now, a.fixed, a.how) == (pytest.approx(2600 / 3), pytest.approx(1500.0), "left_out")
    assert a.text == "avg_deal_size Apr 2026: $866.67 → $1,500 without these rows"


def test_dates_out_of_order_on_a_lost_deal_move_no_won_metric(report) -> None:  # noqa: ANN001
    got = shifts(report, "date_order", "closed_at < created_at")
    assert got["sales_cycle_days"].now == got["sales_cycle_days"].fixed
    assert got["sales_cycle_days"].text.endswith(", unchanged")
    # open deals at the end of April (D4, D8, D10): rows without a close date are not "out of order"
    assert (got["open_deals"].now, got["open_deals"].fixed) == (3, 3)


def test_shares_in_words(report) -> None:  # noqa: ANN001
    """'GTXPro' (D2, won in April) finds no product: 1 of 4 won and 1 of 5 closed land in the blank row."""
    w = shifts(report, "join_unmatched", "item")["win_rate"]
    assert (w.how, w.fixed, [p.share for p in w.parts]) == ("share", None, [0.25, 0.2])
    assert w.text == "win_rate Apr 2026: 80.0%; these rows are 25.0% of won (1 of 4), 20.0% of closed (1 of 5)"
    n = shifts(report, "no_time", "won")["win_rate"]  # D4: 1 of the 7 won deals has no close date
    assert n.text == "win_rate: these rows are 14.3% of won (1 of 7), counted in no period"
    g = shifts(report, "grain_undeclared", "month")["cac"]  # April 20-26: spend 300 * 7/30 over D5, D7
    assert g.text == "cac Week of Apr 20, 2026: $0.00 → $35.00 if the month were prorated by days"


def test_every_finding_that_moves_a_metric_has_a_shift(report) -> None:  # noqa: ANN001
    quiet = [(f.check, f.table) for f in report[1].findings if f.metrics and not f.shifts]
    assert quiet == []  # grain_declared and reps' office move nothing, so they are not here either


def test_duplicates_and_stale_data_in_march() -> None:
    """March: L2 twice (03-01 and 03-02) -> new_leads 2, once each key -> 1; the newest lead, 03-02,
    covers 2 of March's 31 days."""
    rep = _kpi().doctor(as_of=AS_OF, period="2026-03")
    dup = shifts((None, rep), "duplicate_key", "lead_id")["new_leads"]
    assert (dup.how, dup.now, dup.fixed, dup.change) == ("deduplicated", 2, 1, -1)
    assert dup.text == "new_leads Mar 2026: 2 → 1 with each duplicate counted once"
    stale = shifts((None, rep), "stale", "created_at")["new_leads"]
    assert (stale.how, stale.now, [(p.rows, p.total, p.unit) for p in stale.parts]) == ("coverage", 2, [(2, 31, "days")])
    assert stale.text == "new_leads Mar 2026: 2, from data covering 2 of 31 days"
    # March by closed_at: D3 only (won, 'GTXPro'): the item join loses all of won and closed
    item = shifts((None, rep), "join_unmatched", "item")["win_rate"]
    assert [(p.measure, p.rows, p.total) for p in item.parts] == [("won", 1, 1), ("closed", 1, 1)]


def test_a_filter_that_never_matches_shifts_to_the_mapped_value() -> None:
    """won filtered on 'Won', which the mapping turns into 'won' (validation refuses this; the doctor
    still checks): April has 0 won of 5 closed -> 0.0%; comparing with 'won': 4 of 5 -> 80.0%."""
    kpi = _kpi()
    defs = kpi.definitions
    won = defs.measures["won"].model_copy(update={"filter": "stage = 'Won'"})
    broken = KPI(replace(kpi.loaded, defs=defs.model_copy(update={"measures": {**defs.measures, "won": won}})),
                 backend=kpi.backend, rollups=False)
    got = shifts((None, broken.doctor(as_of=AS_OF)), "never_matches", "stage")
    w = got["win_rate"]
    assert (w.how, w.now, w.fixed) == ("mapped", 0.0, pytest.approx(0.8))
    assert (got["cac"].now, got["cac"].fixed) == (None, 75.0)  # 300 / 0 won has no value; 300 / 4


def test_shift_sentences_in_polish() -> None:
    kpi = _kpi()
    with use_locale("pl_PL"):
        rep = kpi.doctor(as_of=AS_OF)
    w = shifts((None, rep), "unmapped_near", "stage")["win_rate"]
    assert w.text == "win_rate kwi 2026: 80,0% → 83,3% po zmapowaniu tych wartości"
    share = shifts((None, rep), "join_unmatched", "item")["win_rate"]
    assert "te wiersze to" in share.text and "25,0%" in share.text
    stage = next(f for f in rep.findings if f.check == "unmapped_near" and f.subject == "stage")
    assert stage.message.startswith("1 wiersz tabeli deals ma")


def test_shifts_in_json_cli_slack_and_the_data_quality_tab(report) -> None:  # noqa: ANN001
    from bot.doctor import doctor_reply
    from metrics_core.doctor_render import render_doctor
    from sheets.quality import layout_quality

    kpi, rep = report
    line = "win_rate Apr 2026: 80.0% → 83.3% if these values were mapped"
    as_json = json.loads(json.dumps(rep.to_json()))
    stage = next(f for f in as_json["findings"] if (f["check"], f["subject"]) == ("unmapped_near", "stage"))
    assert {"metric": "win_rate", "now": pytest.approx(0.8), "fixed": pytest.approx(5 / 6), "how": "mapped",
            "change": pytest.approx(5 / 6 - 0.8), "parts": [], "text": line}.items() <= next(
        s for s in stage["shifts"] if s["metric"] == "win_rate").items()
    item = next(f for f in as_json["findings"] if (f["check"], f["subject"]) == ("join_unmatched", "item"))
    parts = next(s for s in item["shifts"] if s["metric"] == "win_rate")["parts"]
    assert parts == [{"measure": "won", "rows": 1, "total": 4, "share": 0.25, "unit": "value"},
                     {"measure": "closed", "rows": 1, "total": 5, "share": 0.2, "unit": "value"}]
    out = io.StringIO()
    render_doctor(Console(file=out, width=400), rep, kpi.calendar)
    assert line in out.getvalue()
    assert any(line in json.dumps(b, ensure_ascii=False) for b in doctor_reply(rep).blocks)
    lay = layout_quality("quality", "Data quality", rep)
    assert lay.rows[1][-1].value == "Shift in metrics"
    cells = [row[-1].value for row in lay.rows[2:] if row and row[1].value == "unmapped_near" and row[3].value == "stage"]
    assert cells and line in cells[0].split("\n")


def _closed_in_unmapped_segments(segment: str) -> float:
    """A5's segment set to ``segment``; the closed deals in April its unmapped rows hold (D6: 1 of 5)."""
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    backend.connection.execute("UPDATE accounts SET segment = ? WHERE account_id = 'A5'", [segment])
    rep = KPI.from_text(FIXTURE.read_text(), backend=backend).doctor(as_of=AS_OF)
    assert backend.connection.execute("SELECT COUNT(*) FROM deals").fetchone() == (10,)
    return sum(p.rows for f in rep.findings if f.check.startswith("unmapped") and f.table == "accounts"
               for s in f.shifts if s.metric == "win_rate" for p in s.parts if p.measure == "closed")


def test_a_hostile_value_is_bound_not_spliced() -> None:
    assert _closed_in_unmapped_segments("Gov'); DROP TABLE deals; --") == 1


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12))
def test_any_unmapped_value_is_counted_where_it_lands(segment: str) -> None:
    assume(segment.strip() and segment.strip().lower() not in {"smb", "enterprise", "ent"})
    assert _closed_in_unmapped_segments(segment) == 1


# A conversion: of the leads created in March, the share whose deal (same lead_id) was won within 90 days.
CONVERSION = """
version: 1
connection: "duckdb:///:memory:"
calendar: {timezone: UTC, week_start: monday, fiscal_year_start_month: 1}
tables:
  leads:
    source: leads
    primary_key: lead_id
    time: created_at
    columns: {lead_id: string, created_at: date}
  deals:
    source: deals
    primary_key: deal_id
    columns: {deal_id: string, lead_id: string, closed_at: date, stage: string}
measures:
  new_leads: {table: leads, agg: count}
  won: {table: deals, agg: count, filter: "stage = 'won'", time: closed_at}
metrics:
  lead_to_win: {type: conversion, base: {measure: new_leads, entity: lead_id}, target: {measure: won, entity: lead_id}, within: 90 days, format: percent}
"""
CONVERSION_DATA = """
CREATE TABLE leads AS SELECT l AS lead_id, CAST(c AS DATE) AS created_at FROM (VALUES
  ('L1', '2026-03-02'), ('L2', '2026-03-05'), ('L2', '2026-03-06'), ('L3', '2026-03-10')) t(l, c);
CREATE TABLE deals AS SELECT d AS deal_id, l AS lead_id, CAST(c AS DATE) AS closed_at, s AS stage FROM (VALUES
  ('D1', 'L1', '2026-03-20', 'won'), ('D2', 'L2', '2026-04-01', 'won'), ('D3', 'L3', '2026-09-01', 'won')) t(d, l, c, s);
"""


def test_a_conversion_with_duplicate_leads_counted_once() -> None:
    """March's lead rows: L1, L2, L2 (a duplicate key), L3; won within 90 days: L1 (D1 03-20), L2 (D2 04-01), so
    3 of 4 rows = 75.0%; with each key once (L2's 03-05 row): 2 of 3 = 66.7%. D3 closes on 09-01, after the
    as-of day, and outside L3's window anyway: leaving it out changes nothing."""
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(CONVERSION_DATA)
    rep = KPI.from_text(CONVERSION, backend=backend).doctor(as_of=date(2026, 7, 1), period="2026-03")
    dup = shifts((None, rep), "duplicate_key", "lead_id")["lead_to_win"]
    assert (dup.how, dup.now, dup.fixed) == ("deduplicated", 0.75, pytest.approx(2 / 3))
    assert dup.text == "lead_to_win Mar 2026: 75.0% → 66.7% with each duplicate counted once"
    future = shifts((None, rep), "future_date", "closed_at")["lead_to_win"]
    assert (future.how, future.now, future.fixed) == ("left_out", 0.75, 0.75)
