"""Property-based tests of the JSON API from its own OpenAPI schema (schemathesis): whatever a client
sends that the schema allows, the server answers with a documented status and a body that matches
the schema, and never a 500. Kept small (a few examples per operation) so the suite stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bot.service.runner import Service
from bot.service.settings import ServeSettings
from serve_support import Running, bearer, run_service, service_definitions



@pytest.fixture(scope="module")
def served(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, str]]:
    root = tmp_path_factory.mktemp("serve-schema")
    defs = service_definitions(demo_dir, root)
    settings_ = ServeSettings.load(env_file=None, kpi_state_dir=root / ".kpi", kpi_api_rate_limit=100_000)
    for running in run_service(Service(settings_, defs)):
        _, token = running.service.keys.create(scopes={"query", "sync"}, name="schema-test")
        yield running, token


def test_api_keeps_its_schema(served: tuple[Running, str]) -> None:
    """Each operation of /openapi.json, with cases drawn from its schema (schemathesis' own pytest plugin
    is not used: its fixture loader does not run under this pytest)."""
    running, token = served
    schema = schemathesis.openapi.from_url(f"{running.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=bearer(token), timeout=60)
            assert response.status_code < 500, (operation.label, case.query, response.text)
            # A question is free text: schema-valid is not grammar-valid, so a 400 for "q=0" is right.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
        check()
