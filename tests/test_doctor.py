"""`kpi doctor` on a ten-deal CRM with planted data-entry problems, counts worked out by hand below;
the same expectations on DuckDB, a real PostgreSQL server and Spark in local mode.

As of 2026-05-10 the checked period is last-month = April 2026. The deals (fixtures/doctor.yaml):

    deal account owner product  created     closed      stage (raw)   amount  planted problem
    D1   A1      U1    GTX Pro  2026-03-01  2026-04-05  Won           1000
    D2   A1      U1    GTXPro   2026-03-10  2026-04-10  Closed Won    2000    product has no match
    D3   A2      U2    GTXPro   2026-02-01  2026-03-15  won           3000    product has no match
    D4   A3      U1    Basic    2026-04-01  -           Won            500    won, no close date
    D5   A4      U3    Basic    2026-04-02  2026-04-20  Won              -    won, no amount; U3's office O9 unknown
    D6   A5      U1    Basic    2026-04-15  2026-04-12  Closed Lost    700    closed before created
    D7   A1      U2    Basic    2026-04-03  2026-04-25  Won           -400    negative amount
    D8   A1      U1    Basic    2026-04-20  2026-06-01  Closed Won     900    closes in the future
    D9   A9      U1    Basic    2026-04-05  2026-04-28  Clossed Won    100    typo (counts as open); A9 unknown
    D10  A2      U1    Basic    2026-01-05  -           Prospecting     50    unmapped, default open (fine)

Accounts: A1 'SMB', A2 'Enterprise', A3 'S.M.B.' (typo of smb), A4 'Ent ', A5 'Gov' (new value).
Leads: L1 2026-02-01 web, L2 2026-03-01 blank source, L2 again 2026-03-02 web (duplicate id); newest
2026-03-02 is 69 days before the as-of day (stale). Spend: 1st of Feb, Mar, Apr (monthly, undeclared).
(A filter comparing stage with 'Won', which the mapping never produces, is refused by validation
before the doctor runs; DoctorSQL.never_matching_filters stays as a second line.)

Deals in April by closed_at: D1 D2 D5 D6 D7 D9 = 6 (every table-level count below is "of 6").
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from metrics_core.cli import app

FIXTURE = Path(__file__).parent / "fixtures" / "doctor.yaml"
AS_OF = date(2026, 5, 10)

DATA = """
CREATE TABLE offices AS SELECT * FROM (VALUES ('O1', 'Berlin'), ('O2', 'Austin')) t(office_id, name);
CREATE TABLE reps AS SELECT * FROM (VALUES ('U1', 'O1'), ('U2', 'O2'), ('U3', 'O9')) t(user_id, office_id);
CREATE TABLE products AS SELECT * FROM (VALUES ('GTX Pro', 'GTX Pro'), ('Basic', 'Basic')) t(product_id, name);
CREATE TABLE accounts AS SELECT * FROM (VALUES ('A1', 'SMB'), ('A2', 'Enterprise'), ('A3', 'S.M.B.'), ('A4', 'Ent '),
                                               ('A5', 'Gov')) t(account_id, segment);
CREATE TABLE leads AS SELECT lead_id, CAST(ts AS TIMESTAMP) AS created_at, source
FROM (VALUES ('L1', '2026-02-01 10:00:00', 'web'), ('L2', '2026-03-01 10:00:00', ''),
             ('L2', '2026-03-02 10:00:00', 'web')) t(lead_id, ts, source);
CREATE TABLE deals AS SELECT d AS deal_id, a AS account_id, o AS owner_id, p AS product, CAST(c AS DATE) AS created_at,
       CAST(cl AS DATE) AS closed_at, st AS stage, CAST(am AS DOUBLE) AS amount
FROM (VALUES
  ('D1', 'A1', 'U1', 'GTX Pro', '2026-03-01', '2026-04-05', 'Won', 1000),
  ('D2', 'A1', 'U1', 'GTXPro', '2026-03-10', '2026-04-10', 'Closed Won', 2000),
  ('D3', 'A2', 'U2', 'GTXPro', '2026-02-01', '2026-03-15', 'won', 3000),
  ('D4', 'A3', 'U1', 'Basic', '2026-04-01', NULL, 'Won', 500),
  ('D5', 'A4', 'U3', 'Basic', '2026-04-02', '2026-04-20', 'Won', NULL),
  ('D6', 'A5', 'U1', 'Basic', '2026-04-15', '2026-04-12', 'Closed Lost', 700),
  ('D7', 'A1', 'U2', 'Basic', '2026-04-03', '2026-04-25', 'Won', -400),
  ('D8', 'A1', 'U1', 'Basic', '2026-04-20', '2026-06-01', 'Closed Won', 900),
  ('D9', 'A9', 'U1', 'Basic', '2026-04-05', '2026-04-28', 'Clossed Won', 100),
  ('D10', 'A2', 'U1', 'Basic', '2026-01-05', NULL, 'Prospecting', 50)
) t(d, a, o, p, c, cl, st, am);
CREATE TABLE spend AS SELECT CAST(m AS DATE) AS month, CAST(amount AS DOUBLE) AS amount
FROM (VALUES ('2026-02-01', 100), ('2026-03-01', 200), ('2026-04-01', 300)) t(m, amount);
"""


def _duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(DATA)
    return con


def _kpi_on(engine: str, request: pytest.FixtureRequest, text: str) -> KPI:
    if engine == "duckdb":
        backend = DuckDBBackend(":memory:")
        backend.connection.execute(DATA)
        return KPI.from_text(text, backend=backend)
    from warehouse.replicate import copy_to_postgres, copy_to_spark

    if engine == "postgres":
        url = request.getfixturevalue("postgres_url")
        copy_to_postgres(_duck(), url)
        return KPI.from_text(text, connection=url)
    copy_to_spark(_duck(), request.getfixturevalue("spark_session"))
    return KPI.from_text(text, connection="spark://local[2]")


@pytest.fixture(scope="module", params=["duckdb", "postgres", "spark"])
def found(request: pytest.FixtureRequest) -> dict[tuple[str, str, str], object]:
    """(check, table, subject) -> Finding, from one doctor run per engine."""
    kpi = _kpi_on(request.param, request, FIXTURE.read_text())
    report = kpi.doctor(as_of=AS_OF)
    assert (report.period.start, report.period.end) == (date(2026, 4, 1), date(2026, 4, 30))
    out = {(f.check, f.table, f.subject): f for f in report.findings}
    assert len(out) == len(report.findings), "one finding per (check, table, subject)"
    return out


def shape(f: object) -> tuple:
    return f.severity, f.count, f.examples, f.period_rows, f.period_total  # type: ignore[attr-defined]


EXPECTED = {
    # errors
    ("duplicate_key", "leads", "lead_id"): ("error", 2, ("L2",), None, None),  # L2 twice
    # values no mapping knows: typos of mapped values warn, new values are notes
    ("unmapped_near", "accounts", "segment"): ("warning", 1, ("A3",), None, None),  # 's.m.b.'
    ("unmapped_value", "accounts", "segment"): ("info", 1, ("A5",), None, None),  # 'gov' (accounts have no time)
    ("unmapped_near", "deals", "stage"): ("warning", 1, ("D9",), 1, 6),  # 'clossed won' -> open; April
    ("unmapped_default", "deals", "stage"): ("info", 1, ("D10",), 0, 6),  # 'prospecting' -> open, not closed
    # joins with no match: D9's A9, D5's owner U3 -> office O9, D2 D3 'GTXPro'; rep U3 -> O9
    ("join_unmatched", "deals", "account"): ("warning", 1, ("D9",), 1, 6),
    ("join_unmatched", "deals", "office"): ("warning", 1, ("D5",), 1, 6),
    ("join_unmatched", "deals", "item"): ("warning", 2, ("D2", "D3"), 1, 6),  # D2 in April, D3 in March
    ("join_unmatched", "reps", "office"): ("warning", 1, ("U3",), None, None),  # reps have no dates
    # blank breakdown rows those joins make, and a blank lead source
    ("blank_dimension", "deals", "segment"): ("warning", 1, ("D9",), 1, 6),
    ("blank_dimension", "deals", "office"): ("warning", 1, ("D5",), 1, 6),
    ("blank_dimension", "deals", "product_name"): ("warning", 2, ("D2", "D3"), 1, 6),
    ("blank_dimension", "leads", "source"): ("warning", 1, ("L2",), 0, 0),  # March; no lead in April
    # rows measures drop: D4 won with no close date (won, closed, won_amount, cycle all skip it)
    ("no_time", "deals", "won"): ("warning", 1, ("D4",), None, None),
    ("no_time", "deals", "closed"): ("warning", 1, ("D4",), None, None),
    ("no_time", "deals", "won_amount"): ("warning", 1, ("D4",), None, None),
    ("no_time", "deals", "cycle"): ("warning", 1, ("D4",), None, None),
    # won with a close date: D1 D2 D3 D5 D7 D8; in April D1 D2 D5 D7 = 4
    ("no_value", "deals", "won_amount"): ("warning", 1, ("D5",), 1, 4),
    ("negative_value", "deals", "won_amount"): ("warning", 1, ("D7",), 1, 4),
    ("date_order", "deals", "closed_at < created_at"): ("warning", 1, ("D6",), 1, 6),
    ("future_date", "deals", "closed_at"): ("warning", 1, ("D8",), None, None),
    ("stale", "leads", "created_at"): ("warning", 0, (), None, None),
    ("grain_undeclared", "spend", "month"): ("warning", 3, (), None, None),
}


def test_every_planted_problem_is_found_with_hand_counted_numbers(found: dict) -> None:
    assert {k: shape(f) for k, f in found.items()} == EXPECTED


def test_metrics_each_finding_moves(found: dict) -> None:
    assert found[("no_value", "deals", "won_amount")].metrics == ("avg_deal_size", "deal_value_per_day")
    assert found[("no_time", "deals", "won")].metrics == ("cac", "win_rate")
    assert found[("grain_undeclared", "spend", "month")].metrics == ("cac",)
    assert found[("date_order", "deals", "closed_at < created_at")].metrics == (
        "deal_value_per_day", "open_deals", "sales_cycle_days")


def test_messages_name_values_and_what_happens(found: dict) -> None:
    assert found[("join_unmatched", "deals", "item")].values == (("GTXPro", 2),)
    assert "'GTXPro' ×2" in found[("join_unmatched", "deals", "item")].message
    assert "they count as 'open'" in found[("unmapped_near", "deals", "stage")].message
    assert found[("stale", "leads", "created_at")].message.startswith(
        "The newest created_at in leads is 2026-03-02, 69 days before 2026-05-10")


def test_declared_grain_is_a_note_not_a_warning() -> None:
    text = FIXTURE.read_text().replace("    time: month\n", "    time: month\n    grain: month\n    partial: prorate\n")
    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    report = KPI.from_text(text, backend=backend).doctor(as_of=AS_OF)
    checks = {(f.check, f.table): f for f in report.findings}
    assert ("grain_undeclared", "spend") not in checks
    assert checks[("grain_declared", "spend")].severity == "info"
    assert checks[("grain_declared", "spend")].message == "spend is dated by month: windows that cut a month are prorated by days."


def test_clean_data_has_no_findings() -> None:
    """The same definitions on rows without the planted problems: nothing to say (the checks are not noise)."""
    backend = DuckDBBackend(":memory:")
    con = backend.connection
    con.execute(DATA)
    con.execute("DELETE FROM deals WHERE deal_id IN ('D2', 'D3', 'D4', 'D5', 'D6', 'D7', 'D8', 'D9', 'D10')")
    con.execute("UPDATE accounts SET segment = 'SMB' WHERE account_id IN ('A3', 'A5')")
    con.execute("DELETE FROM leads WHERE source = ''")
    con.execute("INSERT INTO leads VALUES ('L3', TIMESTAMP '2026-05-09 10:00:00', 'web')")
    con.execute("DELETE FROM reps WHERE user_id = 'U3'")
    con.execute("INSERT INTO deals VALUES ('D11', 'A2', 'U2', 'Basic', DATE '2026-05-04', DATE '2026-05-08', 'won', 10)")
    text = FIXTURE.read_text().replace("    time: month\n", "    time: month\n    grain: month\n")
    report = KPI.from_text(text, backend=backend).doctor(as_of=AS_OF)
    assert [(f.check, f.table) for f in report.findings] == [("grain_declared", "spend")]
    assert not report.fails("warning") and report.fails("info")


# -- the command line ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def on_disk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("doctor")
    con = duckdb.connect(str(root / "crm.duckdb"))
    con.execute(DATA)
    con.close()
    text = FIXTURE.read_text().replace('connection: "duckdb:///:memory:"', "connection: duckdb:///crm.duckdb")
    (root / "definitions.yaml").write_text(text)
    return root / "definitions.yaml"


def test_cli_json_and_exit_code_by_severity(on_disk: Path) -> None:
    run = CliRunner().invoke(app, ["doctor", "-d", str(on_disk), "--as-of", "2026-05-10", "--json"])
    assert run.exit_code == 1, run.output  # default --fail-on error: there are errors
    data = json.loads(run.stdout)
    assert data["counts"] == {"error": 1, "warning": 20, "info": 2}
    assert data["period"]["start"] == "2026-04-01"
    item = next(f for f in data["findings"] if f["check"] == "no_value")
    assert (item["count"], item["examples"], item["period_rows"], item["period_total"], item["period_share"]) == (
        1, ["D5"], 1, 4, 0.25)
    never = CliRunner().invoke(app, ["doctor", "-d", str(on_disk), "--as-of", "2026-05-10", "--fail-on", "never"])
    assert never.exit_code == 0, never.output
    assert "GTXPro" in never.stdout and "1 errors, 20 warnings, 2 notes" in never.stdout


def test_cli_rejects_an_unknown_severity(on_disk: Path) -> None:
    run = CliRunner().invoke(app, ["doctor", "-d", str(on_disk), "--fail-on", "severe"])
    assert run.exit_code == 1
    assert "--fail-on 'severe': use error, warning, info or never" in run.output


# -- the shift each finding causes in April 2026, on every engine -----------------------------------
# In April by closed_at: won D1 1000, D2 2000, D5 (no amount), D7 -400 = 4; closed = those + D6 (lost) = 5;
# win_rate 4/5 = 80%; avg_deal_size (1000 + 2000 - 400) / 3 = 866.67 over 4 rows; cac = 300 spend / 4 won = 75;
# open at the end of April (created, not closed by then): D4, D8, D10 = 3. sales_cycle_days (35 + 31 + 18 + 22) / 4.
# Shares: (measure, the finding's rows or value, the measure's total in April).
SHIFTS = {
    # D9 'Clossed Won' mapped like 'closed won': won 5, closed 6; its 100 joins the amounts
    ("unmapped_near", "deals", "stage"): [("cac", "mapped", 75.0, 60.0, ()), ("win_rate", "mapped", 0.8, 5 / 6, ()),
                                          ("avg_deal_size", "mapped", 2600 / 3, 675.0, ())],
    # D10 'Prospecting' -> open: in no won or closed row
    ("unmapped_default", "deals", "stage"): [("cac", "share", 75.0, None, (("won", 0, 4),)),
                                             ("win_rate", "share", 0.8, None, (("won", 0, 4), ("closed", 0, 5))),
                                             ("avg_deal_size", "share", 2600 / 3, None, (("won_amount", 0, 4),))],
    # read through deals' account.segment: A5 'Gov' is D6 (lost, April); A3 'S.M.B.' is D4 (open at April's end)
    ("unmapped_value", "accounts", "segment"): [("win_rate", "share", 0.8, None, (("won", 0, 4), ("closed", 1, 5))),
                                                ("avg_deal_size", "share", 2600 / 3, None, (("won_amount", 0, 4),)),
                                                ("open_deals", "share", 3.0, None, (("open_deals", 0, 3),))],
    # (metrics a finding moves come first, then the others in rank order: ratios, conversions, simple, derived)
    ("unmapped_near", "accounts", "segment"): [("open_deals", "share", 3.0, None, (("open_deals", 1, 3),)),
                                               ("win_rate", "share", 0.8, None, (("won", 0, 4), ("closed", 0, 5))),
                                               ("avg_deal_size", "share", 2600 / 3, None, (("won_amount", 0, 4),))],
    # D2 'GTXPro' (won, April) has no product: a quarter of won, a fifth of closed in the blank row
    ("join_unmatched", "deals", "item"): [("cac", "share", 75.0, None, (("won", 1, 4),)),
                                          ("win_rate", "share", 0.8, None, (("won", 1, 4), ("closed", 1, 5))),
                                          ("avg_deal_size", "share", 2600 / 3, None, (("won_amount", 1, 4),))],
    ("blank_dimension", "deals", "office"): [("win_rate", "share", 0.8, None, (("won", 1, 4), ("closed", 1, 5))),
                                             ("avg_deal_size", "share", 2600 / 3, None, (("won_amount", 1, 4),)),
                                             ("sales_cycle_days", "share", 26.5, None, (("cycle", 1, 4),))],
    # D5: won with no amount, one of the four won rows avg_deal_size reads
    ("no_value", "deals", "won_amount"): [("avg_deal_size", "share", 2600 / 3, None, (("won_amount", 1, 4),)),
                                          ("deal_value_per_day", "share", 2600 / 3 / 26.5, None, (("won_amount", 1, 4),))],
    # D4: won, no close date: 1 of the 7 won deals, 1 of the 8 closed ones, over all time
    ("no_time", "deals", "won"): [("cac", "never", None, None, (("won", 1, 7),)),
                                  ("win_rate", "never", None, None, (("won", 1, 7),))],
    ("no_time", "deals", "closed"): [("win_rate", "never", None, None, (("closed", 1, 8),))],
    # D7 -400 left out: (1000 + 2000) / 2
    # deal_value_per_day = avg_deal_size / sales_cycle_days (a derived metric: its sub-metric's variant)
    ("negative_value", "deals", "won_amount"): [("avg_deal_size", "left_out", 2600 / 3, 1500.0, ()),
                                                ("deal_value_per_day", "left_out", 2600 / 3 / 26.5, 1500 / 26.5, ())],
    # D6 is lost and never open at April's end: April does not move. D8 closes in June: without it, open
    # at April's end are D4 and D10 only; the won metrics do not move
    ("date_order", "deals", "closed_at < created_at"): [("open_deals", "left_out", 3.0, 3.0, ()),
                                                         ("sales_cycle_days", "left_out", 26.5, 26.5, ()),
                                                         ("deal_value_per_day", "left_out", 2600 / 3 / 26.5,
                                                          2600 / 3 / 26.5, ())],
    ("future_date", "deals", "closed_at"): [("open_deals", "left_out", 3.0, 2.0, ()), ("cac", "left_out", 75.0, 75.0, ()),
                                            ("win_rate", "left_out", 0.8, 0.8, ())],
    # L2 twice, both in March: April has no lead either way
    ("duplicate_key", "leads", "lead_id"): [("new_leads", "deduplicated", 0.0, 0.0, ())],
    # the newest lead is 2026-03-02: none of April's 30 days
    ("stale", "leads", "created_at"): [("new_leads", "coverage", 0.0, None, (("created_at", 0, 30),))],
    # the last whole week of April, 20-26: spend on the 1st only -> 0; prorated 300 * 7/30 = 70; won D5, D7 = 2
    ("grain_undeclared", "spend", "month"): [("cac", "prorated", 0.0, 35.0, ())],
}


def test_every_shift_is_hand_worked(found: dict) -> None:
    def worked(s: object) -> tuple:
        parts = tuple((p.measure, p.rows, p.total) for p in s.parts)  # type: ignore[attr-defined]
        return s.metric, s.how, s.now, s.fixed, parts  # type: ignore[attr-defined]

    got = {k: [worked(s) for s in found[k].shifts] for k in SHIFTS}
    assert got == {k: [(m, how, pytest.approx(now) if now is not None else None,
                        pytest.approx(fixed) if fixed is not None else None, parts)
                       for m, how, now, fixed, parts in v] for k, v in SHIFTS.items()}
