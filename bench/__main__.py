"""`python -m bench [core|cli|bot|sheets|engines|definitions|all] [args]`: the benchmarks (never timed tests in CI).

`make bench` runs `core` and `cli` (the metrics-core and cold-command tables in the README); the
others belong to the Slack bot, the Sheets sync and the warehouse engines.
"""

from __future__ import annotations

import importlib
import sys

SUITES = {"core": "bench.core", "cli": "bench.bench_cli", "bot": "bench.bench_bot", "sheets": "bench.bench_sheets",
          "engines": "bench.bench_engines", "definitions": "bench.bench_definitions"}


def main() -> None:
    args = sys.argv[1:]
    which = args.pop(0) if args and args[0] in (*SUITES, "all") else "core"
    for name in (SUITES if which == "all" else [which]):
        print(f"== bench {name} ==", flush=True)
        importlib.import_module(SUITES[name]).main(args if which != "all" else [])


if __name__ == "__main__":
    main()
