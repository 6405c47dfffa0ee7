"""Slack's HTTP endpoints on the API's server (layer: bot entry).

    POST /slack/events            commands, events, buttons: bot.transport's WSGI app (the same edges
                                  as under waitress: body cap 413, signature 401, not-Slack 400)
    GET  /slack/install           multi-workspace install (Slack OAuth), when configured
    GET  /slack/oauth_redirect    Slack's redirect back after an install

Each request runs in a worker thread (``run_in_threadpool``), so a slow ack never blocks the API's
other requests; its arrival is stamped before that thread is found, as the ack budget needs.
"""

from __future__ import annotations

import io
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from slack_bolt import App, BoltRequest, BoltResponse
from starlette.concurrency import run_in_threadpool

from ..transport import ARRIVAL_KEY, EVENTS_PATH, MAX_BODY, wsgi_app


def _environ(request: Request, body: bytes, arrived: float) -> dict[str, Any]:
    env: dict[str, Any] = {"REQUEST_METHOD": request.method, "PATH_INFO": request.url.path,
                           "QUERY_STRING": request.url.query, "CONTENT_LENGTH": str(len(body)),
                           "wsgi.input": io.BytesIO(body), ARRIVAL_KEY: arrived}
    for k, v in request.headers.items():
        if k == "content-type":
            env["CONTENT_TYPE"] = v
        elif k != "content-length":
            env["HTTP_" + k.upper().replace("-", "_")] = v
    return env


def _call_wsgi(application: Any, environ: dict[str, Any]) -> Response:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"], started["headers"] = int(status.split()[0]), headers
    body = b"".join(application(environ, start_response))
    headers = {k: v for k, v in started["headers"] if k.lower() != "content-length"}
    return Response(content=body, status_code=started["status"], headers=headers)


def _to_response(r: BoltResponse) -> Response:
    headers = {k: ", ".join(v) for k, v in r.headers.items() if k.lower() != "content-length"}
    return Response(content=r.body, status_code=r.status, headers=headers)


def mount_slack(api: FastAPI, app: App, *, oauth: bool = False) -> None:
    application = wsgi_app(app)

    @api.post(EVENTS_PATH, include_in_schema=False)
    async def events(request: Request) -> Response:
        arrived = time.monotonic()
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return Response(f"Request body over {MAX_BODY} bytes", status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response(f"Request body over {MAX_BODY} bytes", status_code=413)
        return await run_in_threadpool(_call_wsgi, application, _environ(request, body, arrived))

    if not oauth or app.oauth_flow is None:
        return
    flow = app.oauth_flow

    def bolt_request(request: Request) -> BoltRequest:
        return BoltRequest(body="", query=request.url.query, headers={k: [v] for k, v in request.headers.items()})

    @api.get(flow.install_path, include_in_schema=False)
    async def install(request: Request) -> Response:
        return _to_response(await run_in_threadpool(flow.handle_installation, bolt_request(request)))

    @api.get(flow.redirect_uri_path, include_in_schema=False)
    async def redirect(request: Request) -> Response:
        return _to_response(await run_in_threadpool(flow.handle_callback, bolt_request(request)))
