"""The only gspread calls of a sync: one ``spreadsheets.get``, one ``spreadsheets.batchUpdate`` (I/O).

The authenticated client is passed in (see ``auth.open_client``); this module never logs in.

    state = read_state(client, sid)                       # GET  ...?fields=<GET_FIELDS>
    write(client, sid, plan_requests(layouts, state))     # POST ...:batchUpdate (atomic)
"""

from __future__ import annotations

import json
from typing import Any

import gspread
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL

from .errors import api_errors
from .plan import GET_FIELDS, SpreadsheetState


def _attempts(client: gspread.Client) -> int:
    policy = getattr(client.http_client, "policy", None)
    return getattr(policy, "attempts", 1)


def _email(client: gspread.Client) -> str:
    auth = getattr(client.http_client, "auth", None)
    return getattr(auth, "service_account_email", None) or "the service account"


def read_state(client: gspread.Client, spreadsheet_id: str) -> SpreadsheetState:
    """The tabs and kpi's markers, with a fields mask (no cell data, no formats)."""
    with api_errors(spreadsheet_id, _email(client), _attempts(client)):
        body = client.http_client.fetch_sheet_metadata(spreadsheet_id, params={"fields": GET_FIELDS})
    return SpreadsheetState.from_api(body)


def encode(requests: list[dict[str, Any]]) -> bytes:
    """The batchUpdate body as compact UTF-8 JSON (gspread's ``batch_update`` would add spaces: +8 %)."""
    body = {"requests": requests, "includeSpreadsheetInResponse": False}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def write(client: gspread.Client, spreadsheet_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    """Send every sub-request in one atomic batchUpdate: all of it applies, or none."""
    if not requests:
        return {}
    with api_errors(spreadsheet_id, _email(client), _attempts(client), getattr(client.http_client, "log", None)):
        r = client.http_client.request("post", SPREADSHEET_BATCH_UPDATE_URL % spreadsheet_id, data=encode(requests),
                                       headers={"Content-Type": "application/json; charset=utf-8"})
        return r.json()
