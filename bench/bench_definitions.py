"""`python -m bench definitions [--metrics 500]`: how long loading a big definitions file takes.

A file with the shipped tables plus N generated measures and metrics (a third simple, a third
ratio, a third derived on earlier ones, nesting up to 5 deep) is loaded the way every command
does (`load_definitions`: YAML with lines, pydantic, every semantic rule, sections), cold: the cache of
parsed texts is emptied before each run. The baseline
is what anyone reading the file needs at the least: `yaml.safe_load` of the same text (C loader
when present). Median of 5 runs; memory is this process's own peak.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from metrics_core import load as load_module
from metrics_core.load import load_definitions

ROOT = Path(__file__).resolve().parent.parent


def big_definitions(n: int) -> str:
    shipped = (ROOT / "definitions.yaml").read_text(encoding="utf-8")
    head = shipped.split("\nmeasures:\n", 1)[0]
    measures, metrics = [], []
    for i in range(n):
        stage = ("won", "lost", "open")[i % 3]
        measures.append(f"  m{i}:\n    table: deals\n    agg: {'count' if i % 2 else 'sum'}\n"
                        + ("" if i % 2 else "    expr: amount\n")
                        + f"    filter: \"stage = '{stage}' AND amount > {i}\"\n    time: created_at\n")
        kind = i % 3
        if kind == 0 or i < 10:
            body = f"    measure: m{i}\n"
        elif kind == 1:
            body = f"    numerator: m{i}\n    denominator: m{i - 1}\n"
        else:
            body = f"    expr: k{i - 1} + k{i - 3 if (i // 3) % 5 else i - 10}\n"
        metrics.append(f"  k{i}:\n{body}    description: generated metric {i}\n    synonyms: [gen {i}]\n")
    return head + "\nmeasures:\n" + "".join(measures) + "\nmetrics:\n" + "".join(metrics)


def median_seconds(fn, runs: int = 5) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _cold(path: Path) -> None:
    """One load as a new process does it: the in-process cache of parsed texts emptied first (timing a
    cache hit measured a dictionary lookup: "0.000 s")."""
    load_module._PARSED.clear()
    load_definitions(path)


def main(args: list[str]) -> None:
    p = argparse.ArgumentParser(prog="python -m bench definitions")
    p.add_argument("--metrics", type=int, default=500)
    n = p.parse_args(args).metrics
    text = big_definitions(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "definitions.yaml"
        path.write_text(text, encoding="utf-8")
        loaded = load_definitions(path)
        assert len(loaded.defs.metrics) == n
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        base = median_seconds(lambda: yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader
        ours = median_seconds(lambda: _cold(path))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| definitions load, {n} metrics ({len(text) / 1024:.0f} KB) | kpi | baseline yaml.safe_load | ratio |")
    print("|---|---|---|---|")
    print(f"| median of 5 | {ours:.3f} s | {base:.3f} s | {ours / base:.1f}x |")
    print(f"peak memory of this process: {peak:.0f} MB")
