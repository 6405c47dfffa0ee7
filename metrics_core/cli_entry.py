"""The `kpi` program (edge layer): `kpi query ...` answered straight away, everything else by the Typer app.

A cold `kpi query` is what people feel most (issue 8: <= 0.6 s). Building the Typer app costs
about 0.08 s before any work starts (Typer, Click, the parameter adapters, every command's
signature), so the plain forms of `kpi query` are read here by hand and answered through the same
``cli_edge.answer_query`` the Typer command calls -- same output, same exit codes:

    kpi [-v|--verbose] [--no-rollups] query TEXT... [-d PATH | --definitions PATH] [--as-of DATE]
        [--json] [--csv] [--format F] [-o|--output FILE] [--sql] [--no-cache] [--no-rollups]
                                                            (options in any order, also --opt=value)

TEXT may be quoted or not: `kpi query cac last-quarter by segment` asks "cac last-quarter by
segment", as the Slack command does. Anything else (--help, an unknown or repeated option, no TEXT,
`--`) goes to the Typer app unchanged, which then gives its usual help or usage error.

Once answered, the process ends without tearing the interpreter down (``leave``): freeing every
module of SQLGlot, pydantic, Rich and DuckDB object by object took 50-100 ms of a 0.5 s answer.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

_FLAGS = {"--json": "as_json", "--csv": "as_csv", "--sql": "sql", "--no-cache": "no_cache", "--no-rollups": "no_rollups"}
_VALUES = {"--definitions": "definitions", "-d": "definitions", "--as-of": "as_of", "--format": "fmt",
           "--output": "output", "-o": "output"}
_ROOT_FLAGS = {"-v": "verbose", "--verbose": "verbose", "--no-rollups": "no_rollups"}


def plain_query(argv: list[str]) -> dict[str, Any] | None:
    """The arguments of a plain `kpi query` (see the module docstring), else None.

    >>> plain_query(["query", "win_rate last-quarter", "--as-of=2026-11-27", "--json"])["as_of"]
    '2026-11-27'
    >>> plain_query(["query", "--help"]) is None
    True
    """
    root: dict[str, bool] = {}
    i = 0
    while i < len(argv) and argv[i] in _ROOT_FLAGS and _ROOT_FLAGS[argv[i]] not in root:
        root[_ROOT_FLAGS[argv[i]]] = True
        i += 1
    if i >= len(argv) or argv[i] != "query":
        return None
    args: dict[str, Any] = {}
    words: list[str] = []
    rest = argv[i + 1:]
    j = 0
    while j < len(rest):
        a = rest[j]
        name, eq, value = a.partition("=")
        if a in _FLAGS and _FLAGS[a] not in args:
            args[_FLAGS[a]] = True
        elif name in _VALUES and _VALUES[name] not in args:
            if not eq:
                if j + 1 == len(rest) or rest[j + 1].startswith("-"):
                    return None  # a missing value (or `-d --json`): let Click say what is wrong
                j += 1
                value = rest[j]
            elif not name.startswith("--"):
                return None  # Click reads `-d=x` as the path "=x"; leave such spellings to it
            args[_VALUES[name]] = value
        elif not a.startswith("-"):
            words.append(a)
        else:
            return None
        j += 1
    if not words:
        return None
    for key in ("definitions", "output"):
        if key in args:
            args[key] = Path(args[key])
    return {"text": " ".join(words), **args, **root}


def main() -> None:
    from .cli_edge import standard_streams
    from .errors import redact_logs

    standard_streams()
    args = plain_query(sys.argv[1:])
    if args is None:
        from .cli import main as typer_main

        typer_main()
        return
    import gc

    # One answer, then the process ends: the cycle collector would walk every object the imports make
    # (SQLGlot's and pydantic's classes, 60,000 objects) again and again, 20-40 ms, to free next to
    # nothing: it frees about 1 MB on the shipped question, 3 MB on all 18 metrics at once.
    gc.disable()
    from .cli_edge import STATE, answer_query, console, run_guarded, skip_rollups

    redact_logs()  # warnings from any library reach stderr through the last-resort handler
    STATE["verbose"] = bool(args.pop("verbose", False))
    if args.pop("no_rollups", False):
        skip_rollups()
    try:
        code = run_guarded(lambda: answer_query(**args))
    except KeyboardInterrupt:
        console("err").print("Aborted!", markup=False, highlight=False)  # as Click says it
        code = 1
    leave(code)


def leave(code: int) -> NoReturn:
    """End this process with ``code``: the output flushed and the exit handlers run (logging's, DuckDB's,
    coverage's), then ``os._exit`` -- without the interpreter's teardown, which frees every module and
    object one by one for memory the system takes back at once anyway. Whatever that shortcut could
    change takes the ordinary ``sys.exit``: output that cannot be flushed (a closed pipe: Python reports
    it as it always has), a thread still running (it is waited for), or a profiler or tracer watching
    (``python -m cProfile`` writes its report after the program returns)."""
    import atexit
    import os
    import threading

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        from .cli_edge import reader_gone

        sys.exit(reader_gone())
    except (OSError, ValueError):
        sys.exit(code)
    if threading.active_count() > 1 or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
