"""Metrics-core benchmark: kpi (text in, answer out) beside hand-written DuckDB SQL, same run.

    make bench            # or: .venv/bin/python -m bench core [--deals 1000000] [--runs 5]

Builds the M dataset once into bench/.data/ (1M deals, 5M leads), then for every shipped metric
and two questions ("last quarter", "12 months by segment") prints the median latency through
kpi and of the hand-written statement for the same answer (bench/handsql.py), their ratio, and
whether both gave the same number; then cold `kpi query` process time and peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
AS_OF = date(2026, 11, 27)
FORMS = {"last quarter": "{m} last-quarter", "12 months by segment": "{m} last-12-months by segment grain month"}


def dataset(deals: int) -> Path:
    path = DATA / f"crm_{deals}.duckdb"
    if not path.exists():
        from metrics_core.demo_data import generate

        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        t = time.perf_counter()
        generate(con, deals=deals, until=AS_OF)
        con.close()
        tmp.rename(path)
        print(f"built {path.name} in {time.perf_counter() - t:.1f} s")
    return path


def median_ms(fn, runs: int) -> tuple[float, object]:  # noqa: ANN001
    out = fn()  # warm-up (and the answer)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def bench_questions(path: Path, runs: int, console: Console) -> list[tuple]:
    from bench.handsql import hand_sql
    from metrics_core import KPI

    url = f"duckdb:///{path}"  # path is absolute: duckdb:////abs/path
    kpi = KPI.from_path(ROOT / "definitions.yaml", connection=url)
    con = kpi.backend.connection  # the same storage and engine settings for the baseline
    rows = []
    for m in kpi.definitions.metrics:
        for form, template in FORMS.items():
            text = template.format(m=m)
            if m == "gross_margin" and "segment" in form:
                continue  # a constant has no breakdown
            req = kpi.plan(text, as_of=AS_OF)
            windows = [(s.period.start, s.period.end) for s in sorted(req.query.slots, key=lambda s: s.pid)]
            sql = hand_sql(m, windows, by_segment="segment" in form)
            k_ms, result = median_ms(lambda: kpi.query(text, as_of=AS_OF), runs)
            h_ms, df = median_ms(lambda: con.cursor().execute(sql).df(), runs)
            hand_value = df[(df["pid"] == 0) & (df["g"] == 1)]["value"].iloc[0]
            same = _same(result.value, hand_value)
            rows.append((m, form, k_ms, h_ms, k_ms / h_ms, same))
            console.log(f"{m:22s} {form:22s} kpi {k_ms:7.1f} ms  hand {h_ms:7.1f} ms  x{k_ms / h_ms:.2f}  {'ok' if same else 'DIFFERENT'}")
    return rows


def _same(a: float | None, b: object) -> bool:
    import math

    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None and (b is None or (isinstance(b, float) and math.isnan(b)))
    return math.isclose(a, float(b), rel_tol=1e-9, abs_tol=1e-12)


def cold_process(path: Path, runs: int = 3) -> tuple[float, float]:
    kpi = str(Path(sys.executable).parent / "kpi")
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{path}"}
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([kpi, "query", "win_rate last-quarter", "--as-of", AS_OF.isoformat(), "--json",
                        "--definitions", str(ROOT / "definitions.yaml")], check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return statistics.median(times), peak_mb


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench core")
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    console = Console()
    path = dataset(args.deals)
    rows = bench_questions(path, args.runs, console)
    cold_s, peak_mb = cold_process(path)
    t = Table(title=f"kpi vs hand-written DuckDB SQL, {args.deals:,} deals / {5 * args.deals:,} leads, "
                    f"{os.cpu_count()} cores, median of {args.runs}")
    for col in ("metric", "question", "kpi ms", "hand SQL ms", "ratio", "same number"):
        t.add_column(col, justify="left" if col in ("metric", "question") else "right")
    for m, form, k, h, ratio, same in rows:
        t.add_row(m, form, f"{k:.1f}", f"{h:.1f}", f"{ratio:.2f}", "yes" if same else "NO")
    console.print(t)
    ratios = [r[4] for r in rows]
    console.print(f"ratio: median {statistics.median(ratios):.2f}, max {max(ratios):.2f}; "
                  f"cold `kpi query` process {cold_s:.2f} s, peak memory {peak_mb:.0f} MB")
    if not all(r[5] for r in rows):
        console.print("[red]some answers differ from the hand-written SQL[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
