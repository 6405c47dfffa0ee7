"""`kpi doctor` shows what a finding does to the metrics: the value now and once the rows are fixed (issue 12).

On the ten-deal CRM of tests/test_doctor.py, April 2026 (as of 2026-05-10), by closed_at:

    won (mapped 'won'):  D1 1000, D2 2000, D5 (no amount), D7 -400      closed: those + D6 (lost) = 5
    D9 'Clossed Won' 100 is a typo of 'closed won': today it counts as open.

* win_rate: 4 / 5 = 80.0%; with D9 mapped to won: 5 / 6 = 83.3%.
* avg_deal_size (won amounts, NULL skipped): (1000 + 2000 - 400) / 3 = $866.67; with D9: 2700 / 4 = $675;
  without the negative D7: 3000 / 2 = $1,500.
* D6 closed before it was created, but it is lost: sales_cycle_days (won only) does not move.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from rich.console import Console
from test_doctor import DATA, FIXTURE

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend

AS_OF = date(2026, 5, 10)


@pytest.fixture(scope="module")
def report():  # noqa: ANN201
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    kpi = KPI.from_text(FIXTURE.read_text(), backend=backend)
    return kpi, kpi.doctor(as_of=AS_OF)


def shifts(report, check: str, subject: str) -> dict:  # noqa: ANN001
    f = next(f for f in report[1].findings if (f.check, f.subject) == (check, subject))
    return {s.metric: s for s in f.shifts}


def test_a_typo_of_a_mapped_value_shifts_win_rate(report) -> None:  # noqa: ANN001
    got = shifts(report, "unmapped_near", "stage")
    w = got["win_rate"]
    assert (w.now, w.fixed) == (pytest.approx(4 / 5), pytest.approx(5 / 6)) and w.how == "mapped"
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


def test_findings_without_a_known_fix_have_no_shift(report) -> None:  # noqa: ANN001
    for check in ("no_value", "no_time", "join_unmatched", "duplicate_key", "stale"):
        assert all(not f.shifts for f in report[1].findings if f.check == check), check


def test_shifts_in_json_cli_slack_and_the_data_quality_tab(report) -> None:  # noqa: ANN001
    from bot.doctor import doctor_reply
    from metrics_core.doctor_render import render_doctor
    from sheets.quality import layout_quality

    kpi, rep = report
    line = "win_rate Apr 2026: 80.0% → 83.3% if these values were mapped"
    as_json = json.loads(json.dumps(rep.to_json()))
    stage = next(f for f in as_json["findings"] if (f["check"], f["subject"]) == ("unmapped_near", "stage"))
    assert {"metric": "win_rate", "now": pytest.approx(0.8), "fixed": pytest.approx(5 / 6), "how": "mapped",
            "text": line}.items() <= next(s for s in stage["shifts"] if s["metric"] == "win_rate").items()
    out = io.StringIO()
    render_doctor(Console(file=out, width=400), rep, kpi.calendar)
    assert line in out.getvalue()
    assert any(line in json.dumps(b, ensure_ascii=False) for b in doctor_reply(rep).blocks)
    lay = layout_quality("quality", "Data quality", rep)
    assert lay.rows[1][-1].value == "Shift in metrics"
    cells = [row[-1].value for row in lay.rows[2:] if row and row[1].value == "unmapped_near" and row[3].value == "stage"]
    assert cells and line in cells[0].split("\n")
