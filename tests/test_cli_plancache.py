"""Planned questions and statements kept on disk between `kpi query` processes (metrics_core/plancache.py).

The real `kpi` is run against a small demo DuckDB, each test with its own cache directory: the first
run of a question compiles it (and imports SQLGlot), the next one reads the plan cache and imports
no SQLGlot, and every answer is byte for byte the one `--no-cache` gives.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from cli_demo import demo_definitions  # tests/ helper (on sys.path via conftest)

from metrics_core import plancache
from metrics_core.api import KPI
from metrics_core.load import load_definitions

REPO = Path(__file__).resolve().parent.parent
KPI_BIN = str(REPO / ".venv" / "bin" / "kpi")
AS_OF = "2026-11-27"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        path = demo_definitions(tmp_path_factory.mktemp("plancache"), mp)
    yield path


def run_kpi(defs: Path, xdg: Path, *args: str, as_of: str = AS_OF, db: Path | None = None
            ) -> tuple[subprocess.CompletedProcess, set[str]]:
    """The installed `kpi query`: (process, every module it imported)."""
    db = db or defs.parent / "kpi.duckdb"
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{db}", "XDG_CACHE_HOME": str(xdg),
           "PYTHONPROFILEIMPORTTIME": "1", "COLUMNS": "100"}
    env.pop("KPI_DEFINITIONS", None)
    proc = subprocess.run([KPI_BIN, "query", *args, "-d", str(defs), "--as-of", as_of], capture_output=True,
                          text=True, env=env)
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    proc.stderr = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("import time:"))
    return proc, modules


QUESTIONS = [["win_rate last-quarter"], ["win_rate last-quarter", "--json"], ["win_rate last-quarter by segment"],
             ["cac 2026-Q3 by month", "--sql"], ["win_rate, cac last-quarter by segment"],
             ["lead_to_win_rate last-month", "--json"], ["win_rate last-quarter", "--csv"]]


@pytest.mark.parametrize("args", QUESTIONS, ids=lambda a: " ".join(a))
def test_a_question_asked_again_is_answered_the_same_without_sqlglot(demo: Path, tmp_path: Path,
                                                                    args: list[str]) -> None:
    xdg = tmp_path / "xdg"
    first, first_modules = run_kpi(demo, xdg, *args)
    again, again_modules = run_kpi(demo, xdg, *args)
    bypass, bypass_modules = run_kpi(demo, xdg, *args, "--no-cache")
    assert first.returncode == again.returncode == bypass.returncode == 0, (first.stderr + again.stderr)[-2000:]
    assert first.stdout == again.stdout == bypass.stdout and again.stderr == first.stderr == ""
    assert "sqlglot" in first_modules and "sqlglot" in bypass_modules  # compiled
    assert not {m for m in again_modules if m.split(".")[0] == "sqlglot"}, "a planned question imported SQLGlot"
    assert "metrics_core.compile" not in again_modules


def test_a_no_cache_run_keeps_what_other_questions_planned(demo: Path, tmp_path: Path) -> None:
    """Regression: a --no-cache process (which reads no plans) stored only its own, and the next ask of
    every other question compiled again (the bench's "by segment" row gained nothing)."""
    xdg = tmp_path / "xdg"
    run_kpi(demo, xdg, "win_rate last-quarter by segment")
    run_kpi(demo, xdg, "win_rate last-quarter", "--no-cache")
    again, modules = run_kpi(demo, xdg, "win_rate last-quarter by segment")
    assert again.returncode == 0 and "sqlglot" not in modules
    _proc, modules = run_kpi(demo, xdg, "win_rate last-quarter")
    assert "sqlglot" not in modules


def test_a_filtered_question_still_checks_its_values(demo: Path, tmp_path: Path) -> None:
    """A filter's values are checked against the data on every ask (that reads data): same answers, and a
    value no row has is still refused the second time."""
    xdg = tmp_path / "xdg"
    good = [run_kpi(demo, xdg, "win_rate last-quarter where segment=SMB", "--json")[0] for _ in range(2)]
    assert good[0].returncode == good[1].returncode == 0 and good[0].stdout == good[1].stdout
    for _ in range(2):
        bad, _modules = run_kpi(demo, xdg, "win_rate last-quarter where segment=SMBB")
        assert bad.returncode == 1 and "SMBB" in bad.stderr and "did you mean 'SMB'" in bad.stderr


def test_an_edited_definition_is_compiled_again(demo: Path, tmp_path: Path) -> None:
    defs = tmp_path / "definitions.yaml"
    shutil.copy(demo, defs)
    xdg = tmp_path / "xdg"
    db = demo.parent / "kpi.duckdb"
    before, _m = run_kpi(defs, xdg, "win_rate last-quarter", "--json", "--sql", db=db)
    assert before.returncode == 0, before.stderr
    text = defs.read_text(encoding="utf-8")
    assert "label: Win rate\n" in text and "deal_type = 'new_business'" in text
    defs.write_text(text.replace("deal_type = 'new_business'", "deal_type = 'renewal'"), encoding="utf-8")
    after, modules = run_kpi(defs, xdg, "win_rate last-quarter", "--json", "--sql", db=db)
    assert after.returncode == 0, after.stderr
    assert "sqlglot" in modules  # compiled anew, not read from the plan of the old file
    assert "'renewal'" in after.stdout and "'renewal'" not in before.stdout
    assert after.stdout != before.stdout


def test_another_day_is_planned_again(demo: Path, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    nov, _m = run_kpi(demo, xdg, "win_rate last-month", "--json")
    oct_, modules = run_kpi(demo, xdg, "win_rate last-month", "--json", as_of="2026-10-15")
    assert '"start": "2026-10-01"' in nov.stdout and '"start": "2026-09-01"' in oct_.stdout
    assert "sqlglot" in modules


# -- the file itself ----------------------------------------------------------------------------------

@pytest.fixture
def kpi(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KPI:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KPI_CONNECTION", f"duckdb:///{demo.parent}/kpi.duckdb")
    k = KPI(load_definitions(demo, sections=False, disk_cache=True))
    k.query_many("win_rate last-quarter")
    assert plancache.store(k)
    return k


def fresh(kpi: KPI) -> KPI:
    return KPI(kpi.loaded)


def test_stored_entries_come_back(kpi: KPI) -> None:
    again = fresh(kpi)
    assert plancache.preload(again) == len([k for k, _v in kpi.plans.items() if k[0] in plancache.KEEP]) > 0
    again.query_many("win_rate last-quarter")
    assert again.plans.stats.misses == 0 and not plancache.store(again)  # nothing new: nothing written


def test_other_definitions_or_connection_find_nothing(kpi: KPI, demo: Path) -> None:
    other_url = KPI(kpi.loaded, connection=f"duckdb:///{demo.parent}/other.duckdb")
    assert plancache.key_of(other_url) != plancache.key_of(kpi) and plancache.preload(other_url) == 0
    from dataclasses import replace

    other_file = KPI(replace(kpi.loaded, digest="another version"))
    assert plancache.preload(other_file) == 0
    assert plancache.key_of(KPI(replace(kpi.loaded, digest=None))) is None  # not read through the cache


class Boom:
    def __reduce__(self) -> tuple:
        return (os.system, ("touch pwned-by-plan-cache",))


@pytest.mark.parametrize("damage", ["truncated", "foreign code", "group-writable", "not a pickle"])
def test_a_damaged_or_foreign_file_is_ignored(kpi: KPI, damage: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (path,) = plancache.cache_dir().glob("*.pickle")
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "foreign code":
        path.write_bytes(pickle.dumps((plancache.FORMAT, plancache.key_of(kpi), [(("compiled",), Boom())])))
    elif damage == "group-writable":
        path.chmod(0o664)
    else:
        path.write_bytes(b"\x00" * 64)
    again = fresh(kpi)
    assert plancache.preload(again) == 0 and len(again.plans) == 0
    assert not (tmp_path / "pwned-by-plan-cache").exists()
    assert again.query_many("win_rate last-quarter").results[0].value == kpi.query_many("win_rate last-quarter").results[0].value


def test_a_cache_that_cannot_be_written_is_no_cache(kpi: KPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    again = fresh(kpi)
    assert plancache.preload(again) == 0
    again.query_many("win_rate last-quarter")
    assert not plancache.store(again)


def test_a_value_pickle_cannot_take_is_not_kept_and_raises_nothing(kpi: KPI) -> None:
    again = fresh(kpi)
    again.plans.get(("compiled", "a statement of a plugin"), lambda: (lambda: "not picklable"))
    assert again.plans.stats.misses == 1
    assert plancache.store(again) is False
    assert plancache.preload(fresh(kpi)) > 0  # what was kept before is still there
