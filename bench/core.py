"""Metrics-core benchmark: kpi beside the SQL a skilled analyst writes by hand, same storage, same run.

    make bench            # or: .venv/bin/python -m bench core [--deals 1000000] [--runs 5] [--markdown]

Builds the M dataset once into bench/.data/ (1M deals, 5M leads), then asks every shipped metric
two questions, "last quarter" (vs the quarter before) and "12 months by segment" (by month, vs
the 12 months before), three ways on one DuckDB connection:

- **hand SQL**: bench/handsql.py, plain DuckDB SQL (``GROUP BY date_trunc``, ``MIN()`` per account,
  simple joins) returning the same cells as kpi's answer;
- **kpi raw**: ``kpi.query(text, use_cache=False)``: text in, a finished answer out (parse, compile,
  run, assemble), on the raw tables. Warm: the question was asked before in this process, as in the
  bot, the API service or a Sheets sync, so its plan (parsed windows, statement text, fine-print
  statement) comes from the KPI's memo (metrics_core/memo.py) and its fine-print counts from the
  per-data-version cache; the statement itself always runs (no result cache), from the plan DuckDB
  prepared for it the second time it ran (backends/duckdb.py: kept over base tables only), while
  the hand SQL is planned on every run, as a person's query is;
- **kpi + rollups**: the same, warm, with the shipped rollups (``rollups_answer``: built before the rounds
  into a temporary store; "raw" marks an answer no rollup could serve, "–" definitions without rollups);
- **first ask**: a question this process has not seen (``kpi.forget()`` first, on a KPI of its own):
  parse, compile, translate the fine-print statement and count it on the raw tables, then the answer,
  on the raw tables: what a one-off `kpi query` or a new question in the bot pays on top of the engine.

Rounds are interleaved (every question, every way, then the next round), so load on the machine
hits all columns alike; cells are the median with [min–max]. For the rows whose ratio is over 0.9
the summary also gives each round's own ratio (its hand SQL and kpi raw ran back to back), median
[min–max]: a row at parity changes sides of 1.0 between runs, and this shows by how much. "same"
compares every value of the answer (window totals, comparison, segment rows, series months) with
the hand SQL's, relative 1e-9. Memory is this process's own peak RSS (getrusage(RUSAGE_SELF)), and the cold ``kpi query``
process is measured by ``/usr/bin/time -v`` on that process itself.

Measured 2026-12-01 07:26-07:28 UTC, M, 2 cores, 7 rounds, nothing else of ours running (main
030d96d; the full table is in the README): kpi raw / hand SQL median 0.60, max 1.03 (cac by segment;
cac last quarter 1.00, just over; its statement has the same plan as the hand SQL, paired A/Bs of the
statements alone 0.99-1.01), 33 of 35 rows at or under 1.0; kpi + rollups max 16 ms, all 34 served
answers at or under 20 ms. A first ask costs a median 13 ms more than a warm answer (41 ms at 06:33,
before statements ran on DuckDB without the SQLGlot round trip). Every cell equal. At L (`--deals 10000000 --runs 3`,
06:54-07:00, main 2f12607): raw / hand median 0.50, max 1.02 (cac by segment), rollup answers 3-17 ms
(bench/L-2026-12-01.md).

cac, win_rate, open_deals and the derived rows: their statements read the rows with the same plans
as the hand SQL; what kpi paid more was the statement's fixed cost (planning and small pipelines:
CPU of the statement on empty tables of the same schema, 1 thread, fastest tenth of 100 runs).
Since one aggregation per statement (metrics_core/compile_split.py), last quarter / 12 months by
segment, kpi (before) vs hand: cac 5.1 / 8.2 ms (8.5 / 13.8) vs 3.9 / 6.0; win_rate 3.2 / 7.0
(4.7 / 9.9) vs 2.6 / 4.8; open_deals 3.2 / 7.0 (3.6 / 12.0) vs 3.1 / 4.7; ltv_cac_ratio 12.4 / 19.0
(14.1 / 26.3) vs 8.7 / 12.0.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import duckdb
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
AS_OF = date(2026, 11, 27)
# form -> (question template, the hand SQL's bucket, broken down by segment)
FORMS = {"last quarter": ("{m} last-quarter", "quarter", False),
         "12 months by segment": ("{m} last-12-months by segment grain month", "month", True)}


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


def rollups_answer(backend: Any, directory: Path, console: Console) -> Callable[[str], Any] | None:
    """The "kpi + rollups" column: the shipped definitions with their shipped rollups, built now (before
    the timed rounds, into ``directory``) on the same engine; None when the definitions declare none."""
    from metrics_core import KPI

    text = (ROOT / "definitions.yaml").read_text(encoding="utf-8")
    if "\nrollups:" not in text:
        return None
    kpi = KPI.from_text(text.replace("  directory: .kpi/rollups\n", f"  directory: {directory}\n"),
                        base_dir=ROOT, backend=backend)
    t = time.perf_counter()
    report = kpi.rollups.build(full=True)
    console.print(f"rollups built in {time.perf_counter() - t:.1f} s: {len(report)} parts, "
                  f"{sum(r['rows'] for r in report):,} rows, {sum(r['bytes'] or 0 for r in report) / 1e6:.1f} MB")
    return lambda q: kpi.query(q, as_of=AS_OF, use_cache=False)


@dataclass
class Row:
    metric: str
    form: str
    text: str
    hand_sql: str
    times: dict[str, list[float]] = field(default_factory=lambda: {"hand": [], "raw": [], "first": [], "rollups": []})
    same: bool = False
    detail: str = ""
    served: bool | None = None  # answered from a rollup (None: no rollups column)


def _ms(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def questions(kpi: Any) -> list[Row]:
    from bench.handsql import hand_sql

    rows = []
    for m, d in kpi.definitions.metrics.items():
        for form, (template, grain, by_segment) in FORMS.items():
            if d.type == "constant" and by_segment:
                continue  # a constant has no breakdown
            text = template.format(m=m)
            slots = {s.pid: s.period for s in kpi.plan(text, as_of=AS_OF).query.slots}
            windows = [(slots[0].start, slots[0].end), (slots[1].start, slots[1].end)]
            rows.append(Row(m, form, text, hand_sql(m, windows, grain, by_segment)))
    return rows


def check(kpi: Any, con: duckdb.DuckDBPyConnection, row: Row) -> None:
    """Every cell of kpi's statement that the answer shows, against the hand SQL's cell."""
    req = kpi.plan(row.text, as_of=AS_OF)
    c = kpi.compiled(req.query)
    got = [{k.lower(): v for k, v in rec.items()} for rec in kpi.backend.run(c.sql, c.params).records()]
    broken = bool(c.dim_cols)
    mine = {}
    for r in got:
        if broken and r["pid"] >= 2 and r["g"] == 1:
            continue  # a series bucket's total across segments: not part of the answer
        seg = r["d0"] if broken and r["g"] == 0 else None
        mine[(int(r["pid"]), seg)] = r["value"]
    hand = {(int(r.pid), None if r.g == 1 else r.seg): r.value for r in con.execute(row.hand_sql).df().itertuples(index=False)}
    bad = [k for k in mine.keys() | hand.keys() if not _same(mine.get(k), hand.get(k))]
    row.same = not bad
    row.detail = "" if not bad else f"{len(bad)} cells differ, e.g. {bad[0]}: kpi {mine.get(bad[0])} hand {hand.get(bad[0])}"


def _same(a: Any, b: Any) -> bool:
    def empty(x: Any) -> bool:
        return x is None or (isinstance(x, float) and math.isnan(x))

    if empty(a) or empty(b):
        return empty(a) and empty(b)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def bench_questions(path: Path, runs: int, console: Console) -> list[Row]:
    from metrics_core import KPI

    kpi = KPI.from_path(ROOT / "definitions.yaml", connection=f"duckdb:///{path}", rollups=False)
    con = kpi.backend.connection  # the same storage and engine settings for the baseline
    store = Path(tempfile.mkdtemp(prefix="kpi-bench-rollups-"))
    rollups = rollups_answer(kpi.backend, store, console)
    fresh = KPI.from_path(ROOT / "definitions.yaml", backend=kpi.backend, rollups=False)
    rows = questions(kpi)
    ways: dict[str, Callable[[Row], Callable[[], Any]]] = {
        "hand": lambda r: (lambda: con.cursor().execute(r.hand_sql).fetchall()),
        "raw": lambda r: (lambda: kpi.query(r.text, as_of=AS_OF, use_cache=False)),
        # a question this process has not seen: parsed, compiled, its fine print counted on the raw tables
        # (its own KPI, so forgetting leaves the "kpi raw" column's memo alone)
        "first": lambda r: (lambda: (fresh.forget(), fresh.query(r.text, as_of=AS_OF, use_cache=False))),
    }
    if rollups is not None:
        ways["rollups"] = lambda r: (lambda: rollups(r.text))
    for r in rows:  # warm-up (compiles, loads the file's pages) and the equality check
        raw = ways["raw"](r)()
        ways["hand"](r)()
        check(kpi, con, r)
        if rollups is not None:
            rolled = rollups(r.text)
            r.served = rolled.sql.startswith("-- answered from rollup")
            if not _same(rolled.value, raw.value):
                r.same, r.detail = False, f"with rollups {rolled.value} != raw {raw.value}"
    for n in range(runs):
        for r in rows:
            for name, way in (ways.items() if n % 2 == 0 else reversed(ways.items())):
                r.times[name].append(_ms(way(r)))
        console.log(f"round {n + 1}/{runs} done")
    shutil.rmtree(store, ignore_errors=True)
    return rows


def _cell(ts: list[float]) -> str:
    if not ts:
        return "–"
    return f"{statistics.median(ts):.0f} [{min(ts):.0f}–{max(ts):.0f}]"


def _rolled(r: Row) -> str:
    return _cell(r.times["rollups"]) + (" raw" if r.served is False else "")  # "raw": no rollup could answer


def _ratio(a: list[float], b: list[float]) -> str:
    return f"{statistics.median(a) / statistics.median(b):.2f}" if a and b else "–"


def cold_process(path: Path, runs: int = 3) -> tuple[float, float | None]:
    """Wall time and peak RSS of a fresh `kpi query` process, measured on that process itself."""
    kpi = str(Path(sys.executable).parent / "kpi")
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{path}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # kpi's modules compiled, as `pip install` leaves them (bench_cli.py)
    cmd = [kpi, "query", "win_rate last-quarter", "--as-of", AS_OF.isoformat(), "--json",
           "--definitions", str(ROOT / "definitions.yaml")]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    times, peaks = [], []
    for _ in range(runs):
        t = time.perf_counter()
        done = subprocess.run([*timer, *cmd], check=True, capture_output=True, env=env, text=True)
        times.append(time.perf_counter() - t)
        hit = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if hit:
            peaks.append(int(hit.group(1)) / 1024)
    return statistics.median(times), (statistics.median(peaks) if peaks else None)


def table(rows: list[Row], title: str) -> Table:
    t = Table(title=title)
    for col in ("metric", "question", "hand SQL ms", "kpi raw ms", "kpi + rollups ms", "raw / hand",
                "rollups / hand", "first ask ms", "same"):
        t.add_column(col, justify="left" if col in ("metric", "question") else "right")
    for r in rows:
        t.add_row(r.metric, r.form, _cell(r.times["hand"]), _cell(r.times["raw"]), _rolled(r),
                  _ratio(r.times["raw"], r.times["hand"]), _ratio(r.times["rollups"], r.times["hand"]),
                  _cell(r.times["first"]), "yes" if r.same else "NO")
    return t


def markdown(rows: list[Row]) -> str:
    lines = ["| metric | question | hand SQL ms | kpi raw ms | kpi + rollups ms | raw / hand | rollups / hand "
             "| first ask ms | same |", "|---|---|--:|--:|--:|--:|--:|--:|:-:|"]
    for r in rows:
        lines.append(f"| {r.metric} | {r.form} | {_cell(r.times['hand'])} | {_cell(r.times['raw'])} | "
                     f"{_rolled(r)} | {_ratio(r.times['raw'], r.times['hand'])} | "
                     f"{_ratio(r.times['rollups'], r.times['hand'])} | {_cell(r.times['first'])} | "
                     f"{'yes' if r.same else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench core")
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown (for the README)")
    args = ap.parse_args(argv)
    console = Console(width=160)
    path = dataset(args.deals)
    rows = bench_questions(path, args.runs, console)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    cold_s, cold_mb = cold_process(path)
    console.print(table(rows, f"kpi vs hand-written DuckDB SQL, {args.deals:,} deals / {5 * args.deals:,} leads, "
                              f"{os.cpu_count()} cores, median [min–max] of {args.runs} interleaved rounds"))
    if args.markdown:
        print(markdown(rows))
    ratios = [statistics.median(r.times["raw"]) / statistics.median(r.times["hand"]) for r in rows]
    rolled = [statistics.median(r.times["rollups"]) for r in rows if r.times["rollups"] and r.served]
    unserved = [f"{r.metric} {r.form}" for r in rows if r.times["rollups"] and not r.served]
    firsts = [statistics.median(r.times["first"]) - statistics.median(r.times["raw"]) for r in rows]
    console.print(f"kpi raw / hand SQL: median {statistics.median(ratios):.2f}, max {max(ratios):.2f}, "
                  f"{sum(x <= 1.0 for x in ratios)}/{len(ratios)} rows at or under 1.0; "
                  + (f"kpi + rollups: max {max(rolled):.0f} ms, {sum(x <= 20 for x in rolled)}/{len(rolled)} "
                     f"rollup-served answers at or under 20 ms"
                     + (f" ({len(unserved)} answered raw: {', '.join(unserved)})" if unserved else "") + "; "
                     if rolled else "")
                  + f"a first ask costs {statistics.median(firsts):.0f} ms more than a warm one (median; "
                  f"max {max(firsts):.0f}); "
                  f"peak RSS of this process {peak_mb:.0f} MB; cold `kpi query` process {cold_s:.2f} s, "
                  + (f"peak RSS {cold_mb:.0f} MB" if cold_mb else "peak RSS not measured (no /usr/bin/time)"))
    # a row near 1.0 changes sides between runs on a noisy host: each round's own ratio (hand SQL and
    # kpi raw ran back to back in it) shows how far it is from 1.0 better than one ratio of medians
    near = [(r, sorted(a / b for a, b in zip(r.times["raw"], r.times["hand"]))) for r, x in zip(rows, ratios) if x > 0.9]
    if near:
        console.print("rows near 1.0, kpi raw / hand SQL of each round, median \\[min–max]: " + "; ".join(
            f"{r.metric} {r.form} {statistics.median(p):.2f} [{p[0]:.2f}–{p[-1]:.2f}]" for r, p in near))
    for r in rows:
        if not r.same:
            console.print(f"[red]{r.metric} {r.form}: {r.detail}[/red]")
    if not all(r.same for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
