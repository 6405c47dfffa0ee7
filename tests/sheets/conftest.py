"""Fixtures for the Sheets sync: a loopback Google (token endpoint + Sheets v4), a fresh
service-account key, a gspread client pointed at the fake. Helpers live in sheets_support.py."""

from __future__ import annotations

from typing import Iterator

import pytest

from fakes.sheets_api import FakeSheets
from sheets.auth import open_client
from sheets.http import RetryPolicy
from sheets_support import SHEET_ID


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
