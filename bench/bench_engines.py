"""Warehouse engines benchmark: the reference answers on DuckDB, PostgreSQL and Spark local.

    .venv/bin/python -m bench engines [--scales S,M] [--engines duckdb,postgres,spark] [--runs 3]

For each dataset (S = 20k deals, M = 1M deals / 5M leads, built once into bench/.data/ by
bench.core), the same tables are served by the embedded DuckDB file, a throwaway PostgreSQL
server (COPY-loaded, like tests/warehouse) and a local[2] Spark session reading parquet. Every
shipped metric is asked two questions on each engine; the table shows, per question, the median
latency with the cache off ("cold": compile + engine + result assembly), the ratio to DuckDB, the
latency with a warm result cache, and whether the engine's number equals DuckDB's (rel 1e-9).

Measured 2026-11-27, 2 cores, 23 GB, 27 questions per engine (medians over the questions):

    scale  engine      cold median  cold total  x DuckDB (median row)  warm median  same
    S      DuckDB          52 ms       1.7 s          1                  12 ms       27/27
    S      PostgreSQL      51 ms       2.4 s          1.0                12 ms       27/27
    S      Spark local   1598 ms      53 s           31                  18 ms       27/27
    M      DuckDB         198 ms       8.4 s          1                  11 ms       27/27
    M      PostgreSQL    1360 ms      70 s            5.9                11 ms       27/27
    M      Spark local   3690 ms     126 s           16                  18 ms       27/27

Loading M (1M deals, 5M leads): PostgreSQL COPY + VACUUM 23 s, Spark parquet views 21 s.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "warehouse")]  # services, replicate

from bench.core import DATA, dataset  # noqa: E402
from metrics_core.api import KPI  # noqa: E402
from metrics_core.backends.duckdb import DuckDBBackend  # noqa: E402
from metrics_core.cache import ResultCache  # noqa: E402

AS_OF = date(2026, 11, 27)
SCALES = {"S": 20_000, "M": 1_000_000, "L": 10_000_000}
ENGINES = ("duckdb", "postgres", "spark")
FORMS = {"last quarter": "{m} last-quarter", "12 months by segment": "{m} last-12-months by segment grain month"}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    results = [timed(fn) for _ in range(runs)]
    return statistics.median(ms for ms, _ in results), results[-1][1]


def open_backend(engine: str, duck: DuckDBBackend, deals: int, stack: ExitStack, console: Console) -> Any:
    """The engine's backend holding the DuckDB file's tables (loaded now, load time printed)."""
    import replicate
    import services

    if engine == "duckdb":
        return duck
    t = time.perf_counter()
    if engine == "postgres":
        from metrics_core.backends.postgres import PostgresBackend

        server = services.start_postgres()
        stack.callback(server.stop)
        replicate.copy_to_postgres(duck.connection, server.url)
        backend: Any = PostgresBackend(server.url)
        stack.callback(backend.close)
    else:
        from metrics_core.backends.spark import SparkBackend, builder_for

        services.check_spark()
        builder = builder_for("spark://local[2]", warehouse_dir=str(DATA / "spark-warehouse"))
        session = builder.config("spark.driver.memory", "4g").getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        stack.callback(session.stop)
        replicate.copy_to_spark(duck.connection, session, via=DATA / f"parquet_{deals}")
        backend = SparkBackend(session, "spark://local[2]")
    console.print(f"  {engine}: loaded in {time.perf_counter() - t:.1f} s")
    return backend


def questions(kpi: KPI) -> list[tuple[str, str, str]]:
    out = []
    for m, d in kpi.definitions.metrics.items():
        for form, template in FORMS.items():
            if d.type == "constant" and "segment" in form:
                continue  # a constant has no breakdown
            out.append((m, form, template.format(m=m)))
    return out


def with_rollups(backend: Any, directory: Path, console: Console) -> tuple[KPI, dict[str, Any]]:
    """The shipped definitions with their shipped rollups built on ``backend`` (local store under
    ``directory``): the KPI, and the build's time, rows and size."""
    text = (ROOT / "definitions.yaml").read_text(encoding="utf-8").replace(
        "  directory: .kpi/rollups\n", f"  directory: {directory}\n")
    kpi = KPI.from_text(text, base_dir=ROOT, backend=backend)
    t = time.perf_counter()
    report = kpi.rollups.build(full=True)
    built = {"seconds": time.perf_counter() - t, "rows": sum(r["rows"] for r in report),
             "bytes": sum(r["bytes"] or 0 for r in report), "parts": len(report)}
    console.print(f"  {backend.dialect}: rollups built in {built['seconds']:.1f} s, {built['parts']} parts, "
                  f"{built['rows']:,} rows, {built['bytes'] / 1e6:.1f} MB")
    return kpi, built


def measure(kpi: KPI, text: str, runs: int, rolled: KPI | None = None) -> dict[str, Any]:
    cold_ms, result = median_ms(lambda: kpi.query(text, as_of=AS_OF, use_cache=False), runs)
    kpi.query(text, as_of=AS_OF)  # fills the cache
    answers = [timed(lambda: kpi.query(text, as_of=AS_OF)) for _ in range(runs)]
    hits = [ms for ms, r in answers if r.cached]  # a miss: the data version moved (or TTL)
    warm_ms = statistics.median(hits) if hits else float("nan")
    out = {"cold": cold_ms, "warm": warm_ms, "misses": runs - len(hits), "value": result.value}
    if rolled is not None:  # warm: the statement compiled once; the result cache off, so the engine runs
        rolled.query(text, as_of=AS_OF, use_cache=False)
        roll_ms, r = median_ms(lambda: rolled.query(text, as_of=AS_OF, use_cache=False), runs)
        out.update(rollup=roll_ms, served=r.sql.startswith("-- answered from rollup"), rollup_value=r.value)
    return out


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def bench_scale(scale: str, engines: list[str], runs: int, console: Console, rollups: bool = True) -> bool:
    deals = SCALES[scale]
    console.print(f"[bold]{scale}[/bold]: {deals:,} deals, {5 * deals:,} leads")
    with ExitStack() as stack:
        duck = DuckDBBackend(str(dataset(deals)), read_only=True)
        cache_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kpi-bench-cache-")))
        backends = {e: open_backend(e, duck, deals, stack, console) for e in engines}
        kpis = {e: KPI.from_path(ROOT / "definitions.yaml", backend=b, cache=ResultCache(cache_dir / e), rollups=False)
                for e, b in backends.items()}
        rolled = {e: with_rollups(b, cache_dir / e / "rollups", console) for e, b in backends.items()} if rollups else {}
        rows = [(m, form, {e: measure(k, text, runs, rolled[e][0] if e in rolled else None) for e, k in kpis.items()})
                for m, form, text in questions(kpis[engines[0]])]
    return print_table(scale, engines, runs, rows, console, {e: b for e, (_, b) in rolled.items()})


def print_table(scale: str, engines: list[str], runs: int, rows: list, console: Console,
                built: dict[str, dict] | None = None) -> bool:
    base = engines[0]
    t = Table(title=f"{scale}: kpi on each engine, median of {runs} (ms); ratio = engine / {base}; "
                    f"warm = answered from the result cache (* = some lookups missed)")
    t.add_column("metric")
    t.add_column("question")
    for e in engines:
        t.add_column(f"{e} ms", justify="right")
        if e != base:
            t.add_column(f"x {base}", justify="right")
    t.add_column("warm ms (" + " / ".join(engines) + ")", justify="right")
    if built:
        t.add_column("with rollups ms (" + " / ".join(engines) + ")", justify="right")
    t.add_column("same", justify="right")
    all_same = True
    for m, form, res in rows:
        cells = []
        for e in engines:
            cells.append(f"{res[e]['cold']:.0f}")
            if e != base:
                cells.append(f"{res[e]['cold'] / res[base]['cold']:.1f}")
        agree = all(same(res[e]["value"], res[base]["value"]) for e in engines)
        agree &= all(same(res[e]["rollup_value"], res[base]["value"]) for e in engines if "rollup" in res[e])
        all_same &= agree
        warm = "/".join(f"{res[e]['warm']:.1f}" + ("*" if res[e]["misses"] else "") for e in engines)
        if built:  # "raw": no rollup could answer, so the raw tables did
            rolled = "/".join(f"{res[e]['rollup']:.1f}" + ("" if res[e]["served"] else " raw") for e in engines)
            t.add_row(m, form, *cells, warm, rolled, "yes" if agree else "NO")
        else:
            t.add_row(m, form, *cells, warm, "yes" if agree else "NO")
    console.print(t)
    for e in engines:
        cold = [r[2][e]["cold"] for r in rows]
        warm = [r[2][e]["warm"] for r in rows if not math.isnan(r[2][e]["warm"])] or [float("nan")]
        console.print(f"  {e}: median cold {statistics.median(cold):.0f} ms, total cold {sum(cold) / 1000:.1f} s, "
                      f"median warm {statistics.median(warm):.1f} ms")
        if built and e in built:
            rolled = [r[2][e]["rollup"] for r in rows if r[2][e]["served"]]
            b = built[e]
            console.print(f"    with rollups: {len(rolled)}/{len(rows)} answers served, median {statistics.median(rolled):.1f} ms, "
                          f"max {max(rolled):.1f} ms, {sum(x <= 20 for x in rolled)}/{len(rolled)} within 20 ms; "
                          f"build {b['seconds']:.1f} s, {b['rows']:,} rows, {b['bytes'] / 1e6:.1f} MB")
    return all_same


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench engines")
    ap.add_argument("--scales", default="S,M", help="comma-separated: S (20k deals), M (1M deals), L (10M deals)")
    ap.add_argument("--engines", default=",".join(ENGINES), help="comma-separated; the first is the baseline")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-rollups", action="store_true", help="skip the 'kpi with rollups' column (and its build)")
    args = ap.parse_args(argv)
    console = Console(width=170)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    ok = all([bench_scale(s.strip().upper(), engines, args.runs, console, not args.no_rollups)
              for s in args.scales.split(",")])
    if not ok:
        console.print("[red]some engines disagree with the baseline[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
