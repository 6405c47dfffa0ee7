"""How a plain `kpi query` process ends (metrics_core/cli_entry.py ``leave``; edge layer).

The answered process skips the interpreter's teardown (``os._exit``), so these pin what that
shortcut must keep: every exit handler still runs, a thread still working is waited for, output
written to a file is complete, and the engine's connection is closed by the command itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from cli_demo import AS_OF, demo_definitions  # tests/ helper (on sys.path via conftest)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("KPI_DEFINITIONS", raising=False)
        yield demo_definitions(tmp_path_factory.mktemp("exit"), mp)


def run_main(demo: Path, prelude: str, *args: str) -> subprocess.CompletedProcess:
    """``kpi query ARGS`` through the installed entry point (cli_entry.main), after ``prelude``."""
    code = f"{prelude}\nimport sys\nsys.argv = ['kpi', *sys.argv[1:]]\nfrom metrics_core.cli_entry import main\nmain()"
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb"}
    return subprocess.run([sys.executable, "-c", code, "query", *args, "-d", str(demo), "--as-of", AS_OF],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("question, code", [("win_rate last-quarter", 0), ("win_rate by regoin", 1)])
def test_exit_handlers_run_after_the_answer(demo: Path, question: str, code: int) -> None:
    """atexit handlers (logging's, DuckDB's, coverage's) run after the answer or the error, as on a plain exit."""
    prelude = "import atexit, sys\natexit.register(lambda: print('handler ran', file=sys.stderr))"
    done = run_main(demo, prelude, question, "--json")
    assert done.returncode == code, done.stderr
    assert done.stderr.endswith("handler ran\n")
    if code == 0:
        assert json.loads(done.stdout)["metric"] == "win_rate"
    else:
        assert "regoin" in done.stderr and done.stdout == ""


def test_a_thread_still_working_is_waited_for(demo: Path) -> None:
    """A non-daemon thread (a plugin's, a driver's) finishes before the process ends: no shortcut then."""
    prelude = ("import threading, time, sys\n"
               "threading.Thread(target=lambda: (time.sleep(1.0), print('thread done', flush=True))).start()")
    done = run_main(demo, prelude, "win_rate last-quarter", "--json")
    assert done.returncode == 0, done.stderr
    answer, last = done.stdout.rsplit("\n", 2)[0], done.stdout.splitlines()[-1]
    assert last == "thread done"
    assert json.loads(answer)["metric"] == "win_rate"


def test_an_answer_written_to_a_file_is_complete(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "answer.csv"
    done = run_main(demo, "", "win_rate last-12-months by month", "-o", str(out))
    assert done.returncode == 0, done.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 12 and lines[0].startswith("metric,")


@pytest.mark.parametrize("question", ["win_rate last-quarter", "win_rate by regoin"])
def test_the_command_closes_its_engine(demo: Path, monkeypatch: pytest.MonkeyPatch, question: str) -> None:
    """`kpi query` closes the connection it opened, answered or not (a warehouse sees a clean goodbye,
    not a dropped socket, when the process then ends without teardown)."""
    from metrics_core import cli_edge
    from metrics_core.api import KPI
    from metrics_core.errors import KpiUserError

    closed: list[bool] = []
    real_close = KPI.close
    monkeypatch.setattr(KPI, "close", lambda self: (closed.append(self._backend is not None), real_close(self)))
    monkeypatch.setenv("KPI_CONNECTION", f"duckdb:///{demo.parent}/kpi.duckdb")
    try:
        cli_edge.answer_query(question, demo, AS_OF, as_json=True, no_cache=True)
    except KpiUserError:
        assert "regoin" in question
    assert closed == [question == "win_rate last-quarter"]  # the engine was opened only for the answer


def test_a_profiler_still_gets_its_report(demo: Path, tmp_path: Path) -> None:
    """`python -m cProfile -o F -m metrics_core.cli_entry query ...` writes F after the program returns:
    a process being profiled (or traced) ends the ordinary way."""
    report = tmp_path / "query.prof"
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb"}
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(report), "-m", "metrics_core.cli_entry",
                           "query", "win_rate last-quarter", "-d", str(demo), "--as-of", AS_OF, "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    import pstats

    assert any(fn[2] == "answer_query" for fn in pstats.Stats(str(report)).stats)  # type: ignore[attr-defined]
