"""The rows behind a number: `kpi rows`, ``KPI.rows``, Slack's Show records (layer: facade).

    r = kpi.rows("won_deals last-quarter where segment=SMB", limit=20)
    r.measure, r.total, r.columns, r.rows, r.urls     # "won", 595, ("deal_id", "closed_at", ...), ...
    kpi.rows("win_rate last-quarter", part="numerator")  # a ratio: numerator or denominator (default)

The question goes through the same grammar, checks and filters as an answer; the rows are the ones
the measure counts (see compile_rows), so ``total`` equals a count measure's value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from babel.dates import format_datetime
from babel.numbers import format_decimal

from .compile_rows import TOTAL, rows_sql, url_fields
from .catalog import normalize_words
from .compile_values import base_measure
from .errors import QueryError, hint_for
from .filters import describe, join
from .formatting import fmt_date
from .i18n import _
from .models import ConstantMetric, ConversionMetric, RatioMetric, SimpleMetric
from .periods import Period
from .values import check_filter_values

if TYPE_CHECKING:
    from .api import KPI

MAX_LIMIT = 10_000
ROLES = ("numerator", "denominator", "base", "measure")


@dataclass(frozen=True)
class Records:
    metric: str
    measure: str
    label: str  # the measure's label: "won deals"
    table: str
    period: Period
    where: str  # the filters as kpi reads them back ("" for none)
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]  # at most ``limit``, ordered by the time column
    total: int  # every row the measure counts, not just those listed
    urls: tuple[str | None, ...]  # one per row (None when the table has no ``url:``)
    value_column: str | None
    sql: str

    def cells(self, locale: str = "en_US") -> list[list[str]]:
        """Each row as text for a reader: numbers and days through Babel, blanks as ''."""
        return [[_cell(v, locale) for v in row] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "measure": self.measure, "label": self.label, "table": self.table,
                "period": self.period.to_json(), "where": self.where or None, "total": self.total,
                "shown": len(self.rows), "columns": list(self.columns),
                "rows": [{**{c: _plain(v) for c, v in zip(self.columns, row)}, **({"url": u} if u else {})}
                         for row, u in zip(self.rows, self.urls)]}


def _cell(v: Any, locale: str) -> str:
    v = _plain(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return format_decimal(v, "#,##0.##", locale=locale)
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return fmt_date(date.fromisoformat(v), locale)
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?", v):
        return format_datetime(datetime.fromisoformat(v), "short", locale=locale)
    return str(v)


def _plain(v: Any) -> Any:
    if isinstance(v, (date, datetime)):
        return v.isoformat()
    if isinstance(v, float) and v != v:
        return None
    return v.item() if hasattr(v, "item") else v


def pick_measure(kpi: "KPI", metric: str, part: str | None) -> str:
    """The measure whose rows are listed: a simple metric's, a ratio's numerator or denominator
    (default), a conversion's base; ``part`` may also name any measure the metric reads."""
    cat, m = kpi.catalog, kpi.definitions.metrics[metric]
    if isinstance(m, ConstantMetric):
        raise QueryError(_("'{metric}' is a constant; no rows are behind it").format(metric=metric))
    if m.type == "cumulative":  # its number adds up a window wider than the period asked
        raise QueryError(_("'{metric}' is cumulative (it counts more than the period); list a measure's rows "
                           "instead: kpi rows \"MEASURE period\"").format(metric=metric))
    reads = cat.breakdown_measures(metric)
    if isinstance(m, RatioMetric):
        reads = list(dict.fromkeys([m.numerator, m.denominator, *reads]))
    key = (part or "").strip().lower()
    if not key:
        if isinstance(m, (SimpleMetric, RatioMetric, ConversionMetric)):
            return base_measure(cat, metric)
        raise QueryError(_("'{metric}' reads several measures; name one with --part ({measures})")
                         .format(metric=metric, measures=", ".join(reads)))
    roles = {"measure": m.measure if isinstance(m, SimpleMetric) else None,
             "numerator": m.numerator if isinstance(m, RatioMetric) else None,
             "denominator": m.denominator if isinstance(m, RatioMetric) else None,
             "base": m.base.measure if isinstance(m, ConversionMetric) else None}
    if roles.get(key):
        return roles[key]  # type: ignore[return-value]
    if key in reads:
        return key
    allowed = [r for r, v in roles.items() if v] + reads
    raise QueryError(_("'{metric}' has no part '{part}'").format(metric=metric, part=part)
                     + hint_for(key, allowed, what=_("its parts")))


def list_rows(kpi: "KPI", text: str, *, part: str | None = None, limit: int = 100,
              as_of: date | None = None) -> Records:
    if not 1 <= int(limit) <= MAX_LIMIT:
        raise QueryError(_("--limit {limit}: use 1..{most}").format(limit=limit, most=f"{MAX_LIMIT:,}"))
    text, part = _by_measure(kpi, text, part)
    req = kpi.plan(text, as_of=as_of)
    q = req.query
    measure = pick_measure(kpi, q.metric, part)
    mdef = kpi.definitions.measures[measure]
    period = q.slots[0].period
    built = rows_sql(kpi.catalog, kpi.calendar, mdef, period, q.filters, q.condition, limit=int(limit),
                     dialect=kpi.dialect, base_dir=kpi.loaded.base_dir)
    from .columns import _records  # the one reader of an engine's answer

    got = _records(kpi.backend.run(built.sql, built.params))
    cols = [c.lower() for c in built.columns]
    rows = tuple(tuple(r.get(c) for c in cols) for r in got)
    total = int(got[0][TOTAL]) if got else 0
    check_filter_values(kpi, q.metric, join(q.filters, q.condition), empty=total == 0)  # a typo: did you mean
    template = kpi.definitions.tables[mdef.table].url
    urls = tuple(_link(template, dict(zip(built.columns, row))) if template else None for row in rows)
    return Records(q.metric, measure, kpi.definitions.measure_label(measure), mdef.table, period,
                   describe(join(q.filters, q.condition)), built.columns, rows, total, urls, built.value_column,
                   built.sql)


def _by_measure(kpi: "KPI", text: str, part: str | None) -> tuple[str, str | None]:
    """A question may start with a measure's name ("won_deals last-quarter"): it is asked of a metric
    that reads the measure (a simple metric first), with the measure as the part."""
    head, _sep, rest = (text or "").strip().partition(" ")
    name = head.lower()
    if name not in kpi.definitions.measures or normalize_words(name) in kpi.catalog.synonyms:
        return text, part
    readers = [m for m in kpi.definitions.metrics if name in _reads(kpi, m)]
    if not readers:
        raise QueryError(_("no metric reads the measure '{measure}'").format(measure=name))
    simple = [m for m in readers if isinstance(kpi.definitions.metrics[m], SimpleMetric)]
    return f"{(simple or readers)[0]} {rest}", part or name


def _reads(kpi: "KPI", metric: str) -> list[str]:
    m = kpi.definitions.metrics[metric]
    return [m.numerator, m.denominator] if isinstance(m, RatioMetric) else kpi.catalog.breakdown_measures(metric)


def _link(template: str, row: dict[str, Any]) -> str | None:
    """The row's link, each value URL-quoted ("Acme/EU" -> "Acme%2FEU"); None when a value is missing."""
    values = {k: _plain(v) for k, v in row.items()}
    if any(values.get(f) is None for f in url_fields(template)):
        return None
    return template.format(**{f: quote(str(values[f]), safe="") for f in url_fields(template)})
