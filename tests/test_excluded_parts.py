"""Rows left out, per breakdown row and per series bucket (issue 12: "by segment" says which segment
lost rows), on DuckDB, a real PostgreSQL server and Spark in local mode.

The eight deals of tests/test_excluded_rows.py, worked by hand for 2026-Q1 (as of 2026-05-10):

    id  stage  segment  closed      amount
    D2  won    SMB      (none)        200   no close date: SMB's won deals, all time
    D3  won    SMB      2026-02-01  (none)  no amount: SMB, February
    D4  won    ENT      2026-02-15    -50   negative amount: ENT, February
    D7  lost   SMB      (none)         30   no close date: SMB (closed deals, all amounts)
    D8  won    ENT      2026-03-05    300   closed before created: ENT, March
"""

from __future__ import annotations

import duckdb
import pytest
from rich.console import Console

from metrics_core import KPI
from metrics_core.backends.duckdb import DuckDBBackend
from test_excluded_rows import AS_OF, DATA, YAML


@pytest.fixture(scope="module", params=["duckdb", "postgres", "spark"])
def kpi(request: pytest.FixtureRequest) -> KPI:
    if request.param == "duckdb":
        backend = DuckDBBackend(":memory:")
        backend.connection.execute(DATA)
        return KPI.from_text(YAML, backend=backend)
    from warehouse.replicate import copy_to_postgres, copy_to_spark

    con = duckdb.connect(":memory:")
    con.execute(DATA)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        copy_to_postgres(con, url)
        return KPI.from_text(YAML, connection=url)
    copy_to_spark(con, request.getfixturevalue("spark_session"))
    return KPI.from_text(YAML, connection="spark://local[2]")


def parts(kpi: KPI, question: str) -> dict[tuple, list[tuple[str, str, int]]]:
    """(bucket label or None, segment or None) -> [(measure, reason, count)], for every row and bucket."""
    j = kpi.query(question, as_of=AS_OF).to_json()
    return {(row.get("label"), row.get("segment")): [(e["measure"], e["reason"], e["count"]) for e in row["excluded"]]
            for row in [*j.get("rows", []), *j.get("series", [])]}


def test_each_segment_says_which_rows_it_lost(kpi: KPI) -> None:
    r = kpi.query("revenue 2026-Q1 by segment", as_of=AS_OF)
    assert [(e.reason, e.count) for e in r.excluded] == [("no_time", 1), ("no_value", 1), ("negative", 1)]
    assert parts(kpi, "revenue 2026-Q1 by segment") == {
        (None, "ENT"): [("revenue", "negative", 1)],
        (None, "SMB"): [("revenue", "no_time", 1), ("revenue", "no_value", 1)]}
    smb = next(row for row in r.to_json()["rows"] if row["segment"] == "SMB")
    assert smb["excluded"][0] == {"measure": "revenue", "reason": "no_time", "count": 1,
                                  "note": "1 won deal has no closed_at, so no period counts it."}


def test_each_bucket_says_which_rows_it_lost(kpi: KPI) -> None:
    # rows with no date fall in no bucket: said on the total (and per segment), never on a bucket
    assert parts(kpi, "revenue 2026-Q1 grain month by segment") == {
        (None, "ENT"): [("revenue", "negative", 1)],
        (None, "SMB"): [("revenue", "no_time", 1), ("revenue", "no_value", 1)],
        ("Jan 2026", "ENT"): [],
        ("Feb 2026", "ENT"): [("revenue", "negative", 1)], ("Feb 2026", "SMB"): [("revenue", "no_value", 1)],
        ("Mar 2026", "ENT"): []}
    assert parts(kpi, "sales_cycle_days 2026-Q1 grain month") == {
        ("Jan 2026", None): [], ("Feb 2026", None): [], ("Mar 2026", None): [("cycle", "date_order", 1)]}


def test_every_measure_of_a_ratio_counts_per_row_and_filters_apply(kpi: KPI) -> None:
    # won: D2 (SMB); closed: D2, D7 (SMB); ENT lost nothing
    assert parts(kpi, "win_rate 2026-Q1 by segment") == {
        (None, "ENT"): [], (None, "SMB"): [("won", "no_time", 1), ("closed", "no_time", 2)]}
    # all amounts, no filter on stage: D2, D7 no date; D3 no amount; D4 negative
    assert parts(kpi, "amounts 2026-Q1 by segment where segment=SMB") == {
        (None, "SMB"): [("amount_all", "no_time", 2), ("amount_all", "no_value", 1)]}


def test_the_cli_marks_the_rows_concerned_with_a_footnote() -> None:
    from metrics_core.cli_render import render_result

    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    k = KPI.from_text(YAML, backend=backend)
    out = Console(record=True, width=140)
    render_result(out, k.query("revenue 2026-Q1 grain month by segment", as_of=AS_OF), k)
    text = out.export_text()
    lines = [ln for ln in text.splitlines() if "rows left out" in ln]
    cells = [[c.strip() for c in ln.split("│")] for ln in lines]
    assert [(c[0], c[-1]) for c in cells] == [("ENT", "small sample (3), rows left out ¹"),
                                             ("SMB", "small sample (1), rows left out ²"),
                                             ("Feb 2026", "small sample (1), rows left out ¹"),
                                             ("Feb 2026", "small sample (1), rows left out ²")]
    assert "¹ ENT: 1 won deal in this period has a negative amount: counted as it is." in text
    assert ("² SMB: 1 won deal has no closed_at, so no period counts it. "
            "1 won deal in this period has no amount: not counted.") in text
    assert "² Feb 2026 / SMB: 1 won deal in this period has no amount: not counted." in text


def test_polish_marks_and_notes() -> None:
    from metrics_core.cli_render import render_result
    from metrics_core.i18n import use_locale

    backend = DuckDBBackend(":memory:")
    backend.connection.execute(DATA)
    k = KPI.from_text(YAML, backend=backend)
    with use_locale("pl_PL"):
        r = k.query("win_rate 2026-Q1 by segment", as_of=AS_OF)
        out = Console(record=True, width=140)
        render_result(out, r, k)
    smb = next(row for row in r.to_json()["rows"] if row["segment"] == "SMB")
    assert smb["excluded"][1]["note"] == "2 closed deals: brak closed_at, więc żaden okres ich nie liczy."
    text = out.export_text()
    assert "pominięto wiersze ¹" in text and "rows left out" not in text
