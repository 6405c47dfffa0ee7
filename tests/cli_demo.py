"""Demo CRMs for tests (helper, not a test module): ``demo_definitions`` puts the shipped definitions in
``root`` with their DuckDB filled by `kpi demo --deals 2000` and KPI_CONNECTION set on ``mp`` (the caller
decides how long that setting lasts), for CLI tests; ``demo_kpi`` is a KPI over an in-memory demo CRM."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-27"


def demo_definitions(root: Path, mp: pytest.MonkeyPatch) -> Path:
    from metrics_core.cli import app

    shutil.copy(REPO / "definitions.yaml", root / "definitions.yaml")
    mp.setenv("KPI_CONNECTION", f"duckdb:///{root}/kpi.duckdb")
    result = CliRunner().invoke(app, ["demo", "-d", str(root / "definitions.yaml"), "--deals", "2000",
                                      "--until", AS_OF])
    assert result.exit_code == 0, result.output
    return root / "definitions.yaml"


def demo_kpi(deals: int = 3000, as_of: str = AS_OF) -> Any:
    """The shipped definitions over an in-memory DuckDB demo CRM of ``deals`` deals ending ``as_of``,
    rollups off: what the compiler's tests ask their questions of."""
    from datetime import date

    from metrics_core import KPI
    from metrics_core.backends.duckdb import DuckDBBackend
    from metrics_core.demo_data import generate

    backend = DuckDBBackend(":memory:")
    generate(backend.connection, deals=deals, until=date.fromisoformat(as_of))
    return KPI.from_path(REPO / "definitions.yaml", backend=backend, rollups=False)
