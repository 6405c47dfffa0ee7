"""The JSON API of ``kpi serve``: httpx against the real uvicorn server on 127.0.0.1, keys from the real
store, the demo definitions on DuckDB. Checked against `kpi query --json` and the access rules."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from bot.service.limits import RateLimiter
from bot.service.runner import Service
from bot.service.settings import ServeSettings
from serve_support import KPI, Running, bearer, run_service, service_definitions

AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def api(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("serve-api")
    defs = service_definitions(demo_dir, root)
    settings = ServeSettings.load(env_file=None, kpi_state_dir=root / ".kpi", kpi_api_rate_limit=10_000)
    yield from run_service(Service(settings, defs))


@pytest.fixture(scope="module")
def keys(api: Running) -> dict[str, str]:
    store = api.service.keys
    return {"open": store.create(scopes={"query"}, name="dashboard")[1],
            "finance": store.create(scopes={"query", "sync"}, name="finance-sheet")[1],
            "win_only": store.create(scopes={"query"}, metrics=("win_rate",), name="win-only")[1],
            "sync_only": store.create(scopes={"sync"}, name="syncer")[1]}


def get(api: Running, path: str, token: str | None, **params: Any) -> httpx.Response:
    return httpx.get(api.url + path, params=params, headers=bearer(token) if token else {}, timeout=30)


def test_query_is_the_object_of_kpi_query_json(api: Running, keys: dict[str, str]) -> None:
    q = "win_rate last-quarter by region"
    r = get(api, "/v1/query", keys["open"], q=q, as_of=AS_OF)
    assert r.status_code == 200, r.text
    cli = subprocess.run([KPI, "query", q, "--json", "--as-of", AS_OF, "-d", str(api.service.definitions)],
                         capture_output=True, text=True, timeout=120, cwd=api.service.definitions.parent)
    assert cli.returncode == 0, cli.stderr
    assert r.json() == json.loads(cli.stdout)
    assert r.json()["period"]["start"] == "2026-07-01" and r.json()["dimensions"] == ["region"] and r.json()["rows"]


def test_without_a_valid_key_nothing_is_answered(api: Running, keys: dict[str, str]) -> None:
    for token in (None, "nope", "kpi_deadbeef_wrong", keys["open"][:-2] + "xx"):
        r = get(api, "/v1/query", token, q="win_rate last-quarter")
        assert r.status_code == 401, (token, r.text)
        assert r.json()["error"]["kind"] == "auth" and r.headers["www-authenticate"] == "Bearer"


def test_revoked_key_stops_working_at_once(api: Running) -> None:
    key, token = api.service.keys.create(scopes={"query"}, name="short-lived")
    assert get(api, "/v1/metrics", token).status_code == 200
    assert api.service.keys.revoke("short-lived")
    assert get(api, "/v1/metrics", token).status_code == 401


def test_scopes(api: Running, keys: dict[str, str]) -> None:
    r = httpx.post(api.url + "/v1/sync", json={}, headers=bearer(keys["open"]), timeout=30)
    assert r.status_code == 403 and r.json()["error"]["kind"] == "scope"
    r = get(api, "/v1/query", keys["sync_only"], q="win_rate last-quarter")
    assert r.status_code == 403 and "'query' scope" in r.json()["error"]["message"]


def test_access_rules_of_the_slack_section_apply_to_keys(api: Running, keys: dict[str, str]) -> None:
    """cac is restricted to #leadership/#revops and the key finance-sheet; --metrics narrows a key further."""
    refused = get(api, "/v1/query", keys["open"], q="cac last-quarter", as_of=AS_OF)
    assert refused.status_code == 403 and refused.json()["error"] == {
        "kind": "access", "message": "key dashboard may not read 'cac'"}
    allowed = get(api, "/v1/query", keys["finance"], q="cac last-quarter", as_of=AS_OF)
    assert allowed.status_code == 200 and allowed.json()["metric"] == "cac"
    # a bad period on a forbidden metric still says "forbidden", not what is wrong with the question
    assert get(api, "/v1/query", keys["open"], q="cac lst-quarter").status_code == 403
    assert get(api, "/v1/query", keys["win_only"], q="conversion_rate last-month").status_code == 403
    assert get(api, "/v1/query", keys["win_only"], q="win rate last-month", as_of=AS_OF).status_code == 200

    def names(token: str) -> set[str]:
        return {m["name"] for m in get(api, "/v1/metrics", token).json()}
    assert "cac" not in names(keys["open"]) and "win_rate" in names(keys["open"])
    assert {"cac", "clv", "win_rate"} <= names(keys["finance"])
    assert names(keys["win_only"]) == {"win_rate"}
    assert get(api, "/v1/metrics/cac", keys["open"]).status_code == 403


def test_explain(api: Running, keys: dict[str, str]) -> None:
    r = get(api, "/v1/metrics/win rate", keys["open"])
    assert r.status_code == 200
    body = r.json()
    assert body["metric"]["name"] == "win_rate" and body["metric"]["formula"] == "won_new_deals / closed_new_deals"
    assert "select" in body["sql"].lower()
    missing = get(api, "/v1/metrics/wn_rate", keys["open"])
    assert missing.status_code == 404 and "did you mean 'win_rate'" in missing.json()["error"]["message"]


def test_a_bad_question_is_one_line_400(api: Running, keys: dict[str, str]) -> None:
    r = get(api, "/v1/query", keys["open"], q="win_rate lst-quarter")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["kind"] == "query" and "lst-quarter" in err["message"] and "Traceback" not in r.text


def test_rate_limit_per_key_answers_429_with_retry_after(api: Running, keys: dict[str, str]) -> None:
    before = api.service.limiter
    api.service.limiter = RateLimiter(3)
    try:
        codes = [get(api, "/v1/metrics", keys["win_only"]).status_code for _ in range(4)]
        other = get(api, "/v1/metrics", keys["open"])  # another key has its own bucket
        limited = get(api, "/v1/metrics", keys["win_only"])
    finally:
        api.service.limiter = before
    assert codes == [200, 200, 200, 429] and other.status_code == 200
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["kind"] == "rate_limit"


def test_healthz_and_prometheus(api: Running, keys: dict[str, str]) -> None:
    health = httpx.get(api.url + "/healthz").json()
    assert health["status"] == "ok" and health["slack"] == "off" and health["metrics"] >= 10
    before = _sample(httpx.get(api.url + "/metrics").text, 'kpi_answers_total{surface="api"}')
    assert get(api, "/v1/query", keys["open"], q="avg_deal_size last-month", as_of=AS_OF).status_code == 200
    get(api, "/v1/query", keys["open"], q="nonsense_metric")
    text = httpx.get(api.url + "/metrics").text
    assert _sample(text, 'kpi_answers_total{surface="api"}') == before + 1
    assert _sample(text, 'kpi_answer_errors_total{kind="query",surface="api"}') >= 1
    assert 'kpi_answer_seconds_bucket{le="0.5",surface="api"}' in text
    assert "kpi_cache_hits_total" in text and "kpi_sync_seconds_count" in text


def test_openapi_lists_every_route(api: Running) -> None:
    spec = httpx.get(api.url + "/openapi.json").json()
    assert {"/v1/query", "/v1/metrics", "/v1/metrics/{name}", "/v1/sync", "/healthz", "/metrics"} <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


def test_several_metrics_are_the_object_of_kpi_query_json(api: Running, keys: dict[str, str]) -> None:
    """GET /v1/query with a list answers {"metrics": [...]} as the CLI does; the key must read each metric."""
    q = "win_rate, sales_cycle_days last-quarter by region"
    r = get(api, "/v1/query", keys["open"], q=q, as_of=AS_OF)
    assert r.status_code == 200, r.text
    cli = subprocess.run([KPI, "query", q, "--json", "--as-of", AS_OF, "-d", str(api.service.definitions)],
                         capture_output=True, text=True, timeout=120, cwd=api.service.definitions.parent)
    assert cli.returncode == 0, cli.stderr
    got = r.json()  # counts and whole days: sums whose order cannot change a bit of the answer
    assert got == json.loads(cli.stdout) and [m["metric"] for m in got["metrics"]] == ["win_rate", "sales_cycle_days"]
    refused = get(api, "/v1/query", keys["open"], q="win_rate, cac last-quarter", as_of=AS_OF)
    assert refused.status_code == 403 and refused.json()["error"]["message"] == "key dashboard may not read 'cac'"
    assert get(api, "/v1/query", keys["win_only"], q="win_rate, conversion_rate last-month").status_code == 403


@pytest.fixture(scope="module")
def polish_api(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("serve-api-pl")
    defs = service_definitions(demo_dir, root)
    text = defs.read_text(encoding="utf-8")
    assert "locale: en_US" in text
    defs.write_text(text.replace("locale: en_US", "locale: pl_PL", 1), encoding="utf-8")
    settings = ServeSettings.load(env_file=None, kpi_state_dir=root / ".kpi", kpi_api_rate_limit=10_000)
    yield from run_service(Service(settings, defs))


def test_the_apis_own_errors_speak_the_definitions_language(polish_api: Running) -> None:
    """The Sheets add-on shows these in cells: a Polish team reads them in Polish, as the core's errors."""
    r = get(polish_api, "/v1/query", None, q="win_rate last-quarter")
    assert r.status_code == 401 and r.json()["error"]["message"].startswith("brak klucza API"), r.text
    only = polish_api.service.keys.create(scopes={"query"}, metrics=("win_rate",), name="tylko-win")[1]
    r = get(polish_api, "/v1/query", only, q="cac last-quarter")
    assert r.status_code == 403 and r.json()["error"]["message"] == "klucz tylko-win nie może odczytać 'cac'", r.text
    r = httpx.post(polish_api.url + "/v1/sync", headers=bearer(only), timeout=30)
    assert r.status_code == 403 and r.json()["error"]["message"] == "klucz tylko-win nie ma zakresu 'sync' (ma: query)"
    r = get(polish_api, "/v1/query", only, q="win_rate ostatni kwartał")
    assert r.status_code == 200 and r.json()["formatted"].endswith("%") and "," in r.json()["formatted"], r.text
