"""The statements rollups serve: golden SQL for every engine, and their shape.

    tests/snapshots/<dialect>/rollups/<metric>__<question>.sql

The shipped definitions and rollups, matched against parts that need no data (the statement depends
only on the definitions, the question and the parts' relations), for the metrics that read the
most kinds of part at once: ltv_cac_ratio (plain parts, a snapshot at the start, prorated spend),
pipeline_velocity (a snapshot at the end), lead_to_win_rate (a conversion). Whether the numbers are
right is tests/test_rollups*.py and tests/warehouse/test_rollups_agree.py; these pin the text, so
a change to it is a reviewable diff for every engine, and its shape: rollup parts are small, so a
statement's time is the engine's fixed cost per operator and planning, and each extra GROUPING SETS
or join is a few milliseconds. Refresh with
``KPI_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_rollups_sql.py``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import sqlglot

from metrics_core import KPI
from metrics_core.compile import Compiled
from metrics_core.rollup_serve import Candidate, match
from metrics_core.rollup_serve_sql import serve_sql
from metrics_core.rollup_sql import parts_of
from metrics_core.statement import pretty
from snapshot import assert_snapshot

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO / "tests" / "snapshots"
AS_OF = date(2026, 11, 27)
DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")
QUESTIONS = {  # file name -> question (last-week cuts a month of spend: prorated by days)
    "ltv_cac_ratio__quarter": "ltv_cac_ratio last-quarter",
    "ltv_cac_ratio__months_by_segment": "ltv_cac_ratio last-12-months by segment grain month",
    "ltv_cac_ratio__week_vs_last_year": "ltv_cac_ratio last-week vs last-year",
    "pipeline_velocity__months_by_segment": "pipeline_velocity last-12-months by segment grain month",
    "lead_to_win_rate__quarter_by_segment": "lead_to_win_rate last-quarter by segment",
}

_kpi = KPI.from_path(REPO / "definitions.yaml")


def served(text: str, dialect: str) -> Compiled:
    defs = _kpi.definitions
    candidates = [Candidate(p, f"rollup_{p.name}") for name, r in defs.rollups.named.items()
                  for p in parts_of(defs, name, r)]
    query = _kpi.plan(text, as_of=AS_OF).query
    plan = match(_kpi.catalog, query, candidates)
    assert plan.served, plan.misses
    return serve_sql(_kpi.catalog, query, plan, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", QUESTIONS)
def test_golden_served_sql(name: str, dialect: str) -> None:
    c = served(QUESTIONS[name], dialect)
    assert_snapshot(SNAPSHOTS / dialect / "rollups" / f"{name}.sql", pretty(c.sql, dialect))  # laid out as people see it
    assert sqlglot.parse_one(c.sql, read=dialect).find(sqlglot.exp.Select) is not None


@pytest.mark.parametrize("name", QUESTIONS)
def test_one_fold_one_join_and_one_grouping_sets(name: str) -> None:
    """All parts are folded onto the windows' segments together and added up across dimension values
    once: one GROUPING SETS (with a breakdown), one GROUP BY besides it, and one join to the windows
    per kind of placement (segments; prorated rows by their dates); a window's length (an annualized
    rate) is carried along, not joined again."""
    sql = served(QUESTIONS[name], "duckdb").sql.upper()
    sets = sql.count("GROUPING SETS")
    assert sets == (1 if "BY SEGMENT" in QUESTIONS[name].upper() else 0)
    assert len(re.findall(r"\bGROUP BY\b", sql)) == 2  # the fold f and the answer a
    joins = len(re.findall(r"\bJOIN\b", sql))
    prorated = "GREATEST(" in sql
    assert joins == 1 + prorated
    assert prorated == ("WEEK" in name.upper())  # month-aligned windows take spend whole, without a join
