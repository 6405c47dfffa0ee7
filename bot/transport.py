"""Slack's two transports for a Bolt app: HTTP (a WSGI app, served by waitress) and Socket Mode (layer: bot entry).

    application = wsgi_app(app)                       # any WSGI server; POST /slack/events
    server = http_server(app, host="127.0.0.1", port=0); server.run()   # waitress, arrival-stamped
    handler = socket_handler(app, "xapp-..."); handler.connect()        # Socket Mode, every envelope acked

Both stamp each request's *arrival* (``context["received_at"]``, ``time.monotonic()``) before it waits
for any thread, so the ack budget counts from when Slack's 3 s started (``budget.py``).

HTTP edges, answered before bolt sees the request and never with a traceback: bodies over ``max_body``
-> 413 without reading them (waitress refuses them while parsing, ``wsgi_app`` checks Content-Length
again for other servers); a missing or malformed ``X-Slack-Request-Timestamp`` or signature -> 401;
a signed body that is not a Slack payload (bad form, bad JSON, not an object) -> 400.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any, Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("kpi.bot")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1 << 20  # 1 MiB: Slack's largest payloads (a message's blocks in an interaction) are far below
ARRIVAL_KEY = "kpi.received_at"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def wsgi_app(app: App, *, path: str = EVENTS_PATH, max_body: int = MAX_BODY) -> Callable[..., Iterable[bytes]]:
    """The WSGI callable: bolt at ``path``, 404 elsewhere; the edges above answered first."""
    secret = getattr(app, "_signing_secret", None) or None  # create_app passes "" when none is set
    verifier = SignatureVerifier(secret) if secret else None

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        arrived = environ.get(ARRIVAL_KEY) or time.monotonic()
        if environ.get("PATH_INFO", "") != path:
            return _plain(start_response, 404, "Not Found")
        if environ.get("REQUEST_METHOD") != "POST":
            return _plain(start_response, 405, "Method Not Allowed")
        body = _read_body(environ, max_body)
        if body is None:
            return _plain(start_response, 413, f"Request body over {max_body} bytes")
        headers = _headers(environ)
        status = _check_signature(body, headers, verifier)
        if status is not None:
            return _plain(start_response, *status)
        req = _bolt_request(body, environ.get("QUERY_STRING", ""), headers, arrived)
        if req is None:
            return _plain(start_response, 400, "Not a Slack payload")
        resp = app.dispatch(req)
        out = WsgiHttpResponse(status=resp.status, headers=resp.headers, body=resp.body)
        start_response(out.status, out.get_headers())
        return out.get_body()
    return application


def _bolt_request(body: bytes, query: str, headers: dict[str, str], arrived: float) -> BoltRequest | None:
    """Bolt's own parse of the body (so both read it alike), or None when it is not a Slack payload."""
    try:
        req = BoltRequest(body=body.decode("utf-8"), query=query, headers=headers, context={"received_at": arrived})
    except Exception:  # noqa: BLE001 - bad UTF-8, bad JSON, a payload bolt cannot read: the sender's fault
        return None
    return req if shape_ok(req.body) else None


def _read_body(environ: dict[str, Any], max_body: int) -> bytes | None:
    """The body, or None when it is over ``max_body`` (not read further than that)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length > max_body:
        return None
    if length >= 0 and not environ.get("HTTP_TRANSFER_ENCODING"):
        return environ["wsgi.input"].read(length) if length else b""
    data = environ["wsgi.input"].read(max_body + 1)  # chunked: the server de-chunks; read one byte past the cap
    return None if len(data) > max_body else data


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _check_signature(body: bytes, headers: dict[str, str],
                     verifier: SignatureVerifier | None) -> tuple[int, str] | None:
    """(401, why) for a request without a valid signature, else None; checked before any parsing."""
    if verifier is None:
        return None
    ts, sig = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
    if not _TIMESTAMP.fullmatch(ts) or not sig:
        return 401, "Missing or malformed X-Slack-Request-Timestamp / X-Slack-Signature"
    try:
        valid = verifier.is_valid(body, ts, sig)
    except (ValueError, UnicodeError):
        valid = False
    return None if valid else (401, "Invalid request signature or stale timestamp")


_OBJECTS = ("event", "user", "channel", "team", "container", "view", "message", "enterprise", "state",
            "function_data", "bot_access_token", "assistant_thread")
_LISTS = ("actions", "authorizations")
_STRINGS = ("type", "command", "text", "callback_id", "action_id", "block_id", "trigger_id", "response_url",
            "token", "api_app_id", "team_id", "channel_id", "user_id", "event_id", "subtype", "bot_id", "value")


def shape_ok(payload: object) -> bool:
    """True for a JSON object whose routing fields have the types of Slack's payloads: objects, lists of
    objects, strings (bolt matches ``command``, ``action_id``, ``type``... with regexes)."""
    if not isinstance(payload, dict) or not _strings_ok(payload):
        return False
    if any(k in payload and not isinstance(payload[k], dict) for k in _OBJECTS):
        return False
    for k in _LISTS:
        if k in payload and not (isinstance(payload[k], list) and all(isinstance(x, dict) and _strings_ok(x)
                                                                      for x in payload[k])):
            return False
    if payload.get("type") == "block_actions" and not payload.get("actions"):
        return False
    return _strings_ok(payload.get("event") or {})


def _strings_ok(obj: dict[str, object]) -> bool:
    return all(obj[k] is None or isinstance(obj[k], str) for k in _STRINGS if k in obj)


def _plain(start_response: Any, status: int, text: str) -> list[bytes]:
    out = WsgiHttpResponse(status=status, headers={"content-type": ["text/plain;charset=utf-8"]}, body=text)
    start_response(out.status, out.get_headers())
    return out.get_body()


# -- waitress: stamp a request when its first bytes are read, before it waits for a thread -------------
def http_server(app: App, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 64,
                max_body: int = MAX_BODY) -> Any:
    """A waitress server (not yet running): ``server.run()`` blocks; ``server.effective_port`` is the port."""
    from waitress.server import create_server

    server = create_server(wsgi_app(app, max_body=max_body), host=host, port=port, threads=threads, ident="kpi",
                           max_request_body_size=max_body, connection_limit=1000, backlog=1024)
    server.channel_class = _stamped_channel()
    return server


def _stamped_channel() -> type:
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.task import WSGITask

    class StampedParser(HTTPRequestParser):
        def __init__(self, adj: Any) -> None:  # made when a request's first bytes arrive
            super().__init__(adj)
            self.arrived_at = time.monotonic()

    class StampedTask(WSGITask):
        def get_environment(self) -> dict[str, Any]:
            environ = super().get_environment()
            environ[ARRIVAL_KEY] = getattr(self.request, "arrived_at", None)
            return environ

    return type("StampedChannel", (HTTPChannel,), {"parser_class": StampedParser, "task_class": StampedTask})


def stop_http(server: Any) -> None:
    """Stop a running waitress server from another thread, closing it inside its own loop."""
    from waitress import wasyncore

    def close_everything() -> None:
        server.task_dispatcher.shutdown(timeout=1)
        wasyncore.close_all(server._map)  # an empty map ends server.run()

    try:
        server.trigger.pull_trigger(close_everything)
    except OSError:  # the trigger is closed: the loop has already ended (a second stop, or it stopped itself)
        return


# -- Socket Mode: stamp each envelope as it comes off the socket; always ack it -----------------------
def socket_handler(app: App, app_token: str, *, concurrency: int = 64) -> Any:
    """Socket Mode handler (``connect()`` / ``start()`` / ``close()``); ``concurrency`` envelopes at once."""
    from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
    from slack_sdk.socket_mode.builtin import SocketModeClient
    from slack_sdk.socket_mode.response import SocketModeResponse

    class StampingClient(SocketModeClient):
        arrivals: dict[str, float] = {}

        def enqueue_message(self, message: str) -> None:  # on the socket's reader thread
            found = re.search(r'"envelope_id"\s*:\s*"([^"]+)"', message[:4096])
            if found:
                if len(self.arrivals) > 10_000:  # envelopes that never reached a handler
                    self.arrivals.clear()
                self.arrivals[found.group(1)] = time.monotonic()
            super().enqueue_message(message)

    class Handler(BaseSocketModeHandler):
        def __init__(self) -> None:
            self.app = app
            self.client = StampingClient(app_token=app_token, logger=app.logger, web_client=app.client,
                                         concurrency=concurrency)
            self.client.arrivals = {}
            self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

        def handle(self, client: Any, req: Any) -> None:  # type: ignore[override]
            arrived = client.arrivals.pop(req.envelope_id, None) or time.monotonic()
            payload: Any = None
            try:
                if not shape_ok(req.payload):
                    raise ValueError(f"not a Slack payload in envelope {req.envelope_id} ({req.type})")
                resp = app.dispatch(BoltRequest(mode="socket_mode", body=req.payload,
                                                context={"received_at": arrived}))
                if resp.status == 200 and resp.body:
                    payload = json.loads(resp.body) if resp.body.lstrip().startswith("{") else {"text": resp.body}
            except Exception:  # noqa: BLE001 - never leave an envelope unacked; the trace is logged
                log.exception("Socket Mode envelope failed (ref %s)", uuid.uuid4().hex[:6])
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=payload))

    return Handler()
