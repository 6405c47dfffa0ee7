"""A demo CRM for CLI tests (helper, not a test module): the shipped definitions in ``root``, their
DuckDB filled by `kpi demo --deals 2000`, with KPI_CONNECTION set on ``mp`` (the caller decides how
long that setting lasts)."""

from __future__ import annotations

import shutil
from pathlib import Path

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
