"""What every `kpi` command shares, without Typer (edge layer: consoles, the error guard, opening a KPI).

``cli`` builds the Typer app on these; ``cli_entry`` answers `kpi query ...` with them directly, so
the commonest command never pays for building the app (Typer, Click and their parameter adapters:
about 0.08 s of a cold start). Both print the same text and exit with the same codes:

    code = run_guarded(body)   # 0; 1 after a user error (one clean line); 2 after a bug ("internal error")
"""

from __future__ import annotations

import contextvars
import sys
import traceback
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from .errors import KpiUserError, redact
from .i18n import _, command_scope, env_locale, set_locale

STATE = {"verbose": False}
_CONSOLES: dict[str, Any] = {}


def console(name: str) -> Any:  # rich.console.Console
    """The command's ``"out"`` (stdout) or ``"err"`` (stderr) console, made on first use: Rich costs a
    cold start about 20 ms, which `kpi query --json` and `--csv` never need (they write plain text).

    emoji=False: "definitions.yaml:100:" is a location, not the :100: emoji. User text never goes
    through markup: it is escaped (rich.markup.escape) or printed as Text."""
    if name not in _CONSOLES:
        from rich.console import Console

        _CONSOLES[name] = Console(stderr=name == "err", emoji=False)
    return _CONSOLES[name]


def __getattr__(name: str) -> Any:
    """``out`` and ``err``, the module attributes the commands and plugins import (``console``)."""
    if name in ("out", "err"):
        return console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_as_of(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise KpiUserError(_("--as-of '{text}': write a date as YYYY-MM-DD").format(text=text)) from None


def standard_streams() -> None:
    """A closed stdout or stderr (``kpi ... >&-``: Python then has ``sys.stdout = None``) writes to
    the null device, so the command still does its work and exits as it would, instead of failing
    on its first print (or on the final flush, with a traceback)."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def reader_gone() -> int:
    """The reader of stdout left (``kpi metrics | head -1``): nothing more can be shown, and that is
    not an error to report. Later writes and the final flush go to the null device (Python's own
    advice for EPIPE); the exit code is 1, as Python's for an unhandled broken pipe."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 1


def run_guarded(fn: Callable[[], None]) -> int:
    """Run a command body; turn errors into one clean message and an exit code (0, 1 or 2).

    The body runs in a copy of the context and in a command scope: it speaks the environment's
    language (KPI_LOCALE, LC_ALL/LC_MESSAGES/LANG) until it reads the definitions' ``locale:``
    (``open_kpi``), and that choice ends with it. Typer's own exits and aborts raised inside
    (``raise typer.Exit(1)``) pass through.
    """
    ctx = contextvars.copy_context()
    scope = command_scope(env_locale())
    ctx.run(scope.__enter__)
    try:
        ctx.run(fn)
    except KpiUserError as e:
        from rich.markup import escape

        word = ctx.run(lambda: _("error:"))  # in the language the command chose
        # the message may hold user text ("[/red]", "kpi[postgres]"): shown as text, never as markup
        console("err").print(f"[red]{word}[/red] {escape(str(e))}", markup=True, highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        raise
    except BrokenPipeError:
        return reader_gone()
    except Exception as e:  # a bug: say so, show the trace only when asked
        if _typer_flow(e):
            raise
        if STATE["verbose"]:
            print(redact(traceback.format_exc()), end="", file=sys.stderr)
        from rich.markup import escape

        first = redact(str(e).splitlines()[0]) if str(e) else ""
        word, hint = ctx.run(lambda: (_("internal error:"), _("(run with -v for the trace)")))
        console("err").print(f"[red]{word}[/red] {escape(type(e).__name__)}: {escape(first)} {hint}",
                  markup=True, highlight=False, soft_wrap=True)
        return 2
    finally:
        ctx.run(scope.__exit__, None, None, None)
    return 0


def _typer_flow(e: Exception) -> bool:
    """``typer.Exit`` / ``typer.Abort`` from a body (only possible when Typer is loaded)."""
    typer = sys.modules.get("typer")
    return typer is not None and isinstance(e, (typer.Exit, typer.Abort))


def skip_rollups() -> None:
    """Every KPI this process opens answers from the raw tables (plugins call it for --no-rollups)."""
    import os

    os.environ["KPI_NO_ROLLUPS"] = "1"


def open_kpi(definitions: Path | None, *, cache: bool = True, sections: bool | tuple[str, ...] = True,
             keep_definitions: bool = False):  # noqa: ANN201 - KPI
    """The KPI for --definitions (with the result cache for warehouses). ``sections``: which of
    slack:/sheets: to validate as well (True: every one present; `kpi query` checks none).
    ``keep_definitions``: read the validated file from the definitions cache between processes
    (defcache.py; `kpi query`), looked up unless ``cache`` is False (--no-cache)."""
    from .api import KPI
    from .cache import ResultCache
    from .load import load_definitions

    kpi = KPI(load_definitions(definitions, sections=sections, disk_cache=keep_definitions, use_cache=cache))
    set_locale(kpi.definitions.locale.locale)  # words of this command in the definitions' language
    ttl = kpi.definitions.connection.cache_ttl_seconds
    if cache and ttl and not kpi.url.startswith("duckdb"):
        kpi.cache = ResultCache(kpi.loaded.base_dir / ".kpi" / "cache", ttl_seconds=ttl)
    return kpi


def answer_query(text: str, definitions: Path | None = None, as_of: str | None = None, *, as_json: bool = False,
                 as_csv: bool = False, fmt: str | None = None, output: Path | None = None, sql: bool = False,
                 no_cache: bool = False, no_rollups: bool = False) -> None:
    """The body of `kpi query`: answer one question (several metrics: "win_rate, cac last-quarter") and
    print it (a panel each), or write it as JSON / CSV / Parquet (to the terminal or ``output``)."""
    from .export import pick_format

    if no_rollups:
        skip_rollups()
    kind = pick_format(fmt, output, as_csv=as_csv, as_json=as_json)
    kpi = open_kpi(definitions, cache=not no_cache, sections=False, keep_definitions=True)
    try:
        _answer(kpi, text, parse_as_of(as_of), kind, output, sql=sql, no_cache=no_cache)
    finally:
        kpi.close()  # the engine's connection ends here, not whenever the process does (cli_entry.leave)


def _answer(kpi: Any, text: str, day: date | None, kind: str | None, output: Path | None, *, sql: bool,
            no_cache: bool) -> None:
    from . import plancache

    if not no_cache:
        plancache.preload(kpi)  # a question asked before: its statements, without importing SQLGlot
    many = kpi.query_many(text, as_of=day, use_cache=not no_cache)
    results = many.results
    if kind is not None:
        _write_answer(kpi, many, kind, output, sql)
    else:
        from .cli_render import render_many, render_result, render_sql

        out = console("out")
        if sql:
            for s in dict.fromkeys((r.sql, tuple(r.params.items()), r.dialect) for r in results):
                render_sql(out, kpi.laid_out(s[0], s[2]), dict(s[1]), s[2])
        if len(results) == 1:
            render_result(out, results[0], kpi)
        else:
            render_many(out, many, kpi)
    plancache.store(kpi)


def _write_answer(kpi: Any, many: Any, kind: str, output: Path | None, sql: bool) -> None:
    """--json / --csv / --format F [--output F]: the JSON object, or the answer's rows as a table."""
    from .export import table, write

    def one(r: Any) -> dict:
        data = r.to_json()
        if sql:
            data.update(sql=redact(kpi.laid_out(r.sql, r.dialect)), params=r.params, dialect=r.dialect)
        return data

    results = many.results
    data = one(results[0]) if len(results) == 1 else {"metrics": [one(r) for r in results]}
    cols = None if kind == "json" else table(results, kpi.catalog, kpi.calendar, kpi.definitions.locale.locale)
    write(kind, data, cols, output, sys.stdout)
