"""The JSON API (FastAPI; OpenAPI at /openapi.json) and Slack's HTTP endpoints (layer: bot entry).

    GET  /v1/query?q=cac+last-quarter&as_of=2026-11-27   the object of `kpi query --json`
                                                          (q=win_rate,cac+...: {"metrics": [...]}, as the CLI)
    GET  /v1/metrics                 the metrics this key may read
    GET  /v1/metrics/{name}          definition, formula, components, SQL
    POST /v1/sync  {"tab": "..."}    a Sheets sync now (one tab, or all without "tab")
    GET  /healthz                    liveness and what runs
    GET  /metrics                    Prometheus
    POST /slack/events, GET /slack/install, GET /slack/oauth_redirect      when Slack runs over HTTP

``/v1`` needs ``Authorization: Bearer kpi_...`` (``kpi api keys create``); the key's scope, its
``--metrics`` and the ``slack.access`` rules (``keys:``) decide what it may read, and each key has a
rate limit (429 with Retry-After). Errors are ``{"error": {"kind", "message"}}`` with the status.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import date
from typing import Any, Optional

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from metrics_core.errors import AccessDenied, KpiUserError, QueryError
from metrics_core.i18n import _, use_locale

from .keys import ApiKey

log = logging.getLogger("kpi.serve.api")


class ErrorBody(BaseModel):
    kind: str = Field(description="auth | scope | access | query | data | sync | rate_limit | internal")
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class SyncRequest(BaseModel):
    tab: Optional[str] = Field(default=None, description="a tab's name or key; all tabs when absent")


class SyncResult(BaseModel):
    ok: bool
    spreadsheet: Optional[str]
    tabs: list[str]
    seconds: float
    error: Optional[str] = None


class MetricSummary(BaseModel):
    name: str
    label: str
    description: str
    type: str
    format: str
    currency: Optional[str]
    better: str
    dimensions: list[str]
    formula: str
    synonyms: list[str]
    owner: Optional[str] = None


class Explanation(BaseModel):
    metric: MetricSummary
    text: str
    components: list[list[str]]
    sql: str


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers or {}


_ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422, 429, 500)}
_bearer = HTTPBearer(auto_error=False, description="an API key from `kpi api keys create`")


def create_api(parts: Any) -> FastAPI:
    """``parts``: the running Service (provider, keys, limiter, telemetry, syncs, slack, health())."""
    api = FastAPI(title="kpi", version="1", description="Sales metrics defined once in definitions.yaml.",
                  docs_url=None, redoc_url=None)

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError) -> JSONResponse:
        return JSONResponse({"error": {"kind": e.kind, "message": e.message}}, status_code=e.status,
                            headers=e.headers)

    def key_with(scope: str) -> Any:
        def dep(creds: Optional[HTTPAuthorizationCredentials] = Depends(_bearer)) -> ApiKey:
            with use_locale(_language(parts)):
                return _checked_key(parts, creds, scope)
        return dep

    def readable(snap: Any, key: ApiKey, metric: str) -> bool:
        return key.covers(metric) and snap.policy.key_allowed(metric, key.id, key.name)

    def check(snap: Any, key: ApiKey, metric: str) -> None:
        if not readable(snap, key, metric):
            log.warning("access refused: key=%s metric=%s", key.name, metric)
            with use_locale(snap.kpi.definitions.locale.locale):
                raise ApiError(403, "access", _("key {key} may not read '{metric}'").format(key=key.name, metric=metric))

    @api.get("/v1/query", responses=_ERRORS, summary="Answer one question (the grammar of `kpi query`)")
    def query(response: Response, q: str = Query(..., min_length=1, max_length=500, description='e.g. "win_rate last-quarter by region"'),
              as_of: Optional[date] = Query(None, description="answer as of this day (default: today)"),
              key: ApiKey = Depends(key_with("query"))) -> dict[str, Any]:
        from ..answer import metrics_of

        t0, tel = time.perf_counter(), parts.telemetry
        try:
            snap = parts.provider.current()
            names = metrics_of(snap, q)
            for name in names:  # several metrics: the key must read each one
                check(snap, key, name)
            data = (snap.kpi.query(q, as_of=as_of) if len(names) == 1 else snap.kpi.query_many(q, as_of=as_of)).to_json()
            # How long a client (the Sheets add-on's CacheService) may reuse it: the definitions' cache TTL.
            ttl = int(snap.kpi.definitions.connection.cache_ttl_seconds or 0)
            response.headers["Cache-Control"] = f"private, max-age={ttl}"
        except ApiError as e:
            tel.errors.labels(surface="api", kind=e.kind).inc()
            raise
        except Exception as e:
            raise _translated(e, tel, _language(parts)) from e
        tel.answers.labels(surface="api").inc()
        tel.latency.labels(surface="api").observe(time.perf_counter() - t0)
        return data

    @api.get("/v1/metrics", responses=_ERRORS, summary="The metrics this key may read")
    def metrics(key: ApiKey = Depends(key_with("query"))) -> list[MetricSummary]:
        snap = parts.provider.current()
        return [_summary(m) for m in snap.kpi.metrics() if readable(snap, key, m.name)]

    @api.get("/v1/metrics/{name}", responses=_ERRORS, summary="Explain a metric")
    def explain(name: str, key: ApiKey = Depends(key_with("query"))) -> Explanation:
        snap = parts.provider.current()
        try:
            info = snap.kpi.metric_info(name)
        except QueryError as e:
            raise ApiError(404, "query", str(e)) from e
        check(snap, key, info.name)
        try:
            e = snap.kpi.explain(info.name)
        except Exception as err:
            raise _translated(err, parts.telemetry, _language(parts)) from err
        return Explanation(metric=_summary(e.metric), text=e.text, components=[list(c) for c in e.components],
                           sql=e.sql)

    @api.post("/v1/sync", responses=_ERRORS, summary="Run a Sheets sync now (one tab, or all)")
    def sync(body: Optional[SyncRequest] = None, key: ApiKey = Depends(key_with("sync"))) -> SyncResult:
        try:
            outcome = parts.syncs.run(body.tab if body else None, trigger="api")
        except Exception as e:
            raise _translated(e, parts.telemetry, _language(parts)) from e
        if not outcome.ok:
            with use_locale(_language(parts)):
                raise ApiError(422, "sync", outcome.error or _("the sync failed"))
        return SyncResult(**outcome.to_json())

    @api.get("/healthz", summary="Liveness and what runs")
    def healthz() -> dict[str, Any]:
        return parts.health()

    @api.get("/metrics", summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    def prometheus() -> Response:
        from .telemetry import CONTENT_TYPE

        return Response(parts.telemetry.render(), media_type=CONTENT_TYPE)

    if parts.slack is not None:
        from .slack_http import mount_slack

        mount_slack(api, parts.slack, oauth=parts.settings.slack_mode == "oauth")
    return api


def _summary(m: Any) -> MetricSummary:
    return MetricSummary(name=m.name, label=m.label, description=m.description, type=m.type, format=m.format,
                         currency=m.currency, better=m.better, dimensions=list(m.dimensions), formula=m.formula,
                         synonyms=list(m.synonyms), owner=m.owner)


def _language(parts: Any) -> str | None:
    """The definitions' ``locale:``: the language of the API's own messages (the core's are in it already)."""
    try:
        return parts.provider.current().kpi.definitions.locale.locale
    except Exception:  # noqa: BLE001 - no definitions yet: English
        return None


def _checked_key(parts: Any, creds: Optional[HTTPAuthorizationCredentials], scope: str) -> ApiKey:
    key = parts.keys.verify(creds.credentials) if creds and creds.credentials else None
    if key is None:
        raise ApiError(401, "auth", _("missing or unknown API key: send 'Authorization: Bearer kpi_...' "
                                      "(create one with `kpi api keys create --scope query`)"),
                       {"WWW-Authenticate": "Bearer"})
    wait = parts.limiter.take(key.id)
    if wait > 0:
        raise ApiError(429, "rate_limit", _("too many requests for key {key}; retry in {seconds} s").format(
            key=key.name, seconds=math.ceil(wait)), {"Retry-After": str(math.ceil(wait))})
    if not key.may(scope):
        raise ApiError(403, "scope", _("key {key} lacks the '{scope}' scope (it has: {scopes})").format(
            key=key.name, scope=scope, scopes=", ".join(sorted(key.scopes))))
    return key


def _translated(e: Exception, telemetry: Any, locale: str | None = None) -> ApiError:
    """User errors as they are (400/403/422); anything else logged with a reference (500)."""
    if isinstance(e, ApiError):
        err = e
    elif isinstance(e, AccessDenied):
        err = ApiError(403, "access", str(e))
    elif isinstance(e, QueryError):
        err = ApiError(400, "query", str(e))
    elif isinstance(e, KpiUserError):
        err = ApiError(422, "data", str(e))
    else:
        ref = uuid.uuid4().hex[:6]
        log.error("internal error (ref %s)", ref, exc_info=e)
        with use_locale(locale):
            err = ApiError(500, "internal", _("something broke (ref {ref}); the server log has the details").format(ref=ref))
    telemetry.errors.labels(surface="api", kind=err.kind).inc()
    return err
