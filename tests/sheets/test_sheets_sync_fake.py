"""Real gspread + google-auth against the loopback Google (tests/fakes/sheets_api.py): the cases
of issue 4. ``StubKPI`` answers the metrics; everything from the workbook config down is real."""

from __future__ import annotations

from datetime import date

import pytest
from sheets_support import SHEET_ID, StubKPI

from metrics_core.errors import ConfigError
from sheets.errors import QuotaExhausted, SheetsError, SheetsUnavailable
from sheets.pipeline import sync
from sheets.plan import GET_FIELDS, TabConflict

SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
WORKBOOK = {"spreadsheet": SHEET_ID, "tabs": [
    {"name": "KPIs by month", "key": "monthly", "metrics": ["win_rate", "avg_deal_size", "sales_cycle_days"],
     "grain": "month", "periods": 3},
    {"name": "KPIs by segment", "metrics": ["win_rate"], "grain": "month", "periods": 3,
     "breakdown": {"by": "segment", "values": ["Enterprise", "SMB"]}},
]}


def stub(win_nov: float = 0.284, extra: dict | None = None) -> StubKPI:
    data = {"win_rate": {SEP: 0.25, OCT: 0.3, NOV: win_nov, ("SMB", NOV): 0.2, ("Enterprise", SEP): 0.4},
            "avg_deal_size": {SEP: 12000.0, OCT: 15230.4}, "sales_cycle_days": {OCT: 41.25}}
    data.update(extra or {})
    return StubKPI(data, sheets=WORKBOOK)


def test_first_sync_creates_the_tabs_with_values_and_formats(fake, client):
    report = sync(stub(), client=client)
    assert report.tabs == ("KPIs by month", "KPIs by segment", "Definitions", "Sync status")
    get, _ = fake.sheets_calls()
    assert [c.kind for c in fake.sheets_calls()] == ["get", "batchUpdate"]
    assert get.query["fields"] == [GET_FIELDS] and "includeGridData" not in get.query  # metadata only
    v = fake.values(SHEET_ID, "KPIs by month")
    assert v[1] == ["Metric", "Sep 2026", "Oct 2026", "Nov 2026 to date", "Target", "Status", "Why"]
    assert v[2] == ["Win rate", 0.25, 0.3, 0.284, 0.3, "behind pace", "closed deals 1,410 → 1,502 (−1.6 pp)"]
    assert v[3][:4] == ["Average deal size", 12000.0, 15230.4, None]
    assert fake.cell(SHEET_ID, "KPIs by month", "B3")["userEnteredFormat"]["numberFormat"] == {"type": "PERCENT", "pattern": "0.0%"}
    assert fake.cell(SHEET_ID, "KPIs by month", "C4")["userEnteredFormat"]["numberFormat"]["pattern"] == '"$"#,##0'
    assert fake.cell(SHEET_ID, "KPIs by month", "C5")["userEnteredFormat"]["numberFormat"]["pattern"] == '#,##0.0" days"'
    assert fake.cell(SHEET_ID, "KPIs by month", "B2")["userEnteredFormat"]["textFormat"] == {"bold": True}
    behind = fake.cell(SHEET_ID, "KPIs by month", "F3")["userEnteredFormat"]["textFormat"]
    assert behind["foregroundColorStyle"]["rgbColor"]["red"] == 0.8  # a missed target reads red
    tab = fake.sheet(SHEET_ID, "KPIs by month")
    assert (tab.frozen_rows, tab.frozen_cols, tab.widths[0]) == (2, 1, 220)
    seg = fake.values(SHEET_ID, "KPIs by segment")
    assert [r[0] for r in seg[2:]] == ["Segment: Enterprise", "Win rate", None, "Segment: SMB", "Win rate"]
    assert seg[3][1] == 0.4 and seg[6][3] == 0.2
    assert fake.values(SHEET_ID, "Definitions")[2][:2] == ["Win rate", "win_rate"]
    status = dict((r[0], r[1]) for r in fake.values(SHEET_ID, "Sync status")[1:])
    assert status["Result"] == "ok" and status["Data through"] == "2026-11-26"


def test_second_sync_updates_in_place_with_exactly_two_requests(fake, client):
    sync(stub(), client=client)
    ids = {s.title: s.sheet_id for s in fake.spreadsheets[SHEET_ID].sheets}
    n = len(fake.sheets_calls())
    report = sync(stub(win_nov=0.31), client=client)
    assert [c.kind for c in fake.sheets_calls()[n:]] == ["get", "batchUpdate"] and report.api_requests == 2
    assert fake.value(SHEET_ID, "KPIs by month", "D3") == 0.31
    assert {s.title: s.sheet_id for s in fake.spreadsheets[SHEET_ID].sheets} == ids


def test_users_tab_and_hand_edits_outside_the_managed_range_survive(fake, client):
    sync(stub(), client=client)
    fake.set_value(SHEET_ID, "Sheet1", "A1", "my notes")
    fake.set_value(SHEET_ID, "KPIs by month", "H3", 42)  # beside the report, in a managed tab
    fake.set_value(SHEET_ID, "KPIs by month", "A9", "=B3*2")  # below it
    sync(stub(win_nov=0.5), client=client)
    assert fake.value(SHEET_ID, "Sheet1", "A1") == "my notes"
    assert fake.value(SHEET_ID, "KPIs by month", "H3") == 42
    assert fake.value(SHEET_ID, "KPIs by month", "A9") == "=B3*2"
    assert fake.value(SHEET_ID, "KPIs by month", "D3") == 0.5


def test_429_twice_then_success_waits_as_told(fake, client, sleeps):
    fake.fail("batchUpdate", 429, times=2, retry_after="3")
    sync(stub(), client=client)
    assert [c.status for c in fake.sheets_calls()] == [200, 429, 429, 200]
    assert sleeps == [3.0, 3.0]  # Retry-After honoured
    assert fake.value(SHEET_ID, "KPIs by month", "B3") == 0.25


def test_500_forever_gives_up_after_the_cap_and_keeps_the_previous_content(fake, client, sleeps):
    sync(stub(), client=client)
    fake.fail("batchUpdate", 500, times=None)
    with pytest.raises(SheetsUnavailable, match="after 4 tries; nothing was written"):
        sync(stub(win_nov=0.9), client=client)
    assert [c.status for c in fake.sheets_calls()[2:]] == [200, 500, 500, 500, 500]
    assert len(sleeps) == 3 and all(0 < s <= 8 for s in sleeps) and sleeps[0] < sleeps[2]  # exponential
    assert fake.value(SHEET_ID, "KPIs by month", "D3") == 0.284


def test_quota_still_exhausted_after_the_cap(fake, client):
    fake.fail("get", 429, times=None, retry_after="0")
    with pytest.raises(QuotaExhausted, match="60 writes and 60 reads a minute"):
        sync(stub(), client=client)


def test_expired_token_is_refreshed_and_the_request_retried(fake, client):
    sync(stub(), client=client)
    fake.expire_tokens()
    sync(stub(win_nov=0.4), client=client)
    assert [c.kind for c in fake.calls].count("token") == 2
    assert fake.value(SHEET_ID, "KPIs by month", "D3") == 0.4


def test_permission_denied_names_the_service_account_email(fake, client, account):
    fake.spreadsheets[SHEET_ID].shared_with.clear()
    with pytest.raises(SheetsError, match=f"not shared with the service account {account['client_email']}"):
        sync(stub(), client=client)


def test_wrong_id_says_where_the_id_is(fake, client):
    with pytest.raises(SheetsError, match="no spreadsheet with id '1NoSuchSheet000'.*between /d/ and /edit"):
        sync(stub(), client=client, spreadsheet="1NoSuchSheet000")


def test_spreadsheet_url_is_accepted_for_the_id(fake, client):
    sync(stub(), client=client, spreadsheet=f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid=0")
    assert fake.value(SHEET_ID, "KPIs by month", "A3") == "Win rate"


def test_formula_like_text_from_data_stays_text(fake, client):
    kpi = StubKPI({"win_rate": {("=HYPERLINK(\"http://x\")", SEP): 0.5}},
                  sheets={"spreadsheet": SHEET_ID, "tabs": [{"name": "T", "metrics": ["win_rate"], "periods": 3,
                                                             "breakdown": {"by": "segment", "style": "rows"}}]})
    sync(kpi, client=client)
    cell = fake.cell(SHEET_ID, "T", "B3")
    assert cell["userEnteredValue"] == {"stringValue": '=HYPERLINK("http://x")'}


def test_a_renamed_managed_tab_is_found_and_renamed_back(fake, client):
    sync(stub(), client=client)
    fake.sheet(SHEET_ID, "KPIs by month").title = "old name"
    sync(stub(), client=client)
    titles = [s.title for s in fake.spreadsheets[SHEET_ID].sheets]
    assert "old name" not in titles and titles.count("KPIs by month") == 1


def test_a_deleted_managed_tab_is_recreated_with_the_same_id(fake, client):
    sync(stub(), client=client)
    book = fake.spreadsheets[SHEET_ID]
    gone = fake.sheet(SHEET_ID, "KPIs by month")
    book.sheets.remove(gone)
    sync(stub(), client=client)
    assert fake.sheet(SHEET_ID, "KPIs by month").sheet_id == gone.sheet_id


def test_a_users_tab_with_the_same_name_is_never_overwritten(fake, client):
    fake.sheet(SHEET_ID, "Sheet1").title = "Definitions"
    fake.set_value(SHEET_ID, "Definitions", "A1", "mine")
    with pytest.raises(TabConflict, match="already has a tab named 'Definitions'"):
        sync(stub(), client=client)
    assert [c.kind for c in fake.sheets_calls()] == ["get"]
    assert fake.value(SHEET_ID, "Definitions", "A1") == "mine"


def test_a_shorter_report_clears_its_old_rows_only(fake, client):
    sync(stub(), client=client)
    fake.set_value(SHEET_ID, "KPIs by month", "A8", "keep")
    shorter = dict(WORKBOOK, tabs=[dict(WORKBOOK["tabs"][0], metrics=["win_rate"])])
    sync(StubKPI(stub().data, sheets=shorter), client=client)
    v = fake.values(SHEET_ID, "KPIs by month")
    assert v[2][0] == "Win rate" and v[3] == [None] * 7 and v[4] == [None] * 7 and v[7][0] == "keep"


def test_tab_option_syncs_one_tab_and_the_status(fake, client):
    sync(stub(), client=client, tab="kpis by segment")
    assert [s.title for s in fake.spreadsheets[SHEET_ID].sheets] == ["Sheet1", "KPIs by segment", "Sync status"]


def test_a_failed_computation_is_reported_on_the_status_tab(fake, client):
    from metrics_core.errors import QueryError

    sync(stub(), client=client)

    class Broken(StubKPI):
        def trend(self, *a, **k):
            raise QueryError("unknown metric 'x'")

    with pytest.raises(QueryError):
        sync(Broken(stub().data, sheets=WORKBOOK), client=client)
    status = dict((r[0], r[1]) for r in fake.values(SHEET_ID, "Sync status")[1:])
    assert status["Result"] == "failed: unknown metric 'x'"
    assert fake.value(SHEET_ID, "KPIs by month", "B3") == 0.25


def test_rejected_key_is_a_clear_credentials_error(fake, account):
    from sheets.auth import open_client

    other = dict(account, private_key_id="not-registered")
    with pytest.raises(ConfigError, match="refused the service-account key"):
        sync(stub(), client=open_client(other, api_url=fake.url))
    fake.calls.clear()


def test_the_fake_fails_loudly_on_what_it_does_not_know(fake, client):
    """A new kind of request must not slip through: the fake answers 400 and records it."""
    from gspread.exceptions import APIError

    with pytest.raises(APIError):
        client.http_client.batch_update(SHEET_ID, {"requests": [{"mergeCells": {"range": {}}}]})
    with pytest.raises(APIError):
        client.http_client.values_get(SHEET_ID, "A1:B2")
    assert len(fake.failures) == 2 and "unknown batchUpdate request 'mergeCells'" in fake.failures[0]
    fake.failures.clear()


def test_rows_deleted_by_hand_in_a_managed_tab(fake, client):
    """Regression: the old extent was cleared even past the grid when the user had deleted rows (400)."""
    sync(stub(), client=client)  # 3 metrics: rows 1..5
    tab = fake.sheet(SHEET_ID, "KPIs by month")
    tab.rows = 4  # the user deleted every row from 5 down
    tab.cells = {k: v for k, v in tab.cells.items() if k[0] < 4}
    shorter = dict(WORKBOOK, tabs=[dict(WORKBOOK["tabs"][0], metrics=["win_rate"])])
    sync(StubKPI(stub(win_nov=0.33).data, sheets=shorter), client=client)
    assert fake.value(SHEET_ID, "KPIs by month", "D3") == 0.33 and fake.value(SHEET_ID, "KPIs by month", "A4") is None


def test_a_batch_with_one_bad_request_changes_nothing(fake, client):
    """The fake models batchUpdate's atomicity: a failing sub-request rolls back the ones before it."""
    from gspread.exceptions import APIError

    sync(stub(), client=client)
    sid = fake.sheet(SHEET_ID, "KPIs by month").sheet_id
    cell = {"updateCells": {"range": {"sheetId": sid, "startRowIndex": 2, "endRowIndex": 3, "startColumnIndex": 1,
                                      "endColumnIndex": 2},
                            "rows": [{"values": [{"userEnteredValue": {"numberValue": 9}}]}], "fields": "userEnteredValue"}}
    clash = {"addSheet": {"properties": {"title": "Definitions"}}}
    with pytest.raises(APIError, match="already exists"):
        client.http_client.batch_update(SHEET_ID, {"requests": [cell, clash]})
    assert fake.value(SHEET_ID, "KPIs by month", "B3") == 0.25
