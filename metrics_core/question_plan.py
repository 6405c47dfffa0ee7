"""From a parsed question to a Request: period, comparison, series buckets, breakdown and filters checked
against the definitions (layer: facade; a mixin of ``KPI`` in api.py, which it reads through ``self``)."""

from __future__ import annotations

from datetime import date

from .assemble import Request
from .catalog import normalize_words
from .errors import QueryError, hint_for
from .filters import Filter, conds, join, split
from .fineprint import check_windows
from .grammar import GRAINS, check_text
from .i18n import _
from .periods import Grain, Period, buckets, previous_period, resolve_period, today, year_ago
from .phrases import fold, inflected
from .statement import MetricQuery, Slot


class QuestionPlanning:
    """The checks and windows of one metric's question; ``KPI`` provides definitions, catalog, calendar."""

    def _request(self, metric: str, period_text: str | None, by: tuple[str, ...], where: tuple,
                 compare: str | None, grain: str | None, as_of: date | None, condition: Filter | None = None) -> Request:
        as_of = as_of or today(self.calendar)
        d = self.definitions.defaults
        period = resolve_period(period_text or d.period, self.calendar, as_of)
        slots = [Slot(0, "current", period)]
        kind, cmp = self._comparison(period, compare or d.compare, as_of)
        series = buckets(period, _grain(grain), self.calendar) if grain else []
        compared, series, notes = check_windows(self.catalog, self.calendar, metric, [period, *([cmp] if cmp else [])],
                                                series, self._asm.locale)
        notes = [*notes, *self._cumulative_notes(metric)]
        if cmp is not None and compared:
            slots.append(Slot(1, "comparison", cmp))
        elif cmp is not None:
            kind = None
        slots += [Slot(i + 2, "bucket", b) for i, b in enumerate(series)]
        dims = self._dims(metric, by)
        filters, cond = self._check_filters(metric, tuple(where), condition)
        return Request(MetricQuery(metric, tuple(slots), dims, filters, cond), kind, grain, as_of, tuple(notes))

    def _cumulative_notes(self, metric: str) -> list[str]:
        from .compile_cumulative import cumulative_note
        from .models import CumulativeMetric

        m = self.definitions.metrics[metric]
        if not isinstance(m, CumulativeMetric):
            return []
        return [cumulative_note(self.definitions.metric_label(metric), m, self._asm.locale)]

    def _check_filters(self, metric: str, where: tuple, condition: Filter | None = None) -> tuple[tuple, Filter | None]:
        """Check every field name and value; returns (plain text filters, the rest as a tree): a plain
        ``amount = 1000`` on a number column moves into the tree, where it is compared as a number."""
        from .compile_filters import check_types, metric_fields, unknown_field  # SQLGlot: a question not seen before

        fields = metric_fields(self.catalog, metric)
        tree = join(tuple((d, tuple(v)) for d, v in where), condition)
        for c in conds(tree):
            if c.dim not in fields:
                raise unknown_field(metric, c.dim, fields)
            for value in c.values:  # ask()/trend() take values straight from Python, not through the grammar
                check_text(str(value), _("the filter value for '{dimension}'").format(dimension=c.dim))
        check_types(tree, fields)
        plain, rest = split(tree)
        moved = [(d, v) for d, v in plain if fields[d] != "text"]
        if moved:
            plain = tuple((d, v) for d, v in plain if fields[d] == "text")
            rest = join(tuple(moved), rest)
        return plain, rest

    def _comparison(self, period: Period, text: str, as_of: date) -> tuple[str | None, Period | None]:
        key = fold(normalize_words(text))
        if key in ("none", "no", "nothing", "brak", "bez", "bez porownania", "nic"):
            return None, None
        if key in ("previous", "prev", "previous period", "prior", "last period", "poprzedni", "poprzedni okres",
                   "poprzednim okresem", "poprzedniego okresu", "poprz", "poprz."):
            return "previous", previous_period(period, self.calendar)
        if key in ("last year", "previous year", "year ago", "a year ago", "py", "yoy", "rok do roku", "rdr",
                   "r/r", "rok wczesniej", "zeszly rok", "zeszlym rokiem", "poprzedni rok", "poprzednim rokiem",
                   "ubiegly rok", "ubieglym rokiem"):
            return "last-year", year_ago(period, self.calendar)
        try:
            return "custom", resolve_period(text, self.calendar, as_of)
        except QueryError:
            raise QueryError(_("unknown comparison '{text}' (use vs previous, vs last-year, vs none, "
                               "or vs a period like 2025-Q3)").format(text=text)) from None

    def _dims(self, metric: str, by: tuple[str, ...]) -> tuple[str, ...]:
        if self.definitions.metrics[metric].type == "constant" and by:
            raise QueryError(_("'{metric}' is a constant; it has no breakdown").format(metric=metric))
        allowed = self.catalog.metric_dimensions(metric)
        # a Polish case form of an allowed name ("wg segmentu", "po opiekunie") names it
        by = tuple(d if d in allowed else inflected(d, allowed) or d for d in by)
        for dim in by:
            if dim not in allowed:
                raise QueryError(_("cannot break {metric} down by '{dimension}'").format(metric=metric, dimension=dim)
                                 + self.catalog.breakdown_hint(metric, dim))
        return by


def _grain(g: str) -> Grain:
    key = normalize_words(g).replace(" ", "_")
    if key not in GRAINS:
        raise QueryError(_("unknown grain '{grain}'").format(grain=g) + hint_for(g, GRAINS))
    return Grain(key)
