"""The Google Sheets add-on (sheets/addon/Code.gs) run under Node with a shim of the Apps Script services,
against the real kpi API on 127.0.0.1 (tests/sheets/addon/addon.test.mjs, node's own test runner)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
import services

from bot.service.runner import Service
from bot.service.settings import ServeSettings
from serve_support import Running, run_service, service_definitions

REPO = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def api(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("serve-addon")
    defs = service_definitions(demo_dir, root)
    settings = ServeSettings.load(env_file=None, kpi_state_dir=root / ".kpi", kpi_api_rate_limit=10_000)
    yield from run_service(Service(settings, defs))


def test_addon_under_node_against_the_api(api: Running) -> None:
    if NODE is None:
        services.unavailable("node is not installed (the add-on's tests run its Apps Script code under Node)")
    keys = api.service.keys
    env = {**os.environ, "KPI_URL": api.url, "KPI_ADDON": str(REPO / "sheets" / "addon" / "Code.gs"),
           "KPI_QUERY_KEY": keys.create(scopes={"query"}, name="sheet-user")[1],
           "KPI_WIN_ONLY_KEY": keys.create(scopes={"query"}, metrics=("win_rate",), name="win-only")[1]}
    run = subprocess.run([NODE, "--test", "--test-reporter=tap", str(REPO / "tests/sheets/addon/addon.test.mjs")],
                         env=env, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    passed = int(re.search(r"^# pass (\d+)$", out, re.M).group(1))
    assert passed == 12 and re.search(r"^# fail 0$", out, re.M), out
