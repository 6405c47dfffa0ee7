"""A loopback fake of the Slack Web API for tests (http.server on 127.0.0.1, port 0).

The real slack_sdk / slack_bolt talk to it over HTTP exactly as they would to slack.com:

    fake = FakeSlack().start()
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    ...
    fake.calls_to("chat.postMessage")      # [Call(method, params, headers, body)]
    fake.stop()                            # raises if anything unknown was requested

It serves ``auth.test``, ``chat.postMessage``, ``chat.postEphemeral``, the three ``files_upload_v2``
steps (``files.getUploadURLExternal``, the upload URL, ``files.completeUploadExternal``),
``response_url`` posts (``fake.response_url()`` makes one), ``users.info`` (with ``locale`` when
``include_locale``; ``fake.user_locales``), ``views.publish`` (the App Home; ``fake.home_views``: user
id -> the last view published), ``apps.connections.open`` and a websocket endpoint for Socket Mode.
Multi-workspace installs: ``fake.oauth_app(client_id, secret)`` then ``code = fake.install_code("T0002")``
makes a code that ``oauth.v2.access`` (client credentials in HTTP Basic, as Slack takes them) exchanges
for that workspace's bot token (``fake.bot_tokens``: token -> team); ``auth.test`` answers for the
token it is called with. A Web API call without a token is answered ``not_authed``, one with a token
in ``fake.revoked`` ``token_revoked``, as Slack does. ``fake.oauth_app(..., rotating=True)`` issues
tokens that expire (``expires_in``) with a refresh token that ``oauth.v2.access``
(``grant_type=refresh_token``) exchanges for a new pair. Anything else is answered with HTTP 500 and recorded in ``fake.failures``;
``stop()`` (and the pytest fixture) turns a non-empty ``failures`` into a test failure, so a new Slack
call cannot slip through unnoticed. ``fake.rate_limit("chat.postMessage", times=1, retry_after=1)``
answers the next call(s) with 429 + ``Retry-After``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass
class Call:
    method: str  # Web API method, "upload", "response_url" or "ws"
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """Records every request; fails loudly on unknown ones. Thread-safe."""

    def __init__(self, *, team: str = "T0001", bot_user: str = "U0BOT") -> None:
        self.team, self.bot_user = team, bot_user
        self.calls: list[Call] = []
        self.failures: list[str] = []
        self.ws_received: list[dict[str, Any]] = []
        self._limits: dict[str, list[int]] = {}
        self._refusals: dict[str, str] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._ws_conns: list[socket.socket] = []
        self._server: ThreadingHTTPServer | None = None
        self.token_ok = True  # False: auth.test answers invalid_auth, as Slack does for a revoked token
        self.user_locales: dict[str, str] = {}  # user id -> Slack locale for users.info (default "pl-PL")
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> the last App Home view published
        self.bot_tokens: dict[str, str] = {}  # token -> team id (installs); other tokens are self.team's
        self._client: tuple[str, str] | None = None
        self._codes: dict[str, str] = {}  # OAuth code -> team id, each usable once
        self.revoked: set[str] = set()  # tokens Slack no longer takes (uninstalled, revoked)
        self._rotating: int | None = None  # expires_in of issued tokens (token rotation), None: no rotation
        self._refresh: dict[str, str] = {}  # refresh token -> team id, each usable once

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, port: int = 0) -> "FakeSlack":
        """Serve on 127.0.0.1:``port`` (0: any free port; a fixed one: Slack coming back where it was)."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self, *, check: bool = True) -> None:
        for conn in list(self._ws_conns):
            _close_quietly(conn)
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if check and self.failures:
            raise AssertionError("fake Slack got unknown requests:\n  " + "\n  ".join(self.failures))

    @property
    def base(self) -> str:
        assert self._server, "call start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self) -> str:
        return f"{self.base}/response/{next(self._ids)}"

    # -- behaviour switches ----------------------------------------------------------------------
    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        self._limits[method] = [times, retry_after]

    def refuse(self, method: str, error: str) -> None:
        """Answer every call to ``method`` with ``{"ok": false, "error": error}`` (e.g. not_in_channel)."""
        self._refusals[method] = error

    def oauth_app(self, client_id: str, client_secret: str, *, expires_in: int | None = None) -> None:
        """Accept installs of this app; ``expires_in``: issue rotating tokens that last that long."""
        self._client = (client_id, client_secret)
        self._rotating = expires_in

    def install_code(self, team: str) -> str:
        """A one-time code, as Slack appends to the redirect URL after a user approves the install."""
        code = f"code-{team}-{next(self._ids)}"
        self._codes[code] = team
        return code

    # -- inspection ------------------------------------------------------------------------------
    def record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def fail(self, message: str) -> None:
        with self._cond:
            self.failures.append(message)
            self._cond.notify_all()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until ``count`` calls to ``method`` arrived; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [c for c in self.calls if c.method == method]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"waited {timeout}s for {count} x {method}; saw {seen}; "
                                         f"failures={self.failures}")
                self._cond.wait(left)

    def take_limit(self, method: str) -> int | None:
        with self._lock:
            spec = self._limits.get(method)
            if not spec or spec[0] <= 0:
                return None
            spec[0] -= 1
            return spec[1]

    # -- socket mode -----------------------------------------------------------------------------
    def ws_send(self, envelope: dict[str, Any]) -> None:
        """Push one Socket Mode envelope to every connected client."""
        frame = _frame(json.dumps(envelope).encode(), opcode=0x1)
        for conn in list(self._ws_conns):
            conn.sendall(frame)

    def wait_ws_client(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._ws_conns:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode client connected")
            time.sleep(0.01)

    # -- Web API answers -------------------------------------------------------------------------
    def answer(self, method: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The JSON body for a known method, or None when the method is unknown."""
        n = next(self._ids)
        headers = headers or {}
        if method in self._refusals:
            return {"ok": False, "error": self._refusals[method]}
        if method not in ("oauth.v2.access", "apps.connections.open"):
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not token:
                return {"ok": False, "error": "not_authed"}
            if token in self.revoked:
                return {"ok": False, "error": "token_revoked"}
        if method == "auth.test":
            if not self.token_ok:
                return {"ok": False, "error": "invalid_auth"}
            token = headers.get("authorization", "").removeprefix("Bearer ")
            team = self.bot_tokens.get(token, self.team)
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "kpi",
                    "team_id": team, "user_id": self.bot_user, "bot_id": f"B{team}"}
        if method == "oauth.v2.access":
            return self._exchange(params, headers)
        if method in ("chat.postMessage", "chat.postEphemeral"):
            ts = f"{int(time.time())}.{n:06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message_ts": ts,
                    "message": {"text": params.get("text", ""), "ts": ts}}
        if method == "files.getUploadURLExternal":
            fid = f"F{n:06d}"
            return {"ok": True, "file_id": fid, "upload_url": f"{self.base}/upload/{fid}"}
        if method == "files.completeUploadExternal":
            files = json.loads(params.get("files") or "[]")
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        if method == "users.info":  # everyone speaks Polish here unless a test sets fake.user_locales
            user = str(params.get("user", ""))
            locale = self.user_locales.get(user, "pl-PL")
            return {"ok": True, "user": {"id": user, "name": user.lower(),
                                         **({"locale": locale} if params.get("include_locale") in ("true", True, "1") else {})}}
        if method == "views.publish":  # as Slack: a bot token, a user, a view of type "home"
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not params.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
                return {"ok": False, "error": "invalid_arguments"}
            if len(view.get("blocks", [])) > 100:
                return {"ok": False, "error": "invalid_blocks"}
            with self._lock:
                self.home_views[str(params["user_id"])] = view
            return {"ok": True, "view": {"id": f"V{n:06d}", "type": "home", **view}}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.base.rsplit(':', 1)[1]}/link"}
        return None


    def _exchange(self, params: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """oauth.v2.access: a code (once) and the app's credentials -> the workspace's bot token."""
        basic = headers.get("authorization", "")
        given = base64.b64decode(basic[6:]).decode() if basic.startswith("Basic ") else ""
        if self._client is None or given != ":".join(self._client):
            return {"ok": False, "error": "invalid_client_id" if self._client else "bad_client_secret"}
        with self._lock:
            if params.get("grant_type") == "refresh_token":
                team = self._refresh.pop(str(params.get("refresh_token", "")), None)
                if team is None:
                    return {"ok": False, "error": "invalid_refresh_token"}
            else:
                team = self._codes.pop(str(params.get("code", "")), None)
        if team is None:
            return {"ok": False, "error": "invalid_code"}
        token = f"xoxb-{team}-{next(self._ids)}"
        rotation = {}
        with self._lock:
            self.bot_tokens[token] = team
            if self._rotating is not None:
                refresh = f"xoxe-1-{team}-{next(self._ids)}"
                self._refresh[refresh] = team
                rotation = {"expires_in": self._rotating, "refresh_token": refresh}
        return {"ok": True, "access_token": token, "token_type": "bot", "scope": "commands,chat:write",
                "bot_user_id": f"U{team}BOT", "app_id": "A0KPI", "team": {"id": team, "name": f"Team {team}"},
                "enterprise": None, "is_enterprise_install": False, "authed_user": {"id": f"U{team}ADMIN"},
                **rotation}


def _close_quietly(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes, ctype: str = "application/json",
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if urlparse(self.path).path == "/link" and self.headers.get("Upgrade", "").lower() == "websocket":
            return self._websocket()
        self.fake.fail(f"GET {self.path}")
        self._send(500, b'{"ok": false, "error": "unknown_request"}')

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        body = self._body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        if path.startswith("/api/"):
            return self._api(path[5:], body, headers)
        if path.startswith("/upload/"):
            self.fake.record(Call("upload", {"file_id": path.rsplit("/", 1)[1]}, headers, body))
            return self._send(200, f"OK - {len(body)}".encode(), "text/plain")
        if path.startswith("/response/"):
            self.fake.record(Call("response_url", {**json.loads(body or b"{}"), "_url": path}, headers, body))
            return self._send(200, b"ok", "text/plain")
        self.fake.fail(f"POST {path}")
        self._send(500, b'{"ok": false, "error": "unknown_request"}')

    def _api(self, method: str, body: bytes, headers: dict[str, str]) -> None:
        params = _params(body, headers.get("content-type", ""))
        self.fake.record(Call(method, params, headers, body))
        retry_after = self.fake.take_limit(method)
        if retry_after is not None:
            return self._send(429, b'{"ok": false, "error": "ratelimited"}',
                              extra={"Retry-After": str(retry_after)})
        answer = self.fake.answer(method, params, headers)
        if answer is None:
            self.fake.fail(f"unknown Web API method {method} {params}")
            return self._send(500, b'{"ok": false, "error": "unknown_method"}')
        self._send(200, json.dumps(answer).encode())

    # -- a minimal RFC 6455 server: enough for slack_sdk's built-in Socket Mode client -----------
    def _websocket(self) -> None:
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        conn = self.connection
        self.fake._ws_conns.append(conn)
        self.fake.record(Call("ws", {"event": "connected"}))
        self.fake.ws_send({"type": "hello", "num_connections": 1})
        try:
            _ws_loop(self.rfile, conn, self.fake)
        finally:
            if conn in self.fake._ws_conns:
                self.fake._ws_conns.remove(conn)
            self.close_connection = True


def _ws_loop(rfile: Any, conn: socket.socket, fake: FakeSlack) -> None:
    while True:
        try:
            frame = _read_frame(rfile)
        except (OSError, ValueError):
            return
        if frame is None:
            return
        opcode, payload = frame
        if opcode == 0x8:  # close
            return
        if opcode == 0x9:  # ping -> pong
            conn.sendall(_frame(payload, opcode=0xA))
        elif opcode == 0x1:
            msg = json.loads(payload)
            fake.ws_received.append(msg)
            fake.record(Call("ws", msg))


def _read_frame(rfile: Any) -> tuple[int, bytes] | None:
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    masked = head[1] & 0x80
    if length == 126:
        (length,) = struct.unpack("!H", rfile.read(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", rfile.read(8))
    mask = rfile.read(4) if masked else b""
    data = rfile.read(length)
    if masked:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


def _frame(payload: bytes, *, opcode: int) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _params(body: bytes, ctype: str) -> dict[str, Any]:
    if not body:
        return {}
    if "json" in ctype:
        return json.loads(body)
    if "multipart" in ctype:
        return {"_multipart": True}
    return dict(parse_qsl(body.decode(), keep_blank_values=True))

