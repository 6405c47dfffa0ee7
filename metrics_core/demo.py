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
from .formatting import fmt_change

TOUR = ("win_rate last-quarter", "win_rate last-quarter by segment", "conversion_rate this-quarter",
        "lead_to_win_rate last-quarter", "sales_cycle_days last-quarter", "cac last-quarter",
        "clv last-quarter", "ltv_cac_ratio last-quarter", "cac_payback_months last-quarter",
        "avg_deal_size ytd vs last-year", "pipeline_velocity last-month")


def run_demo(out: Console, definitions: Path | None, *, deals: int, until: date | None, seed: int = 7) -> None:
    from .api import KPI
    from .backends.duckdb import DuckDBBackend
    from .demo_data import generate
    from .periods import today

    kpi = KPI.from_path(definitions)
    if not kpi.url.startswith("duckdb"):
        raise ConfigError(f"kpi demo fills the embedded DuckDB; this definitions file connects to '{kpi.url}'")
    backend = DuckDBBackend.from_url(kpi.url, base_dir=kpi.loaded.base_dir)
    until = until or today(kpi.calendar)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=out, transient=True) as bar:
        task = bar.add_task(f"generating {deals:,} deals", total=1.0)
        counts = generate(backend.connection, deals=deals, until=until, seed=seed,
                          progress=lambda step, frac: bar.update(task, completed=frac, description=f"generating: {step}"))
    backend.close()
    out.print(f"[green]demo data[/green] in {backend.path}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    kpi = KPI.from_path(definitions, backend=DuckDBBackend.from_url(kpi.url, base_dir=kpi.loaded.base_dir))
    tour(out, kpi, until)
    for ep in entry_points(group="kpi.demo"):
        ep.load()(kpi, out, until)
    out.print("\nNext: [bold]kpi query \"win_rate this-month by region\"[/bold], [bold]kpi metrics[/bold], "
              "[bold]kpi explain cac[/bold]")


def tour(out: Console, kpi, as_of: date) -> None:  # noqa: ANN001 - KPI
    locale = kpi.definitions.locale.locale
    t = Table(title=f"A short tour (as of {as_of.isoformat()})", show_edge=False, pad_edge=False)
    for col, just in (("question", "left"), ("answer", "right"), ("change", "right"), ("what was counted", "left")):
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


