"""Fixtures for the Sheets sync: a loopback Google (token endpoint + Sheets v4), a fresh
service-account key, a gspread client pointed at the fake, and hand-built report data."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterator

import pytest

from fakes.sheets_api import FakeSheets
from sheets.auth import open_client
from sheets.http import RetryPolicy
from sheets.report import MetricRow, PeriodColumn, TabData

SHEET_ID = "1kpiTestSheet"


@pytest.fixture
def fake() -> Iterator[FakeSheets]:
    server = FakeSheets().start()
    yield server
    server.stop()  # fails the test if the sync sent anything the fake does not know


@pytest.fixture
def account(fake: FakeSheets) -> dict:
    info = fake.service_account()
    fake.create_spreadsheet(SHEET_ID, shared_with=[info["client_email"]])
    return info


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakeSheets, account: dict, sleeps: list[float]):
    policy = RetryPolicy(attempts=4, initial=0.5, maximum=8, jitter=0.1, sleep=sleeps.append)
    return open_client(account, api_url=fake.url, policy=policy)


def monthly_tab(values: dict[str, list[float | None]] | None = None, key: str = "monthly",
                title: str = "KPIs by month") -> TabData:
    """Two metrics x three months, the last to date."""
    values = values or {"win_rate": [0.25, 0.3, 0.284], "avg_deal_size": [12000.0, 15230.4, None]}
    periods = (PeriodColumn("Sep 2026", date(2026, 9, 1), date(2026, 9, 30)),
               PeriodColumn("Oct 2026", date(2026, 10, 1), date(2026, 10, 31)),
               PeriodColumn("Nov 2026 to date", date(2026, 11, 1), date(2026, 11, 27)))
    meta = {"win_rate": ("Win rate", "percent", None), "avg_deal_size": ("Average deal size", "currency", "USD"),
            "sales_cycle_days": ("Sales cycle", "days", None)}
    rows = tuple(MetricRow(m, meta[m][0], meta[m][1], meta[m][2], tuple(v),
                           target=0.3 if m == "win_rate" else None, status="behind" if m == "win_rate" else None)
                 for m, v in values.items())
    return TabData(key, title, "month", periods, rows, datetime(2026, 11, 27, 9, 15, tzinfo=timezone.utc), "UTC")


def segment_tab(groups: tuple[str, ...] = ("Enterprise", "SMB")) -> TabData:
    base = monthly_tab()
    rows = tuple(MetricRow(r.metric, r.label, r.format, r.currency, tuple((v or 0) + i for v in r.values), group=g)
                 for i, g in enumerate(groups) for r in base.rows)
    return TabData("by-segment", "KPIs by segment", "month", base.periods, rows, base.updated, "UTC",
                   by="segment", groups=groups, targets=False)
