"""``kpi serve``: the Slack app, every schedule and the JSON API in one process (layer: bot entry).

    settings   ServeSettings: environment + .env, every problem listed at start (``kpi serve --check``)
    keys       API keys: created, listed, revoked; stored scrypt-hashed in the state database
    limits     a token bucket per API key (429 + Retry-After)
    telemetry  Prometheus counters and histograms (``GET /metrics``)
    syncs      one Sheets sync at a time, from any trigger (schedule, ``POST /v1/sync``, ``/kpi sync``)
    clock      schedules on a faster clock (tests and demos)
    jobs       digests, alerts and Sheets syncs on one APScheduler, in the calendar's timezone
    api        the FastAPI app: /v1/query, /v1/metrics, /v1/sync, /healthz, /metrics, Slack's endpoints
    runner     Service: builds the shared pieces, runs uvicorn, shuts down gracefully
    cli        ``kpi serve`` and ``kpi api keys create|list|revoke``

Everything shares one KpiProvider (engine, answer cache, definitions hot-reload).
"""
