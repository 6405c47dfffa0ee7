"""Regression: answering used to open the DuckDB file for writing, which locks it against every
other process, so `kpi query` failed while the bot (or a benchmark) had the same file open."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from metrics_core import KPI
from metrics_core.demo_data import generate

ROOT = Path(__file__).resolve().parent.parent


def test_two_processes_answer_from_one_duckdb_file(tmp_path: Path) -> None:
    db = tmp_path / "kpi.duckdb"
    con = duckdb.connect(str(db))
    generate(con, deals=500, until=date(2026, 11, 27))
    con.close()
    url = f"duckdb:///{db}"
    here = KPI.from_path(ROOT / "definitions.yaml", connection=url)
    mine = here.query("win_rate last-quarter", as_of=date(2026, 11, 27)).value  # this process holds the file open
    code = ("from datetime import date; from metrics_core import KPI; "
            f"k = KPI.from_path({str(ROOT / 'definitions.yaml')!r}, connection={url!r}); "
            "print(k.query('win_rate last-quarter', as_of=date(2026, 11, 27)).value)")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert other.returncode == 0, other.stderr
    assert float(other.stdout.strip()) == mine
