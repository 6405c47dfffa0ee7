"""`kpi` when its output has nowhere to go (edge layer, real processes).

``kpi metrics | head -1``: the reader leaves before kpi writes; ``kpi query ... >&-``: a closed stdout,
which Python shows as ``sys.stdout = None``. Neither is a bug in kpi nor the user's mistake to be told
about in an error line: the command does its work, stderr stays empty, and the exit code says whether
the output could be written (1 after a broken pipe, as Python's own; 0 to a closed stdout, like to
/dev/null). Both entry points are covered: the direct `kpi query` path (cli_entry) and the Typer app.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from cli_demo import AS_OF, REPO, demo_definitions  # tests/ helper (on sys.path via conftest)

KPI_BIN = str(REPO / ".venv" / "bin" / "kpi")
COMMANDS = [
    ["query", "win_rate last-quarter", "--as-of", AS_OF],                     # cli_entry, Rich text
    ["query", "win_rate last-quarter by segment", "--as-of", AS_OF, "--csv"],  # cli_entry, csv module
    ["query", "win_rate last-quarter", "--as-of", AS_OF, "--json"],           # cli_entry, print
    ["metrics"],                                                              # the Typer app
    ["explain", "cac"],
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("KPI_DEFINITIONS", raising=False)
        path = demo_definitions(tmp_path_factory.mktemp("streams"), mp)
        yield path, {**os.environ, "KPI_CONNECTION": os.environ["KPI_CONNECTION"]}


@pytest.mark.parametrize("args", COMMANDS, ids=["query", "query-csv", "query-json", "metrics", "explain"])
def test_the_reader_leaving_ends_kpi_quietly(demo: tuple[Path, dict[str, str]], args: list[str]) -> None:
    path, env = demo
    proc = subprocess.Popen([KPI_BIN, *args, "-d", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # gone before kpi has started, let alone written: its first write meets EPIPE
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == ""  # no "internal error: BrokenPipeError", no "Exception ignored", no traceback


@pytest.mark.parametrize("args", COMMANDS, ids=["query", "query-csv", "query-json", "metrics", "explain"])
def test_a_closed_stdout_is_written_to_nowhere(demo: tuple[Path, dict[str, str]], args: list[str]) -> None:
    path, env = demo
    done = subprocess.run([KPI_BIN, *args, "-d", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          preexec_fn=lambda: os.close(1))  # `kpi ... >&-`
    assert (done.returncode, done.stderr.decode()) == (0, "")


def test_an_error_still_reaches_stderr_with_stdout_closed(demo: tuple[Path, dict[str, str]]) -> None:
    path, env = demo
    done = subprocess.run([KPI_BIN, "query", "win_rate by regoin", "-d", str(path)], stderr=subprocess.PIPE, env=env,
                          preexec_fn=lambda: os.close(1))
    assert done.returncode == 1
    assert done.stderr.decode().startswith("error: cannot break win_rate down by 'regoin'")
