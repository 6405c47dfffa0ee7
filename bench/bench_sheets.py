"""Sheets benchmark: compute of the shipped workbook at M, beside hand-written SQL, raw and with rollups.

    .venv/bin/python -m bench sheets                      # default workbook, 1M deals / 5M leads, 3 rounds
    .venv/bin/python -m bench sheets --runs 5 --markdown  # the README table
    .venv/bin/python -m bench sheets --workload wide      # 5 tabs x 10 metrics x 24 months, 4 breakdowns

The workbook is the ``sheets:`` section of definitions.yaml (KPIs by month, KPIs by segment,
Definitions, Data quality, Sync status). Three ways, rounds interleaved, median [min-max]:

- **hand SQL**: bench/handsheets.py, one plain DuckDB statement per report tab giving the same numbers
  (no targets, Why or fine print; no Definitions, Data quality or status tab);
- **kpi raw**: ``build_layouts`` (the sync's compute: every tab's cells) with ``--no-rollups``;
- **kpi + rollups**: the same with the shipped rollups, built first (time and size printed).

Compute is split into the report tabs and the Data quality tab (``kpi doctor``'s findings).
Every number cell of the report tabs is compared (relative 1e-9) between kpi raw and the hand SQL,
and every cell of every tab (words, targets, Why, fine print) between kpi raw and kpi + rollups.
Then one real sync with rollups (gspread + google-auth against the loopback fake of
tests/fakes/sheets_api.py): requests and bytes, first sync (tabs created) and second (in place).
Load on the machine is printed with the numbers (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.core import AS_OF, dataset  # noqa: E402
from bench.handsheets import buckets, hand_tab  # noqa: E402
from metrics_core.api import KPI  # noqa: E402
from sheets.compute import Computer, compute_tab  # noqa: E402
from sheets.config import WorkbookConfig  # noqa: E402
from sheets.pipeline import build_layouts  # noqa: E402
from sheets.workbook import workbook_for  # noqa: E402

SHEET_ID = "kpi-bench-sheet-0001"  # a well-formed id (10+ letters, digits, - and _)
WIDE = ["conversion_rate", "lead_to_win_rate", "sales_cycle_days", "cac", "clv", "win_rate",
        "avg_deal_size", "pipeline_velocity", "ltv_cac_ratio", "cac_payback_months"]


def wide(kpi: KPI) -> WorkbookConfig:
    """5 distinct tabs: 24 months by segment, region, office, source, and 24 months without a breakdown."""
    known = {m.name: set(m.dimensions) for m in kpi.metrics()}
    metrics = [m for m in WIDE if m in known]
    tabs = [{"name": f"By {dim}", "metrics": [m for m in metrics if dim in known[m]], "grain": "month", "periods": 24,
             "breakdown": {"by": dim}, "targets": False} for dim in ("segment", "region", "office", "source")]
    tabs.append({"name": "Monthly", "metrics": metrics, "grain": "month", "periods": 24})
    return WorkbookConfig.model_validate({"spreadsheet": SHEET_ID, "tabs": tabs, "quality_tab": None})


@dataclass
class Way:
    name: str
    run: Callable[[], Any]
    tabs: list[float] = field(default_factory=list)  # seconds per round: the report tabs (and the rest)
    quality: list[float] = field(default_factory=list)  # seconds per round: kpi doctor (0 when reused)
    doctor: list[float] = field(default_factory=list)  # every doctor run


def _doctor_timer(kpi: KPI, way: Way) -> None:
    """Record each doctor call's time on ``way`` (the Data quality tab's compute)."""
    doctor = kpi.doctor

    def timed(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return doctor(*a, **kw)
        finally:
            way.doctor.append(time.perf_counter() - t)

    kpi.doctor = timed  # type: ignore[method-assign]


def kpi_way(name: str, kpi: KPI, cfg: WorkbookConfig, workers: int) -> Way:
    way = Way(name, lambda: None)
    _doctor_timer(kpi, way)

    def run() -> None:
        n = len(way.doctor)
        t = time.perf_counter()
        build_layouts(kpi, cfg, as_of=AS_OF, workers=workers)
        doctor = sum(way.doctor[n:])
        way.tabs.append(time.perf_counter() - t - doctor)
        if cfg.quality_tab:
            way.quality.append(doctor)

    way.run = run
    return way


def hand_way(con: Any, cfg: WorkbookConfig) -> tuple[Way, dict[str, str]]:
    sqls = {t.id: hand_tab(list(t.metrics), t.grain, buckets(t.grain, t.periods, AS_OF), t.breakdown is not None)
            for t in cfg.tabs}
    way = Way("hand SQL", lambda: None)

    def run() -> None:
        t = time.perf_counter()
        for sql in sqls.values():
            con.cursor().execute(sql).fetchall()
        way.tabs.append(time.perf_counter() - t)

    way.run = run
    return way, sqls


# -- equality -------------------------------------------------------------------------------------

def kpi_cells(kpi: KPI, cfg: WorkbookConfig) -> dict[tuple, Any]:
    """(tab, metric, group, period start, what) -> the cell, from the sync's own TabData."""
    comp = Computer(kpi, AS_OF, workers=1)
    now = datetime(2026, 11, 27, 12, tzinfo=ZoneInfo("UTC"))
    out: dict[tuple, Any] = {}
    for tab in cfg.tabs:
        data = compute_tab(comp, tab, now, "UTC")
        for row in data.rows:
            for p, v in zip(data.periods, row.values):
                out[(tab.id, row.metric, row.group, p.start, "value")] = v
            for what in ("target", "status", "why", "notes", "label", "decimals", "maturing", "excluded", "small"):
                out[(tab.id, row.metric, row.group, None, what)] = getattr(row, what)
    return out


def hand_cells(con: Any, cfg: WorkbookConfig, sqls: dict[str, str]) -> dict[tuple, Any]:
    out = {}
    for tab in cfg.tabs:
        cur = con.cursor().execute(sqls[tab.id])
        names = [d[0] for d in cur.description]
        for rec in cur.fetchall():
            r = dict(zip(names, rec))
            for m in tab.metrics:
                group = r["seg"] if tab.breakdown else None
                if tab.breakdown and tab.breakdown.values and group not in tab.breakdown.values:
                    continue
                out[(tab.id, m, group, r["bucket"], "value")] = r[m]
    return out


def _same(a: Any, b: Any) -> bool:
    def empty(x: Any) -> bool:
        return x is None or (isinstance(x, float) and math.isnan(x))

    if empty(a) or empty(b):
        return empty(a) and empty(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def differ(a: dict[tuple, Any], b: dict[tuple, Any], keys: set[tuple]) -> list[str]:
    return [f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in sorted(keys, key=str) if not _same(a.get(k), b.get(k))]


# -- the Sheets API side ----------------------------------------------------------------------------

def sheets_requests(kpi: KPI, cfg: WorkbookConfig, workers: int) -> list[str]:
    from fakes.sheets_api import FakeSheets
    from sheets.auth import open_client
    from sheets.pipeline import sync

    fake = FakeSheets().start()
    info = fake.service_account()
    fake.create_spreadsheet(SHEET_ID, shared_with=[info["client_email"]])
    client = open_client(info, api_url=fake.url)
    lines = []
    try:
        for run in ("first sync", "second sync"):
            n = len(fake.sheets_calls())
            report = sync(kpi, client=client, cfg=cfg.model_copy(update={"spreadsheet": SHEET_ID}), as_of=AS_OF,
                          workers=workers)
            calls = fake.sheets_calls()[n:]
            cells = sum(lay.n_rows * lay.n_cols for lay in report.layouts)
            lines.append(f"{run}: compute {report.compute_seconds:.2f} s, write {report.write_seconds:.2f} s; "
                         f"{len(calls)} Sheets requests ({', '.join(c.kind for c in calls)}); {report.sub_requests} "
                         f"sub-requests; batchUpdate {report.bytes_sent / 1024:.0f} KB; {cells} cells in "
                         f"{len(report.tabs)} tabs")
    finally:
        fake.stop()
    return lines


# -- the table ------------------------------------------------------------------------------------

def _cell(ts: list[float]) -> str:
    return f"{statistics.median(ts):.2f} [{min(ts):.2f}–{max(ts):.2f}]" if ts else "–"


def _total(w: Way) -> list[float]:
    return [a + b for a, b in zip(w.tabs, w.quality)] if w.quality else list(w.tabs)


def _ratio(a: list[float], base: list[float]) -> str:
    return f"{statistics.median(a) / statistics.median(base):.2f}" if a and base else "–"


def markdown(ways: list[Way], hand: Way | None) -> str:
    lines = ["| way | report tabs s | Data quality s | whole compute s | report tabs / hand SQL |", "|---|--:|--:|--:|--:|"]
    for w in ways:
        lines.append(f"| {w.name} | {_cell(w.tabs)} | {_cell(w.quality)} | {_cell(_total(w))} | "
                     f"{_ratio(w.tabs, hand.tabs) if hand else '–'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench sheets", description=__doc__.splitlines()[0])
    ap.add_argument("--deals", type=int, default=1_000_000, help="dataset size (5 leads per deal)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workload", choices=("default", "wide"), default="default")
    ap.add_argument("--workers", type=int, default=4, help="concurrent core calls of the sync (1 = sequential)")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    path = dataset(args.deals)
    raw = KPI.from_path(ROOT / "definitions.yaml", connection=f"duckdb:///{path}", rollups=False)
    cfg = workbook_for(raw) if args.workload == "default" else wide(raw)
    store = Path(tempfile.mkdtemp(prefix="kpi-bench-sheets-"))
    text = (ROOT / "definitions.yaml").read_text(encoding="utf-8")
    rolled = KPI.from_text(text.replace("  directory: .kpi/rollups\n", f"  directory: {store}\n"), base_dir=ROOT,
                           backend=raw.backend)
    load0 = os.getloadavg()
    t = time.perf_counter()
    report = rolled.rollups.build(full=True)
    print(f"rollups built in {time.perf_counter() - t:.1f} s: {len(report)} parts, {sum(r['rows'] for r in report):,} "
          f"rows, {sum(r['bytes'] or 0 for r in report) / 1e6:.1f} MB")
    shape = ", ".join(f"{tb.name} ({len(tb.metrics)} metrics x {tb.periods} {tb.grain}s"
                      + (f" by {tb.breakdown.by})" if tb.breakdown else ")") for tb in cfg.tabs)
    print(f"workbook ({args.workload}): {shape}; quality tab: {cfg.quality_tab or 'none'}; "
          f"{args.deals:,} deals / {5 * args.deals:,} leads; {os.cpu_count()} cores; workers {args.workers}")
    hand, sqls = hand_way(raw.backend.connection, cfg) if args.workload == "default" else (None, {})
    ways = [w for w in (hand, kpi_way("kpi raw", raw, cfg, args.workers), kpi_way("kpi + rollups", rolled, cfg, args.workers))
            if w is not None]
    for w in ways:  # warm-up: pages in memory, statements compiled, rollup parts held
        w.run()
        w.tabs.clear()
        w.quality.clear()
    for n in range(args.runs):
        for w in (ways if n % 2 == 0 else reversed(ways)):
            w.run()
        print(f"round {n + 1}/{args.runs} done", flush=True)
    load1 = os.getloadavg()
    raw_cells, rolled_cells = kpi_cells(raw, cfg), kpi_cells(rolled, cfg)
    bad = differ(raw_cells, rolled_cells, raw_cells.keys() | rolled_cells.keys())
    print(f"kpi raw vs kpi + rollups: {len(raw_cells) - len(bad)} of {len(raw_cells)} cells equal")
    if hand is not None:
        hand_c = hand_cells(raw.backend.connection, cfg, sqls)
        values = {k for k in raw_cells if k[4] == "value"}
        bad_hand = differ(raw_cells, hand_c, values | hand_c.keys())
        print(f"kpi raw vs hand SQL: {len(values) - len(bad_hand)} of {len(values)} number cells equal")
        bad += bad_hand
    print(f"\ncompute of the {args.workload} workbook, median [min–max] of {args.runs} interleaved rounds, seconds; "
          f"load average {load0[0]:.1f} before, {load1[0]:.1f} after")
    print(markdown(ways, hand))
    for w in ways:
        if w.doctor:
            print(f"{w.name}: kpi doctor ran {len(w.doctor)} times, {_cell(w.doctor)} s"
                  + (" (checked once, then reused while the data version held)" if len(w.doctor) == 1 else ""))
    print("\n" + "\n".join(sheets_requests(rolled, cfg, args.workers)))
    raw.close()
    rolled.close()
    shutil.rmtree(store, ignore_errors=True)
    for line in bad[:20]:
        print("DIFFERS", line)
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
