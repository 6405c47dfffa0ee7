"""Answers as plain tables: `kpi query ... --csv` and `--format csv|parquet|json --output F` (layer: facade
helpers; the writers are the only I/O, and pyarrow is imported only to write Parquet).

One row per number, machine values (no formatting), columns named plainly::

    metric    period    start       end         segment  value   numerator  denominator  comparison
    win_rate  2026-Q3   2026-07-01  2026-09-30  SMB      0.314   345        1098         0.299

A series gives one row per bucket (``period`` is the bucket's label, no comparison), else a breakdown
one row per dimension value(s), else one row for the total. ``numerator`` and ``denominator`` are
filled for ratios and conversions; ``comparison`` is the compared window's value. Several metrics
stack their rows (the ``metric`` column tells them apart; dimension columns are the union).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any, Iterable

from .catalog import Catalog
from .columns import Columns
from .statement import needs
from .errors import KpiUserError
from .i18n import _
from .periods import period_label
from .result import MetricResult, as_number

FORMATS = ("csv", "parquet", "json")
HEAD = ("metric", "period", "start", "end")
TAIL = ("value", "numerator", "denominator", "comparison")


def table(results: Iterable[MetricResult], cat: Catalog, cal: Any, locale: str) -> Columns:
    """Every answer's rows in one table (see the module docstring for the columns)."""
    results = list(results)
    dims = list(dict.fromkeys(d for r in results for d in r.dimensions))
    rows: list[dict[str, Any]] = []
    for r in results:
        rows += _rows(r, cat, cal, locale)
    return Columns.from_records(rows, [*HEAD, *dims, *TAIL])


def _rows(r: MetricResult, cat: Catalog, cal: Any, locale: str) -> list[dict[str, Any]]:
    num, den = _parts(r, cat)
    base = {"metric": r.metric}
    if r.series_columns is not None:
        return [{**base, "period": rec["label"], "start": rec["start"], "end": rec["end"],
                 **{d: rec.get(d) for d in r.dimensions}, "value": as_number(rec["value"]),
                 "numerator": _num(rec, num), "denominator": _num(rec, den), "comparison": None}
                for rec in r.series_columns.records()]
    whole = {**base, "period": period_label(r.period, cal, locale), "start": r.period.start, "end": r.period.end}
    if r.breakdown_columns is not None:
        return [{**whole, **{d: rec.get(d) for d in r.dimensions}, "value": as_number(rec["value"]),
                 "numerator": _num(rec, num), "denominator": _num(rec, den),
                 "comparison": as_number(rec.get("previous"))} for rec in r.breakdown_columns.records()]
    roles = {c.role: c.value for c in r.components}
    return [{**whole, "value": as_number(r.value), "numerator": as_number(roles.get("numerator")),
             "denominator": as_number(roles.get("denominator")),
             "comparison": as_number(r.comparison.value) if r.comparison is not None else None}]


def _parts(r: MetricResult, cat: Catalog) -> tuple[str | None, str | None]:
    """The row columns holding a ratio's or a conversion's numerator and denominator (numbered as the
    statement numbers them: ``m<i>`` in ``compile.needs`` order, ``c0``/``c0_base``), else (None, None)."""
    m = cat.defs.metrics[r.metric]
    if m.type == "ratio":
        measures, _conv = needs(cat, r.metric)
        return f"m{measures.index(m.numerator)}", f"m{measures.index(m.denominator)}"
    if m.type == "conversion":
        return "c0", "c0_base"
    return None, None


def _num(rec: dict[str, Any], col: str | None) -> float | None:
    return as_number(rec.get(col)) if col else None


# -- writers -----------------------------------------------------------------------------------
def write_csv(cols: Columns, stream: IO[str]) -> None:
    """RFC 4180 CSV with a header; empty cells for missing values, dates as YYYY-MM-DD."""
    w = csv.writer(stream, lineterminator="\n")
    w.writerow(cols.names)
    for rec in cols.records():
        w.writerow(["" if v is None else _cell(v) for v in rec.values()])


def _cell(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def write_parquet(cols: Columns, path: Path) -> None:
    """A Parquet file (pyarrow, imported here only): numbers as doubles, dates as dates."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"start": pa.date32(), "end": pa.date32(), **{c: pa.float64() for c in TAIL}}
    arrays = {n: pa.array(cols[n], type=types.get(n)) for n in cols.names}
    pq.write_table(pa.table(arrays), str(path))


def pick_format(fmt: str | None, output: Path | None, *, as_csv: bool, as_json: bool) -> str | None:
    """The output format the options ask for (None: the terminal answer), or a one-line error."""
    chosen = [f for f, on in (("csv", as_csv), ("json", as_json)) if on]
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise KpiUserError(_("--format '{value}': use {allowed}").format(value=fmt, allowed=", ".join(FORMATS)))
        chosen.append(fmt)
    if output is not None and not chosen:
        suffix = output.suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            raise KpiUserError(_("--output {path}: say which format with --format {allowed}")
                               .format(path=output, allowed="|".join(FORMATS)))
        chosen.append(suffix)
    if len(set(chosen)) > 1:
        raise KpiUserError(_("choose one output format (asked for: {formats})").format(formats=", ".join(sorted(set(chosen)))))
    fmt = chosen[0] if chosen else None
    if fmt == "parquet" and output is None:
        raise KpiUserError(_("Parquet is a binary file: add --output FILE.parquet"))
    return fmt


def write(fmt: str, data: dict[str, Any] | None, cols: Columns | None, output: Path | None, stdout: IO[str]) -> None:
    """Write the JSON object ``data`` or the table ``cols`` as ``fmt`` to ``output`` (None: ``stdout``)."""
    try:
        if fmt == "json":
            text = json.dumps(data, ensure_ascii=False, default=str)
            if output is None:
                print(text, file=stdout)
            else:
                output.write_text(text + "\n", encoding="utf-8")
        elif fmt == "csv":
            assert cols is not None
            if output is None:
                write_csv(cols, stdout)
            else:
                with output.open("w", encoding="utf-8", newline="") as f:
                    write_csv(cols, f)
        else:
            assert cols is not None and output is not None
            write_parquet(cols, output)
    except OSError as e:
        if output is None and isinstance(e, BrokenPipeError):
            raise  # the reader of stdout left: cli_edge.run_guarded ends quietly
        raise KpiUserError(_("cannot write {path}: {reason}").format(path=output, reason=e.strerror or e)) from e
