"""Golden files for tests (test helper; not collected).

    from snapshot import assert_snapshot
    assert_snapshot(SNAPSHOTS / "duckdb" / "win_rate.sql", sql)

A snapshot is the exact text a test expects, kept in a file next to the tests and reviewed in
diffs. ``KPI_UPDATE_SNAPSHOTS=1`` (re)writes the files instead of comparing. A missing file is a
failure, never a skip: it names the command that creates it, so CI cannot pass on an empty
snapshot directory. A mismatch fails with a unified diff (expected = the file, got = the text).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

UPDATE_ENV = "KPI_UPDATE_SNAPSHOTS"
REPO = Path(__file__).resolve().parent.parent


def updating() -> bool:
    return os.environ.get(UPDATE_ENV) == "1"


def assert_snapshot(path: Path, text: str) -> None:
    """Compare ``text`` with the file at ``path``; with KPI_UPDATE_SNAPSHOTS=1 write it instead."""
    path = Path(path)
    text = text if text.endswith("\n") else text + "\n"  # files end with a newline; so does the text
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"snapshot {_shown(path)} does not exist; create it with:\n"
                    f"  {UPDATE_ENV}=1 .venv/bin/python -m pytest {_test_file()}\n"
                    f"then read it before committing", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                            fromfile=f"{_shown(path)} (snapshot)", tofile="got"))
        pytest.fail(f"snapshot {_shown(path)} differs (update with {UPDATE_ENV}=1 .venv/bin/python -m pytest "
                    f"{_test_file()} if the change is intended):\n{diff}", pytrace=False)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _test_file() -> str:
    """The running test's file (from PYTEST_CURRENT_TEST: 'tests/test_x.py::test_y (call)')."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return current.split("::", 1)[0] or "tests/"
