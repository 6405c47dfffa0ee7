"""Benchmark of one Sheets sync: 5 tabs x 10 metrics x 24 months x a 4-value breakdown.

    .venv/bin/python bench/bench_sheets.py                     # M dataset (1M deals), made once
    .venv/bin/python bench/bench_sheets.py --scale S --workers 1

Measures, per sync: compute time (the core's ``trend`` calls, no result cache), layout + plan
time, Sheets API requests and the batchUpdate payload, for a first sync (tabs created) and a
second one (updated in place). Real gspread + google-auth talk to the loopback fake of
tests/fakes/sheets_api.py, so request counts are what Google would see.
Targets (issue 4): 2 requests per sync; compute under 2 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import duckdb  # noqa: E402

from fakes.sheets_api import FakeSheets  # noqa: E402
from metrics_core.api import KPI  # noqa: E402
from metrics_core.backends.duckdb import DuckDBBackend  # noqa: E402
from metrics_core.demo_data import SCALES, generate  # noqa: E402
from sheets.auth import open_client  # noqa: E402
from sheets.config import WorkbookConfig  # noqa: E402
from sheets.pipeline import sync  # noqa: E402

METRICS = ["conversion_rate", "lead_to_win_rate", "sales_cycle_days", "cac", "clv", "win_rate",
           "avg_deal_size", "pipeline_velocity", "ltv_cac_ratio", "cac_payback_months"]
AS_OF = date(2026, 11, 27)
SHEET_ID = "kpi-bench-sheet-0001"  # a well-formed id (10+ letters, digits, - and _)


def workbook(kpi: KPI) -> WorkbookConfig:
    """5 distinct tabs (so nothing is shared between them): 24 months by segment, region, office,
    source, and 24 months without a breakdown; each with the metrics that can be split that way."""
    known = {m.name: set(m.dimensions) for m in kpi.metrics()}
    metrics = [m for m in METRICS if m in known]
    tabs = []
    for dim in ("segment", "region", "office", "source"):
        split = [m for m in metrics if dim in known[m]]
        tabs.append({"name": f"By {dim}", "metrics": split, "grain": "month", "periods": 24,
                     "breakdown": {"by": dim}, "targets": False})
    tabs.append({"name": "Monthly", "metrics": metrics, "grain": "month", "periods": 24})
    return WorkbookConfig.model_validate({"spreadsheet": SHEET_ID, "tabs": tabs})


def data(scale: str, path: Path) -> Path:
    if not path.exists():
        t = time.perf_counter()
        con = duckdb.connect(str(path))
        generate(con, deals=SCALES[scale], until=AS_OF)
        con.close()
        print(f"generated scale {scale} in {time.perf_counter() - t:.1f} s -> {path}")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=sorted(SCALES), default="M")
    ap.add_argument("--db", type=Path, help="DuckDB file (default /tmp/kpi-bench-<scale>.duckdb; made if missing)")
    ap.add_argument("--workers", type=int, default=4, help="concurrent core calls (1 = sequential)")
    args = ap.parse_args(argv)
    db = data(args.scale, args.db or Path(f"/tmp/kpi-bench-{args.scale}.duckdb"))
    kpi = KPI.from_path(ROOT / "definitions.yaml", backend=DuckDBBackend(str(db)))
    cfg = workbook(kpi)
    shape = [(t.name, len(t.metrics)) for t in cfg.tabs]
    print(f"workbook: {shape} x 24 months; scale {args.scale}; workers {args.workers}")

    timings: list[tuple[float, str]] = []
    trend = kpi.trend

    def timed(metric: str, **kw):  # noqa: ANN202 - records each core call for the "slowest" line
        t = time.perf_counter()
        try:
            return trend(metric, **kw)
        finally:
            timings.append((time.perf_counter() - t, f"{metric} by {kw.get('grain')}{' x ' + kw['by'][0] if kw.get('by') else ''}"))

    kpi.trend = timed  # type: ignore[method-assign]
    fake = FakeSheets().start()
    info = fake.service_account()
    fake.create_spreadsheet(SHEET_ID, shared_with=[info["client_email"]])
    client = open_client(info, api_url=fake.url)
    try:
        for run in ("first sync", "second sync"):
            n = len(fake.sheets_calls())
            t = time.perf_counter()
            report = sync(kpi, client=client, cfg=cfg, as_of=AS_OF, workers=args.workers)
            total = time.perf_counter() - t
            calls = fake.sheets_calls()[n:]
            cells = sum(lay.n_rows * lay.n_cols for lay in report.layouts)
            print(f"{run}: compute {report.compute_seconds:.2f} s, write {report.write_seconds:.2f} s, "
                  f"total {total:.2f} s; {len(calls)} Sheets requests ({', '.join(c.kind for c in calls)}); "
                  f"{report.sub_requests} sub-requests; batchUpdate {report.bytes_sent / 1024:.0f} KB; "
                  f"{cells} cells in {len(report.tabs)} tabs")
            slowest = sorted(timings, reverse=True)[:5]
            print(f"  {len(timings)} core calls, {sum(t for t, _ in timings):.1f} s in all; slowest: "
                  + ", ".join(f"{what} {t:.2f} s" for t, what in slowest))
            timings.clear()
    finally:
        fake.stop()
        kpi.close()


if __name__ == "__main__":
    main()
