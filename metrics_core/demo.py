"""`kpi demo`: sample CRM data into the embedded DuckDB, then a short tour of answers (edge layer).

After the tour, hooks registered under the ``kpi.demo`` entry point run (sheets/ writes the
demo workbook), so the core needs no import of them.
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import entry_points
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import ConfigError
from .formatting import fmt_change, fmt_count
from .i18n import _, use_locale

TOUR = ("win_rate last-quarter", "win_rate last-quarter by segment", "conversion_rate this-quarter",
        "lead_to_win_rate last-quarter", "sales_cycle_days last-quarter", "cac last-quarter",
        "clv last-quarter", "ltv_cac_ratio last-quarter", "cac_payback_months last-quarter",
        "avg_deal_size ytd vs last-year", "pipeline_velocity last-month")


def run_demo(out: Console, definitions: Path | None, *, deals: int, until: date | None, seed: int = 7) -> None:
    from .api import KPI

    kpi = KPI.from_path(definitions)
    with use_locale(kpi.definitions.locale.locale):  # the tour's own words in the definitions' language
        _fill_and_tour(out, kpi, definitions, deals=deals, until=until, seed=seed)


def _fill_and_tour(out: Console, kpi, definitions: Path | None, *, deals: int, until: date | None,  # noqa: ANN001
                   seed: int) -> None:
    from .api import KPI
    from .backends.duckdb import DuckDBBackend
    from .demo_data import generate
    from .periods import today

    locale = kpi.definitions.locale.locale
    if not kpi.url.startswith("duckdb"):
        raise ConfigError(_("kpi demo fills the embedded DuckDB; this definitions file connects to '{url}'").format(
            url=kpi.url))
    backend = DuckDBBackend.from_url(kpi.url, base_dir=kpi.loaded.base_dir)
    until = until or today(kpi.calendar)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=out, transient=True) as bar:
        task = bar.add_task(_("generating {count} deals").format(count=fmt_count(deals, locale)), total=1.0)
        counts = generate(backend.connection, deals=deals, until=until, seed=seed,
                          progress=lambda step, frac: bar.update(task, completed=frac,
                                                                 description=_("generating: {step}").format(step=step)))
    backend.close()
    out.print("[green]" + _("demo data") + "[/green] " + _("in {path}: {counts}").format(
        path=backend.path, counts=", ".join(f"{fmt_count(n, locale)} {t}" for t, n in counts.items())))
    writable = DuckDBBackend.from_url(kpi.url, base_dir=kpi.loaded.base_dir)
    kpi = KPI.from_path(definitions, backend=writable)
    try:
        tour(out, kpi, until)
        for ep in entry_points(group="kpi.demo"):
            ep.load()(kpi, out, until)
    finally:  # closed now, not when the KPI is collected: a later `kpi` command in the same process (a test,
        writable.close()  # a notebook) opens the file read-only, which DuckDB refuses while this one is open
    out.print("\n" + _("Next: {commands}").format(commands='[bold]kpi query "win_rate this-month by region"[/bold], '
                                                              "[bold]kpi metrics[/bold], [bold]kpi explain cac[/bold]"))


def tour(out: Console, kpi, as_of: date) -> None:  # noqa: ANN001 - KPI
    locale = kpi.definitions.locale.locale
    t = Table(title=_("A short tour (as of {date})").format(date=as_of.isoformat()), show_edge=False, pad_edge=False)
    for col, just in ((_("question"), "left"), (_("answer"), "right"), (_("change"), "right"),
                      (_("what was counted"), "left")):
        t.add_column(col, justify=just, overflow="fold")
    for q in TOUR:
        r = kpi.query(q, as_of=as_of)
        change = fmt_change(r.comparison.relative, locale) if r.comparison else ""
        t.add_row(q, r.formatted, change, f"{r.period.start}..{r.period.end}: {r.counted}")
        if r.breakdown_columns is not None:
            for row in r.breakdown_columns.records():
                dim = r.dimensions[0]
                t.add_row(f"   {dim} = {row[dim]}", row["formatted"], fmt_change(row["change"], locale), "")
    out.print(t)


