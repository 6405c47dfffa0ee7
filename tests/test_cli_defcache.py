"""Validated definitions kept on disk between `kpi query` processes (metrics_core/defcache.py, load.py).

Each test gets its own cache directory (XDG_CACHE_HOME) and empties the in-process memo of parsed
files between loads, so every load below is what a fresh process would do. Whether the checks ran
is seen by counting calls of ``validate.check`` (the real one runs; nothing is faked).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from cli_demo import demo_definitions  # tests/ helper (on sys.path via conftest)
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics_core import defcache, load, validate
from metrics_core.errors import DefinitionError
from metrics_core.load import load_definitions
from metrics_core.yamlio import LineDict, LineList, load_yaml

REPO = Path(__file__).resolve().parent.parent
KPI_BIN = str(REPO / ".venv" / "bin" / "kpi")
AS_OF = "2026-11-27"
YAML_FILES = sorted([REPO / "definitions.yaml", *REPO.glob("examples/*/definitions.yaml")])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "kpi" / "definitions"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source of every file whose meaning was checked (validate.check ran)."""
    seen: list[str] = []
    real = validate.check

    def counting(defs, raw, source):  # noqa: ANN001, ANN202 - same signature as validate.check
        seen.append(source)
        return real(defs, raw, source)

    monkeypatch.setattr(validate, "check", counting)
    return seen


@pytest.fixture
def defs_file(tmp_path: Path) -> Path:
    path = tmp_path / "definitions.yaml"
    shutil.copy(REPO / "definitions.yaml", path)
    return path


def fresh_load(path: Path, *, use_cache: bool = True) -> load.Loaded:
    """What a new `kpi query` process does: nothing remembered in memory."""
    load._PARSED.clear()
    return load_definitions(path, sections=False, disk_cache=True, use_cache=use_cache)


def bump_mtime(path: Path, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


def test_the_second_load_is_a_hit_and_equal(defs_file: Path, cache: Path, checks: list[str]) -> None:
    first = fresh_load(defs_file)
    assert checks == [str(defs_file)] and len(list(cache.glob("*.json"))) == 1
    second = fresh_load(defs_file)
    assert checks == [str(defs_file)]  # not checked again
    assert second.defs == first.defs and second.base_dir == first.base_dir and second.source == first.source
    assert load.line_of(second.raw, ("metrics", "win_rate")) == load.line_of(first.raw, ("metrics", "win_rate"))
    fresh_load(defs_file, use_cache=False)  # --no-cache: checked, whatever is stored
    assert len(checks) == 2


def test_an_edit_of_the_same_size_is_checked_again(defs_file: Path, cache: Path, checks: list[str]) -> None:
    fresh_load(defs_file)
    before = defs_file.stat()
    text = defs_file.read_text(encoding="utf-8")
    assert "label: Win rate\n" in text
    defs_file.write_text(text.replace("label: Win rate\n", "label: Win RATE\n", 1), encoding="utf-8")
    bump_mtime(defs_file, before.st_mtime_ns + 10**9)
    assert defs_file.stat().st_size == before.st_size
    assert fresh_load(defs_file).defs.metrics["win_rate"].label == "Win RATE"
    assert len(checks) == 2
    assert len(list(cache.glob("*.json"))) == 1  # the new version replaced the old entry


def test_an_edit_that_keeps_size_and_mtime_is_checked_again(defs_file: Path, cache: Path, checks: list[str]) -> None:
    fresh_load(defs_file)
    before = defs_file.stat()
    text = defs_file.read_text(encoding="utf-8")
    defs_file.write_text(text.replace("label: Win rate\n", "label: Win RATE\n", 1), encoding="utf-8")
    bump_mtime(defs_file, before.st_mtime_ns)  # the same size and mtime: only the text tells
    assert (defs_file.stat().st_size, defs_file.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert fresh_load(defs_file).defs.metrics["win_rate"].label == "Win RATE"
    assert len(checks) == 2


def test_a_broken_file_is_reported_every_time_and_never_stored(defs_file: Path, cache: Path, checks: list[str]) -> None:
    fresh_load(defs_file)
    before = defs_file.stat()
    text = defs_file.read_text(encoding="utf-8")
    assert "numerator: won_new_deals\n" in text
    defs_file.write_text(text.replace("numerator: won_new_deals\n", "numerator: won_new_dealz\n", 1), encoding="utf-8")
    bump_mtime(defs_file, before.st_mtime_ns)  # same size and mtime as the good version that is stored
    stored = {p: p.read_bytes() for p in cache.glob("*.json")}
    for _ in range(2):
        with pytest.raises(DefinitionError, match="won_new_dealz"):
            fresh_load(defs_file)
    assert {p: p.read_bytes() for p in cache.glob("*.json")} == stored  # the good entry stays as it was
    assert len(checks) == 3


def test_a_changed_environment_variable_is_checked_again(tmp_path: Path, cache: Path, checks: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped file reads ${KPI_CONNECTION}; a measure reading ${AMOUNT_COLUMN} must be re-checked
    when that variable names a column that does not exist."""
    path = tmp_path / "definitions.yaml"
    text = (REPO / "definitions.yaml").read_text(encoding="utf-8")
    assert "expr: amount\n" in text
    path.write_text(text.replace("expr: amount\n", "expr: ${AMOUNT_COLUMN:-amount}\n", 1), encoding="utf-8")
    monkeypatch.delenv("AMOUNT_COLUMN", raising=False)
    fresh_load(path)
    fresh_load(path)
    assert len(checks) == 1
    monkeypatch.setenv("AMOUNT_COLUMN", "amount_typo")
    with pytest.raises(DefinitionError, match="amount_typo"):
        fresh_load(path)
    monkeypatch.setenv("KPI_CONNECTION", "duckdb:///elsewhere.duckdb")
    monkeypatch.setenv("AMOUNT_COLUMN", "amount")
    assert fresh_load(path).defs.connection.url == "duckdb:///elsewhere.duckdb"
    assert len(checks) == 3


def test_secrets_from_the_environment_are_not_written(tmp_path: Path, cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "definitions.yaml"
    text = (REPO / "definitions.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("${KPI_CONNECTION:-", "${KPI_TEST_URL:-", 1), encoding="utf-8")
    monkeypatch.setenv("KPI_TEST_URL", "postgresql://kpi:s3cret-Value-42@db/crm")
    assert fresh_load(path).defs.connection.url == "postgresql://kpi:s3cret-Value-42@db/crm"
    assert fresh_load(path).defs.connection.url == "postgresql://kpi:s3cret-Value-42@db/crm"  # from the cache
    (entry,) = cache.glob("*.json")
    assert "s3cret" not in entry.read_text(encoding="utf-8") and "${KPI_TEST_URL:-" in entry.read_text(encoding="utf-8")


@pytest.mark.parametrize("damage", ["truncated", "not json", "tree altered", "other key", "group-writable"])
def test_a_damaged_entry_is_ignored(defs_file: Path, cache: Path, checks: list[str], damage: str) -> None:
    good = fresh_load(defs_file)
    (entry,) = cache.glob("*.json")
    data = entry.read_text(encoding="utf-8")
    if damage == "truncated":
        entry.write_text(data[: len(data) // 2], encoding="utf-8")
    elif damage == "not json":
        entry.write_bytes(b"\x00\xff" * 100)
    elif damage == "tree altered":  # valid JSON, a different label: the checksum no longer matches
        entry.write_text(data.replace('"Win rate"', '"Lose rate"', 1), encoding="utf-8")
    elif damage == "other key":
        doc = json.loads(data)
        doc["key"]["size"] += 1
        entry.write_text(json.dumps(doc), encoding="utf-8")
    else:
        entry.chmod(0o664)
    again = fresh_load(defs_file)
    assert again.defs == good.defs and again.defs.metrics["win_rate"].label == "Win rate"
    assert len(checks) == 2  # checked again, then stored again
    fresh_load(defs_file)
    assert len(checks) == 2


def test_a_cache_that_cannot_be_written_is_no_cache(defs_file: Path, tmp_path: Path, checks: list[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # mkdir under a file fails
    assert fresh_load(defs_file).defs.metrics["win_rate"].label == "Win rate"
    assert fresh_load(defs_file).defs.metrics["win_rate"].label == "Win rate"
    assert len(checks) == 2


def test_new_code_is_a_new_key(defs_file: Path, cache: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_load(defs_file)
    monkeypatch.setattr(defcache, "code_version", lambda: "another kpi")
    fresh_load(defs_file)
    assert len(checks) == 2


def test_only_kpi_query_reads_through_the_cache(defs_file: Path, cache: Path, checks: list[str]) -> None:
    """Section validators are other packages' code: a load that checks sections never uses the cache."""
    for _ in range(2):
        load._PARSED.clear()
        load_definitions(defs_file, sections=True, disk_cache=True)
    assert len(checks) == 2 and not cache.exists()


def with_lines(data: object) -> object:
    if isinstance(data, LineDict):
        return ("map", data.line, [(k, data.lines[k], with_lines(v)) for k, v in data.items()])
    if isinstance(data, LineList):
        return ("seq", data.line, [(n, with_lines(v)) for n, v in zip(data.lines, data)])
    return data


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_a_tree_comes_back_with_its_lines(path: Path) -> None:
    kept: list[object] = []
    load_yaml(path.read_text(encoding="utf-8"), source="d.yaml", on_tree=lambda t: kept.append(defcache.encode(t)))
    raw, _issues = load_yaml(path.read_text(encoding="utf-8"), source="d.yaml")
    back, _issues = load.interpolate(defcache.decode(json.loads(json.dumps(kept[0]))), "d.yaml")
    assert with_lines(back) == with_lines(raw)


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(scalars, kids, max_size=4),
                    max_leaves=20))
def test_any_yaml_value_survives_the_round_trip(value: object) -> None:
    import yaml

    text = yaml.safe_dump({"x": value})
    kept: list[object] = []
    raw, issues = load_yaml(text, source="d.yaml", on_tree=lambda t: kept.append(defcache.encode(t)))
    if issues:
        return  # e.g. a "${" inside a string: not what this test is about
    back = defcache.decode(json.loads(json.dumps(kept[0])))
    assert with_lines(back) == with_lines(raw)


@pytest.mark.parametrize("junk", [[], {"s": [[1]]}, {"m": [[["a"], 1, 2]], "l": 1}, {"x": 1}, {"m": 5, "l": 1}])
def test_decode_refuses_what_encode_never_writes(junk: object) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        defcache.decode(junk)


# -- the real process -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        path = demo_definitions(tmp_path_factory.mktemp("defcache"), mp)
    yield path


def run_kpi(demo: Path, xdg: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = {**os.environ, "KPI_CONNECTION": f"duckdb:///{demo.parent}/kpi.duckdb", "XDG_CACHE_HOME": str(xdg),
           "PYTHONPROFILEIMPORTTIME": "1", "COLUMNS": "100"}
    proc = subprocess.run([KPI_BIN, "query", *args, "-d", str(demo), "--as-of", AS_OF], capture_output=True,
                          text=True, env=env)
    modules = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
               if line.startswith("import time:") and line.count("|") == 2}
    return proc, modules


@pytest.mark.parametrize("args", [["win_rate last-quarter", "--json"], ["win_rate, cac last-quarter by segment"],
                                  ["cac 2026-Q3 by month", "--sql"]])
def test_answers_are_the_same_with_and_without_the_cache(demo: Path, tmp_path: Path, args: list[str]) -> None:
    xdg = tmp_path / "xdg"
    miss, miss_modules = run_kpi(demo, xdg, *args)
    hit, hit_modules = run_kpi(demo, xdg, *args)
    bypass, bypass_modules = run_kpi(demo, xdg, *args, "--no-cache")
    assert miss.returncode == hit.returncode == bypass.returncode == 0, (miss.stderr + hit.stderr)[-2000:]
    assert miss.stdout == hit.stdout == bypass.stdout
    if "--json" in args:
        assert json.loads(hit.stdout)["metric"] == "win_rate"
    # the checks (and the YAML parser's work) ran on the first and the --no-cache process only
    assert "metrics_core.validate" in miss_modules and "metrics_core.validate" in bypass_modules
    assert "metrics_core.validate" not in hit_modules
    # PyYAML (about 10 ms of a cold start) only where the file is parsed (metrics_core/yamlparse.py)
    assert "yaml" in miss_modules and "yaml" in bypass_modules and "yaml" not in hit_modules
