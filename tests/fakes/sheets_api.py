"""A loopback fake of Google's token endpoint and the Sheets v4 API (http.server on 127.0.0.1, port 0).

The real gspread and google-auth talk to it over HTTP exactly as they would to Google:

    fake = FakeSheets().start()
    info = fake.service_account()              # a fresh RSA key; token_uri -> this server
    fake.create_spreadsheet("sheet-1", shared_with=[info["client_email"]])
    os.environ["GOOGLE_SHEETS_API_URL"] = fake.url
    ...
    fake.values("sheet-1", "KPIs")             # effective values, row by row
    fake.stop()                                # raises if anything unknown was requested

It serves ``POST /token`` (checks the signed JWT grant against the key's public half, its ``aud``,
``iss`` and scope), ``GET /v4/spreadsheets/{id}`` (honouring the ``fields`` mask) and ``POST
/v4/spreadsheets/{id}:batchUpdate``, applied atomically to an in-memory spreadsheet. Unknown
paths, request kinds, fields, value kinds or out-of-grid ranges are answered 400/404 in Google's
error envelope AND recorded in ``fake.failures``; ``stop()`` turns those into a test failure.
``fake.fail("batchUpdate", 429, times=2, retry_after="0")`` injects errors; ``fake.expire_tokens()``
makes every issued token answer 401, as an expired one does.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

TOKEN_AUD = "https://oauth2.googleapis.com/token"
SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_VALUE_KINDS = {"stringValue", "numberValue", "boolValue", "formulaValue"}
_FORMAT_KEYS = {"numberFormat", "textFormat", "horizontalAlignment", "backgroundColor", "wrapStrategy"}
_CELL_FIELDS = {"userEnteredValue", "userEnteredFormat", "note"}
_SHEET_FIELDS = {"title", "index", "gridProperties.rowCount", "gridProperties.columnCount",
                 "gridProperties.frozenRowCount", "gridProperties.frozenColumnCount"}


class ApiFault(Exception):
    def __init__(self, status: int, message: str, loud: bool = True):
        super().__init__(message)
        self.status, self.message, self.loud = status, message, loud


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    widths: dict[int, int] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)

    def properties(self) -> dict[str, Any]:
        grid = {"rowCount": self.rows, "columnCount": self.cols}
        grid |= {k: v for k, v in (("frozenRowCount", self.frozen_rows), ("frozenColumnCount", self.frozen_cols)) if v}
        return {"sheetId": self.sheet_id, "title": self.title, "index": self.index, "sheetType": "GRID",
                "gridProperties": grid}


@dataclass
class Spreadsheet:
    id: str
    title: str
    sheets: list[Sheet]
    shared_with: set[str]
    next_metadata_id: int = 1000

    def sheet(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiFault(400, f"No grid with id: {sheet_id}", loud=False)

    def to_api(self) -> dict[str, Any]:
        return {"spreadsheetId": self.id, "properties": {"title": self.title, "timeZone": "Etc/GMT"},
                "sheets": [{"properties": s.properties(), "developerMetadata": copy.deepcopy(s.metadata)}
                           for s in sorted(self.sheets, key=lambda s: s.index)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.id}/edit"}


@dataclass
class Call:
    method: str
    path: str
    kind: str  # token | get | batchUpdate | unknown
    status: int
    body: Any = None
    size: int = 0
    query: dict[str, list[str]] = field(default_factory=dict)


class FakeSheets:
    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # kid -> (public pem, email)
        self.tokens: dict[str, str] = {}  # token -> email
        self.calls: list[Call] = []
        self.failures: list[str] = []
        self._faults: list[list[Any]] = []  # [kind, status, times_left (None = forever), retry_after]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FakeSheets":
        fake = self

        class Handler(_Handler):
            owner = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        if self.failures:
            raise AssertionError("fake Sheets API got requests it does not know:\n" + "\n".join(self.failures))

    # --- setup ---------------------------------------------------------------------------
    def service_account(self, email: str = "kpi-sync@kpi-test.iam.gserviceaccount.com") -> dict[str, Any]:
        """A service-account key dict, as Google's JSON key file, whose token_uri is this server."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        kid = f"kid{next(self._ids)}"
        private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.keys[kid] = (public, email)
        return {"type": "service_account", "project_id": "kpi-test", "private_key_id": kid,
                "private_key": private, "client_email": email, "client_id": "1",
                "token_uri": f"{self.url}/token"}

    def create_spreadsheet(self, sid: str, *, shared_with: list[str], title: str = "Sales KPIs") -> Spreadsheet:
        sheet = Sheet(0, "Sheet1", 0)
        self.spreadsheets[sid] = Spreadsheet(sid, title, [sheet], set(shared_with))
        return self.spreadsheets[sid]

    def fail(self, kind: str, status: int, times: int | None = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests of ``kind`` (token | get | batchUpdate | any) with ``status``."""
        self._faults.append([kind, status, times, retry_after])

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # --- inspection ------------------------------------------------------------------------
    def sheet(self, sid: str, title: str) -> Sheet:
        for s in self.spreadsheets[sid].sheets:
            if s.title == title:
                return s
        raise KeyError(f"no tab {title!r} in {[s.title for s in self.spreadsheets[sid].sheets]}")

    def cell(self, sid: str, title: str, a1: str) -> dict[str, Any]:
        return self.sheet(sid, title).cells.get(_a1(a1), {})

    def value(self, sid: str, title: str, a1: str) -> Any:
        return _effective(self.cell(sid, title, a1))

    def values(self, sid: str, title: str) -> list[list[Any]]:
        sh = self.sheet(sid, title)
        if not sh.cells:
            return []
        nr = max(r for r, _ in sh.cells) + 1
        nc = max(c for _, c in sh.cells) + 1
        grid = [[_effective(sh.cells.get((r, c), {})) for c in range(nc)] for r in range(nr)]
        while grid and all(v is None for v in grid[-1]):
            grid.pop()
        return grid

    def set_value(self, sid: str, title: str, a1: str, value: Any) -> None:
        """A hand edit, as a user typing in the browser."""
        kind = "numberValue" if isinstance(value, (int, float)) else "stringValue"
        self.sheet(sid, title).cells[_a1(a1)] = {"userEnteredValue": {kind: value}}

    def sheets_calls(self) -> list[Call]:
        return [c for c in self.calls if c.kind != "token"]

    # --- request handling --------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "POST" and path == "/token":
            fault = self._fault("token")  # an outage of the token endpoint (fail("token", 503))
            return fault if fault else (200, self._token(body), {})
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(:batchUpdate)?", path)
        kind = ("batchUpdate" if m.group(2) else "get") if m else "unknown"
        if kind == "unknown" or (kind == "get") != (method == "GET") or (kind == "batchUpdate") != (method == "POST"):
            raise ApiFault(404, f"unknown request {method} {path}")
        email = self._caller(headers)
        fault = self._fault(kind)
        if fault:
            return fault
        sheet = self.spreadsheets.get(m.group(1))
        if sheet is None:
            raise ApiFault(404, "Requested entity was not found.", loud=False)
        if email not in sheet.shared_with:
            raise ApiFault(403, "The caller does not have permission", loud=False)
        if kind == "get":
            return 200, self._get(sheet, query), {}
        if query:
            raise ApiFault(400, f"fake does not know batchUpdate query parameters {sorted(query)}")
        return 200, self._batch_update(sheet, json.loads(body or b"{}")), {}

    def _token(self, body: bytes) -> dict[str, Any]:
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            raise ApiFault(400, f"unsupported grant {form.get('grant_type')}")
        assertion = form["assertion"][0]
        kid = jwt.decode_header(assertion).get("kid")
        if kid not in self.keys:
            raise ApiFault(400, "invalid_grant: unknown key id", loud=False)
        public, email = self.keys[kid]
        claims = jwt.decode(assertion, certs={kid: public}, audience=TOKEN_AUD)
        if claims.get("iss") != email or SHEETS_SCOPE not in claims.get("scope", "").split():
            raise ApiFault(400, f"invalid_grant: iss {claims.get('iss')} scope {claims.get('scope')}")
        token = f"ya29.fake-{next(self._ids)}"
        self.tokens[token] = email
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _caller(self, headers: Any) -> str:
        auth = headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if token not in self.tokens:
            raise ApiFault(401, "Request had invalid authentication credentials.", loud=False)
        return self.tokens[token]

    def _fault(self, kind: str) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        for f in self._faults:
            if f[0] in (kind, "any") and (f[2] is None or f[2] > 0):
                if f[2] is not None:
                    f[2] -= 1
                headers = {"Retry-After": f[3]} if f[3] is not None else {}
                return f[1], _envelope(f[1], "injected failure"), headers
        return None

    def _get(self, sheet: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        if set(query) - {"fields", "includeGridData"}:
            raise ApiFault(400, f"fake does not know query parameters {sorted(set(query) - {'fields', 'includeGridData'})}")
        if query.get("includeGridData", ["false"]) != ["false"]:
            raise ApiFault(400, "the fake serves no grid data")
        body = sheet.to_api()
        if "fields" in query:
            body = apply_mask(body, parse_mask(query["fields"][0]))
        return body

    def _batch_update(self, sheet: Spreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - {"requests", "includeSpreadsheetInResponse", "responseRanges",
                               "responseIncludeGridData"}
        if unknown:
            raise ApiFault(400, f"unknown batchUpdate keys {sorted(unknown)}")
        work = copy.deepcopy(sheet)  # atomic: all requests apply, or none
        replies = [_apply(work, r) for r in body.get("requests", [])]
        self.spreadsheets[sheet.id] = work
        return {"spreadsheetId": sheet.id, "replies": replies}


# --- batchUpdate requests ------------------------------------------------------------------------
def _apply(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    if len(request) != 1:
        raise ApiFault(400, f"a request must have exactly one kind: {sorted(request)}")
    (kind, args), = request.items()
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise ApiFault(400, f"unknown batchUpdate request {kind!r}")
    return handler(book, args)


def _add_sheet(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    p = args["properties"]
    sid = p.get("sheetId", max(s.sheet_id for s in book.sheets) + 1 if book.sheets else 0)
    if any(s.sheet_id == sid for s in book.sheets):
        raise ApiFault(400, f"A sheet with the id {sid} already exists", loud=False)
    if any(s.title.lower() == p["title"].lower() for s in book.sheets):
        raise ApiFault(400, f'A sheet with the name "{p["title"]}" already exists.', loud=False)
    sheet = Sheet(sid, p["title"], p.get("index", len(book.sheets)))
    _set_grid(sheet, p.get("gridProperties", {}), set(p.get("gridProperties", {})))
    book.sheets.append(sheet)
    return {"addSheet": {"properties": sheet.properties()}}


def _set_grid(sheet: Sheet, grid: dict[str, Any], keys: set[str]) -> None:
    names = {"rowCount": "rows", "columnCount": "cols", "frozenRowCount": "frozen_rows",
             "frozenColumnCount": "frozen_cols"}
    for k in keys:
        if k not in names:
            raise ApiFault(400, f"unknown gridProperties field {k}")
        setattr(sheet, names[k], int(grid.get(k, 0)))
    if sheet.frozen_rows >= sheet.rows or sheet.frozen_cols >= sheet.cols:
        raise ApiFault(400, "You can't freeze all visible rows/columns on the sheet.", loud=False)
    if any(r >= sheet.rows or c >= sheet.cols for r, c in sheet.cells):
        sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] < sheet.rows and k[1] < sheet.cols}


def _update_sheet_properties(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    p, fields = args["properties"], set(args["fields"].split(","))
    if fields - _SHEET_FIELDS:
        raise ApiFault(400, f"fake does not know sheet property fields {sorted(fields - _SHEET_FIELDS)}")
    sheet = book.sheet(p["sheetId"])
    if "title" in fields:
        if any(s.title.lower() == p["title"].lower() and s is not sheet for s in book.sheets):
            raise ApiFault(400, f'A sheet with the name "{p["title"]}" already exists.', loud=False)
        sheet.title = p["title"]
    if "index" in fields:
        sheet.index = p["index"]
    grid_keys = {f.split(".", 1)[1] for f in fields if f.startswith("gridProperties.")}
    _set_grid(sheet, p.get("gridProperties", {}), grid_keys)
    return {}


def _update_cells(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    fields = set(args["fields"].split(","))
    if fields - _CELL_FIELDS:
        raise ApiFault(400, f"fake does not know cell fields {sorted(fields - _CELL_FIELDS)}")
    rng = args.get("range")
    if rng is None:
        raise ApiFault(400, "fake supports updateCells with a range only")
    sheet = book.sheet(rng["sheetId"])
    r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex", sheet.rows)
    c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex", sheet.cols)
    if r1 > sheet.rows or c1 > sheet.cols:
        raise ApiFault(400, f"Range ({sheet.title}!R{r0 + 1}C{c0 + 1}:R{r1}C{c1}) exceeds grid limits. "
                            f"Max rows: {sheet.rows}, max columns: {sheet.cols}", loud=False)
    rows = args.get("rows", [])
    for r in range(r0, r1):
        values = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
        for c in range(c0, c1):
            data = values[c - c0] if c - c0 < len(values) else {}
            _write_cell(sheet, (r, c), data, fields)
    return {}


def _repeat_cell(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    fields = set(args["fields"].split(","))
    if fields - _CELL_FIELDS:
        raise ApiFault(400, f"fake does not know cell fields {sorted(fields - _CELL_FIELDS)}")
    rng = args["range"]
    sheet = book.sheet(rng["sheetId"])
    r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex", sheet.rows)
    c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex", sheet.cols)
    if r1 > sheet.rows or c1 > sheet.cols:
        raise ApiFault(400, f"Range ({sheet.title}!R{r0 + 1}C{c0 + 1}:R{r1}C{c1}) exceeds grid limits.", loud=False)
    for r in range(r0, r1):
        for c in range(c0, c1):
            _write_cell(sheet, (r, c), args.get("cell", {}), fields)
    return {}


def _write_cell(sheet: Sheet, at: tuple[int, int], data: dict[str, Any], fields: set[str]) -> None:
    unknown = set(data) - _CELL_FIELDS
    value = data.get("userEnteredValue", {})
    fmt = data.get("userEnteredFormat", {})
    if unknown or set(value) - _VALUE_KINDS or len(value) > 1 or set(fmt) - _FORMAT_KEYS:
        raise ApiFault(400, f"fake does not know cell data {data}")
    cell = {k: v for k, v in sheet.cells.get(at, {}).items() if k not in fields}
    cell |= {k: copy.deepcopy(v) for k, v in data.items() if k in fields and v}
    if cell:
        sheet.cells[at] = cell
    else:
        sheet.cells.pop(at, None)


def _update_dimension_properties(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    rng = args["range"]
    if rng["dimension"] != "COLUMNS" or args["fields"] != "pixelSize":
        raise ApiFault(400, f"fake supports column pixelSize only: {args}")
    sheet = book.sheet(rng["sheetId"])
    if rng["endIndex"] > sheet.cols:
        raise ApiFault(400, "column range exceeds grid limits", loud=False)
    for i in range(rng["startIndex"], rng["endIndex"]):
        sheet.widths[i] = args["properties"]["pixelSize"]
    return {}


def _create_developer_metadata(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    md = dict(args["developerMetadata"])
    if set(md) - {"metadataKey", "metadataValue", "location", "visibility"} or "sheetId" not in md["location"]:
        raise ApiFault(400, f"fake supports sheet-level developer metadata only: {md}")
    sheet = book.sheet(md["location"]["sheetId"])
    md["metadataId"] = book.next_metadata_id
    md["location"] = {"locationType": "SHEET", "sheetId": sheet.sheet_id}
    book.next_metadata_id += 1
    sheet.metadata.append(md)
    return {"createDeveloperMetadata": {"developerMetadata": md}}


def _update_developer_metadata(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    ids = {f["developerMetadataLookup"]["metadataId"] for f in args["dataFilters"]}
    if args["fields"] != "metadataValue":
        raise ApiFault(400, f"fake updates metadataValue only: {args['fields']}")
    found = [md for s in book.sheets for md in s.metadata if md["metadataId"] in ids]
    for md in found:
        md["metadataValue"] = args["developerMetadata"]["metadataValue"]
    return {"updateDeveloperMetadata": {"developerMetadata": found}}


def _delete_sheet(book: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    book.sheets.remove(book.sheet(args["sheetId"]))
    return {}


_HANDLERS = {"addSheet": _add_sheet, "updateSheetProperties": _update_sheet_properties,
             "updateCells": _update_cells, "repeatCell": _repeat_cell, "updateDimensionProperties": _update_dimension_properties,
             "createDeveloperMetadata": _create_developer_metadata,
             "updateDeveloperMetadata": _update_developer_metadata, "deleteSheet": _delete_sheet}


# --- helpers ---------------------------------------------------------------------------------------
def parse_mask(text: str) -> dict[str, Any]:
    """``"a,b(c,d.e)"`` -> ``{"a": {}, "b": {"c": {}, "d": {"e": {}}}}`` (``{}`` means everything)."""
    tree: dict[str, Any] = {}
    stack = [tree]
    name = ""
    for ch in text + ",":
        if ch in ",()":
            node = stack[-1]
            for part in name.split(".")[:-1] if name else []:
                node = node.setdefault(part, {})
            if name:
                child = node.setdefault(name.split(".")[-1], {})
                if ch == "(":
                    stack.append(child)
            if ch == ")":
                stack.pop()
            name = ""
        else:
            name += ch.strip()
    return tree


def apply_mask(value: Any, mask: dict[str, Any]) -> Any:
    if not mask:
        return value
    if isinstance(value, list):
        return [apply_mask(v, mask) for v in value]
    if isinstance(value, dict):
        return {k: apply_mask(value[k], sub) for k, sub in mask.items() if k in value}
    return value


def _a1(a1: str) -> tuple[int, int]:
    m = re.fullmatch(r"([A-Z]+)(\d+)", a1.upper())
    assert m, a1
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _effective(cell: dict[str, Any]) -> Any:
    value = cell.get("userEnteredValue")
    if not value:
        return None
    (kind, v), = value.items()
    return {"formula": v} if kind == "formulaValue" else v


def _envelope(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeSheets

    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        fake = self.owner
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = "token" if url.path == "/token" else ("batchUpdate" if url.path.endswith(":batchUpdate") else "get")
        headers: dict[str, str] = {}
        with fake._lock:
            try:
                status, payload, headers = fake.handle(self.command, url.path, urllib.parse.parse_qs(url.query),
                                                       self.headers, body)
            except ApiFault as e:
                status, payload = e.status, _envelope(e.status, e.message)
                if e.loud:
                    fake.failures.append(f"{self.command} {self.path}: {e.message}")
            except Exception as e:  # a bug in the fake or a malformed request: loud
                status, payload = 400, _envelope(400, f"fake could not handle the request: {e!r}")
                fake.failures.append(f"{self.command} {self.path}: {e!r}")
            fake.calls.append(Call(self.command, url.path, kind, status, body, len(body),
                                   urllib.parse.parse_qs(url.query)))
        out = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(out)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve
