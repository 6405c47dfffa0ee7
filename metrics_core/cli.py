"""The `kpi` command line (edge layer: Typer + Rich; I/O and exit codes live here only).

    kpi demo [--deals 20000] [--until DATE]     sample CRM into the embedded DuckDB + a tour
    kpi validate [--check-data]                 every problem in definitions.yaml, with file:line
    kpi metrics | kpi explain METRIC | kpi schema
    kpi query "win_rate last-quarter by region" [--as-of DATE] [--json] [--sql] [--no-cache] [--no-rollups]
    kpi query "win_rate, cac last-quarter" [--csv | --format csv|parquet|json --output FILE]
    kpi why "pipeline_velocity last-month" [--json]   what moved a number: factors, or rate and mix by a dimension
    kpi doctor [--json] [--fail-on warning]     what the data does to the numbers
    kpi rollups suggest|build|status|drop       pre-aggregations (see rollup_store)
    kpi --no-rollups <command>                  any answering command from the raw tables only

User errors print one clean message and exit 1; anything else prints "internal error" (the
trace with -v) and exits 2. bot/ and sheets/ add their commands (`kpi slack ...`, `kpi ask`,
`kpi sheets ...`) through the ``kpi.cli`` entry point, so this module never imports them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.markup import escape

from .cli_edge import STATE, err, open_kpi, out, parse_as_of, run_guarded, skip_rollups  # noqa: F401 - plugins import these from here
from .cli_edge import answer_query, standard_streams
from .errors import KpiUserError, redact, redact_logs
from .i18n import _, help_gettext as _h, ngettext, set_locale

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help=_h("kpi: sales metrics defined once in YAML, answered anywhere."))

DefinitionsOpt = Annotated[Optional[Path], typer.Option("--definitions", "-d", help=_h("definitions.yaml to use (else $KPI_DEFINITIONS, else ./definitions.yaml)."))]
NoRollupsOpt = Annotated[bool, typer.Option("--no-rollups", help=_h("Answer from the raw tables, never from rollups."))]
AsOfOpt = Annotated[Optional[str], typer.Option("--as-of", help=_h("Pin 'today' (YYYY-MM-DD) for relative periods."))]


def guarded(fn: Callable[[], None]) -> None:
    """Run a command body; a user error prints one clean line and exits 1, a bug exits 2 (cli_edge)."""
    code = run_guarded(fn)
    if code:
        raise typer.Exit(code)


@app.callback()
def _root(verbose: Annotated[bool, typer.Option("--verbose", "-v", help=_h("Show tracebacks of internal errors."))] = False,
          no_rollups: NoRollupsOpt = False) -> None:
    STATE["verbose"] = verbose
    if no_rollups:
        skip_rollups()


@app.command(help=_h("Answer one question (several metrics: \"win_rate, cac last-quarter\")."))
def query(words: Annotated[list[str], typer.Argument(metavar="text", help=_h('e.g. "cac last-quarter", "win_rate, cac this-month by region" (quotes optional)'))],
          definitions: DefinitionsOpt = None, as_of: AsOfOpt = None,
          as_json: Annotated[bool, typer.Option("--json", help=_h("Print one JSON object."))] = False,
          as_csv: Annotated[bool, typer.Option("--csv", help=_h("Print the answer's rows as CSV."))] = False,
          fmt: Annotated[Optional[str], typer.Option("--format", help=_h("csv, parquet or json (with --output, or to the terminal)."))] = None,
          output: Annotated[Optional[Path], typer.Option("--output", "-o", help=_h("Write the answer to this file (its suffix may name the format)."))] = None,
          sql: Annotated[bool, typer.Option("--sql", help=_h("Print the SQL it runs, then the answer (with --json: in the object)."))] = False,
          no_cache: Annotated[bool, typer.Option("--no-cache", help=_h("Ask the engine even if a cached answer exists."))] = False,
          no_rollups: NoRollupsOpt = False) -> None:
    """Answer one question (several metrics: "win_rate, cac last-quarter")."""
    text = " ".join(words)
    guarded(lambda: answer_query(text, definitions, as_of, as_json=as_json, as_csv=as_csv, fmt=fmt, output=output,
                                 sql=sql, no_cache=no_cache, no_rollups=no_rollups))


@app.command(help=_h("Why did it move: split the change against the comparison into factors, or into rate and mix by a dimension."))
def why(words: Annotated[list[str], typer.Argument(metavar="text", help=_h('e.g. "pipeline_velocity last-month", "win_rate last-quarter by segment" (quotes optional)'))],
        definitions: DefinitionsOpt = None, as_of: AsOfOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help=_h("Print one JSON object."))] = False,
        no_cache: Annotated[bool, typer.Option("--no-cache", help=_h("Ask the engine even if a cached answer exists."))] = False) -> None:
    """Why did it move: split the change against the comparison into factors, or into rate and mix by a dimension."""
    text = " ".join(words)

    def body() -> None:
        from .cli_why import render_why

        kpi = open_kpi(definitions, cache=not no_cache, sections=False)
        result = kpi.why(text, as_of=parse_as_of(as_of), use_cache=not no_cache)
        if as_json:
            print(json.dumps(result.to_json(), ensure_ascii=False, default=str))
            return
        render_why(out, result, kpi)
    guarded(body)


@app.command(help=_h("Check definitions.yaml; list every problem with file:line (exit 1 if any)."))
def validate(definitions: DefinitionsOpt = None,
             check_data: Annotated[bool, typer.Option("--check-data", help=_h("Also check every column against the real tables."))] = False) -> None:
    """Check definitions.yaml; list every problem with file:line (exit 1 if any)."""
    def body() -> None:
        from .load import load_definitions

        from .checkdata import check_data as run_check, check_definitions

        loaded = load_definitions(definitions)
        d = loaded.defs
        set_locale(d.locale.locale)
        check_definitions(loaded)  # globs that match nothing, filters on values a mapping never yields
        if check_data:
            run_check(loaded)
        counts = ", ".join([ngettext("{count} table", "{count} tables", len(d.tables)).format(count=len(d.tables)),
                            ngettext("{count} measure", "{count} measures", len(d.measures)).format(count=len(d.measures)),
                            ngettext("{count} metric", "{count} metrics", len(d.metrics)).format(count=len(d.metrics))])
        checked = " " + _("(columns checked against the data)") if check_data else ""
        word = _("ok")  # outside the f-string: the extractor does not look inside f-strings (Python < 3.12)
        out.print(f"[green]{word}[/green] {escape(loaded.source)}: {counts}{checked}")
    guarded(body)


@app.command(help=_h("Check the data behind every metric: unmapped values, unmatched joins, dropped rows, stale tables."))
def doctor(definitions: DefinitionsOpt = None, as_of: AsOfOpt = None,
           period: Annotated[str, typer.Option(help=_h("The complete period the shifts are counted in."))] = "last-month",
           as_json: Annotated[bool, typer.Option("--json", help=_h("Print one JSON object."))] = False,
           fail_on: Annotated[str, typer.Option(help=_h("Exit 1 when a finding is this severe or worse: error, warning, info or never."))] = "error") -> None:
    """Check the data behind every metric: unmapped values, unmatched joins, dropped rows, stale tables."""
    def body() -> None:
        from .doctor import SEVERITIES
        from .doctor_render import render_doctor

        if fail_on not in (*SEVERITIES, "never"):
            raise KpiUserError(_("--fail-on '{value}': use error, warning, info or never").format(value=fail_on))
        kpi = open_kpi(definitions, cache=False)
        report = kpi.doctor(as_of=parse_as_of(as_of), period=period)
        if as_json:
            print(json.dumps(report.to_json(), ensure_ascii=False, default=str))
        else:
            render_doctor(out, report, kpi.calendar, kpi.definitions.locale.locale)
        if report.fails(fail_on):
            raise typer.Exit(1)
    guarded(body)


@app.command(help=_h("List the metrics with what each one counts."))
def metrics(definitions: DefinitionsOpt = None) -> None:
    """List the metrics with what each one counts."""
    def body() -> None:
        from .cli_render import render_metrics

        render_metrics(out, open_kpi(definitions, cache=False, sections=False).metrics())
    guarded(body)


@app.command(help=_h("Show a metric's definition, formula, components and SQL."))
def explain(metric: str, definitions: DefinitionsOpt = None, as_of: AsOfOpt = None) -> None:
    """Show a metric's definition, formula, components and SQL."""
    def body() -> None:
        from .cli_render import render_sql

        e = open_kpi(definitions, cache=False, sections=False).explain(metric, as_of=parse_as_of(as_of))
        out.print(e.text, highlight=False, markup=False)  # descriptions may hold [brackets]
        out.print()
        render_sql(out, e.sql, {}, None)
    guarded(body)


@app.command("values", help=_h("List the values a dimension has, with how many rows have each (blank ones as (blank))."))
def values_cmd(dimension: Annotated[str, typer.Argument(help=_h("e.g. segment, region, source"))],
               metric: Annotated[Optional[str], typer.Option("--metric", "-m", help=_h("Count the rows this metric is about (a ratio: its denominator)."))] = None,
               period: Annotated[Optional[str], typer.Option("--period", "-p", help=_h("Only rows in this period, e.g. last-quarter."))] = None,
               definitions: DefinitionsOpt = None, as_of: AsOfOpt = None,
               as_json: Annotated[bool, typer.Option("--json", help=_h("Print one JSON object."))] = False) -> None:
    """List the values a dimension has, with how many rows have each (blank ones as (blank))."""
    def body() -> None:
        from rich.table import Table

        from .formatting import fmt_count
        from .periods import period_label

        kpi = open_kpi(definitions, cache=False)
        v = kpi.values(dimension, metric=metric, period=period, as_of=parse_as_of(as_of))
        if as_json:
            print(json.dumps(v.to_json(), ensure_ascii=False))
            return
        loc = kpi.definitions.locale.locale
        rows = kpi.definitions.measure_label(v.measure) if v.measure else v.table
        title = f"{v.dimension}: {rows}" + (f", {period_label(v.period, kpi.calendar, loc)}" if v.period else "")
        table = Table(title=title, title_justify="left", show_edge=False, box=None)
        table.add_column(v.dimension, overflow="fold")
        table.add_column(_("rows"), justify="right")
        for value, n in v.rows:
            table.add_row(escape(value) if value is not None else "[dim](blank)[/dim]", fmt_count(n, loc))
        out.print(table)
        if not v.rows:
            out.print(_("no rows"))
    guarded(body)


@app.command(help=_h("Print the JSON Schema of definitions.yaml (for editor completion and checks)."))
def schema() -> None:
    """Print the JSON Schema of definitions.yaml (for editor completion and checks)."""
    from .schema import definitions_schema

    print(json.dumps(definitions_schema(), indent=2))


@app.command(help=_h("Generate a realistic sample CRM into the embedded DuckDB and print a short tour."))
def demo(definitions: DefinitionsOpt = None,
         deals: Annotated[int, typer.Option(help=_h("How many deals (leads are 5x). The benchmark's M size is 1000000."))] = 20_000,
         until: Annotated[Optional[str], typer.Option(help=_h("Last day of data (default: today)."))] = None,
         seed: int = 7) -> None:
    """Generate a realistic sample CRM into the embedded DuckDB and print a short tour."""
    def body() -> None:
        from .demo import run_demo

        run_demo(out, definitions, deals=deals, until=parse_as_of(until), seed=seed)
    guarded(body)


def _register_rollups() -> None:
    from .cli_rollups import rollups_app

    app.add_typer(rollups_app, name="rollups")


_register_rollups()


def _register_rows() -> None:
    from . import cli_rows  # noqa: F401  (its @app.command registers `kpi rows`)


_register_rows()


def _register_plugins() -> None:
    """Commands from bot/ and sheets/ (entry point group ``kpi.cli``); a broken one is reported, not fatal."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="kpi.cli"):
        try:
            ep.load()(app)
        except Exception as e:  # keep the core commands usable whatever a plugin does
            word = _("warning:")
            err.print(f"[yellow]{word}[/yellow] " + _("kpi plugin '{name}' not loaded: {error}").format(
                name=ep.name, error=f"{type(e).__name__}: {escape(redact(str(e)))}"))


def _core_command(argv: list[str]) -> bool:
    """Whether argv names one of this module's commands (`kpi -v query ...` -> True): then the
    plugins, which import the bot and the Sheets sync, are not loaded at all."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first in {c.name or (c.callback.__name__ if c.callback else None) for c in app.registered_commands}


def main() -> None:
    standard_streams()
    redact_logs()  # warnings from any library reach stderr through the last-resort handler
    if not _core_command(sys.argv[1:]):
        _register_plugins()
    app()


if __name__ == "__main__":
    sys.exit(main())
