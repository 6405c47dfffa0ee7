"""Cold `kpi query` benchmark: a fresh process per answer, beside the floor a skilled person would hit.

    python -m bench cli [--rounds 7] [--deals 20000] [--compare-with OTHER/.venv/bin/kpi]

Every round starts, one after the other (interleaved, so load on the machine hits them alike):

  floor         `python -c "import duckdb"`: the interpreter and the engine, nothing answered
  bare DuckDB   a Python process that opens the same file and runs plain hand-written SQL for
                "win rate, Q3 2026" (no kpi; the number must equal kpi's)
  kpi query     `kpi query "win_rate last-quarter"` (the terminal answer), then `--json`, then
                `... by segment`, then `--no-cache` (the definitions parsed and checked again, as
                on the first run after an edit); with --compare-with, the same commands of another install

Each install's processes share a cache directory of their own (XDG_CACHE_HOME, a temporary one per
install: the definitions cache keeps one entry per file, keyed by the code that validated it, so two
installs sharing one would evict each other), warmed by one unmeasured run of each command, so the
`kpi query` rows read the validated definitions from the definitions cache, as every run after the
first does for a user. The warm-up also leaves kpi's compiled bytecode (``__pycache__``), as
``pip install`` does: PYTHONDONTWRITEBYTECODE is dropped from the children's environment, or a
source checkout would be measured compiling its ~50 modules on every run (about 75 ms).

Each process is measured on its own: wall time around it, CPU (user + sys) and peak RSS from
``os.wait4`` -- the rusage of exactly that child, not the sum or the maximum over all children. A
forked child starts with its parent's resident pages counted, so this process stays small (no
DuckDB, pandas or Rich here; the data is built in a subprocess) and prints its own peak beside the
table: every number below is the child's own only while the parent's is under the floor.

Data: the demo CRM (`kpi demo`: 20,000 deals, seed 7) ending 2026-11-27, in bench/.data/.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
AS_OF = "2026-11-27"

# Win rate for Q3 2026 as an analyst writes it against the raw CRM table: the stage spellings are
# the CRM's, mapped the way definitions.yaml maps them (trimmed, lower-cased); new business only.
BARE_SQL = """
SELECT count(*) FILTER (WHERE s IN ('closed won', 'won')) / count(*) AS win_rate
FROM (SELECT lower(trim(stage)) AS s FROM crm_deals
      WHERE closed_at BETWEEN DATE '2026-07-01' AND DATE '2026-09-30' AND deal_type = 'new_business')
WHERE s IN ('closed won', 'won', 'closed lost', 'closed-lost')
"""


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # seconds, user + sys
    peak_mb: float  # the child's own peak resident set
    stdout: str


def measure(argv: list[str], env: dict[str, str]) -> Run:
    """One fresh process: wall time, CPU and peak RSS of exactly that child (os.wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:4])} ... failed ({proc.returncode}):\n{err.read().decode()[-2000:]}")
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode())


def demo_data(deals: int) -> Path:
    """The demo CRM (built once, in a subprocess so this process stays small)."""
    path = DATA / f"demo_{deals}.duckdb"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        code = ("import sys, duckdb, datetime; from metrics_core.demo_data import generate; "
                "con = duckdb.connect(sys.argv[1]); "
                "generate(con, deals=int(sys.argv[2]), until=datetime.date.fromisoformat(sys.argv[3]), seed=7); "
                "con.close()")
        subprocess.run([sys.executable, "-c", code, str(tmp), str(deals), AS_OF], check=True)
        tmp.rename(path)
    return path


def commands(db: Path, kpi_bins: dict[str, str]) -> dict[str, list[str]]:
    py = sys.executable
    bare = ("import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print(con.execute(sys.argv[2]).fetchone()[0])")
    out = {"floor: python -c 'import duckdb'": [py, "-c", "import duckdb"],
           "bare DuckDB process, same number": [py, "-c", bare, str(db), BARE_SQL]}
    for name, kpi in kpi_bins.items():
        q = [kpi, "query", "--as-of", AS_OF, "--definitions", str(ROOT / "definitions.yaml")]
        out[f"{name}: win_rate last-quarter"] = [*q[:2], "win_rate last-quarter", *q[2:]]
        out[f"{name}: ... --json"] = [*q[:2], "win_rate last-quarter", *q[2:], "--json"]
        out[f"{name}: ... by segment"] = [*q[:2], "win_rate last-quarter by segment", *q[2:]]
        out[f"{name}: ... --no-cache"] = [*q[:2], "win_rate last-quarter", *q[2:], "--no-cache"]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench cli")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--deals", type=int, default=20_000, help="demo size (kpi demo makes 20,000)")
    ap.add_argument("--compare-with", metavar="KPI", help="another install's kpi script, measured alongside")
    args = ap.parse_args(argv)
    db = demo_data(args.deals)
    bins = {"kpi": str(Path(sys.executable).parent / "kpi")}
    if args.compare_with:
        bins["other"] = args.compare_with
    cmds = commands(db, bins)
    runs: dict[str, list[Run]] = {name: [] for name in cmds}
    with tempfile.TemporaryDirectory(prefix="kpi-bench-cache-") as cache:
        base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        base["KPI_CONNECTION"] = f"duckdb:///{db}"
        envs = {name: {**base, "XDG_CACHE_HOME": os.path.join(cache, name.split(":")[0])} for name in cmds}
        for name, argv_ in cmds.items():
            measure(argv_, envs[name])  # warm-up: the caches filled, the bytecode written, the files in the page cache
        for _ in range(args.rounds):
            for name, argv_ in cmds.items():
                runs[name].append(measure(argv_, envs[name]))
    print_table(runs, args)
    check_same_number(runs)


def print_table(runs: dict[str, list[Run]], args: argparse.Namespace) -> None:
    floor = statistics.median(r.wall for r in runs["floor: python -c 'import duckdb'"])
    print(f"Cold processes, demo data ({args.deals:,} deals), {os.cpu_count()} cores, "
          f"median [min-max] of {args.rounds} interleaved rounds")
    print()
    print("| process | wall s | CPU s | peak RSS MB | wall vs floor |")
    print("|---|---:|---:|---:|---:|")
    for name, rs in runs.items():
        wall, cpu, rss = ([getattr(r, k) for r in rs] for k in ("wall", "cpu", "peak_mb"))
        print(f"| {name} | {_med(wall, 2)} | {_med(cpu, 2)} | {_med(rss, 0)} | "
              f"{statistics.median(wall) / floor:.1f}x |")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(this benchmark process peaked at {own:.0f} MB; a child's peak counts pages it shares at fork, "
          "so the figures above are the children's own while that stays below the floor's)")


def _med(xs: list[float], digits: int) -> str:
    return f"{statistics.median(xs):.{digits}f} [{min(xs):.{digits}f}-{max(xs):.{digits}f}]"


def check_same_number(runs: dict[str, list[Run]]) -> None:
    bare = float(runs["bare DuckDB process, same number"][0].stdout)
    kpi = json.loads(runs["kpi: ... --json"][0].stdout)["value"]
    same = abs(bare - kpi) <= 1e-12 * max(1.0, abs(bare))
    print(f"win rate Q3 2026: bare DuckDB {bare!r}, kpi {kpi!r}: {'same number' if same else 'DIFFERENT'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
