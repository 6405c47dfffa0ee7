"""The definitions.yaml format as pydantic models (layer: definitions; pure).

Unknown keys are rejected (``extra="forbid"``), so a typo fails at load with a location, not at
query time. Shorthands keep the file short and are expanded here:

    columns: {created_at: date}                 -> ColumnDef(type="date")
    source: crm_deals                           -> SourceDef(table="crm_deals")
    dimensions: {segment: account.segment}      -> DimensionDef(expr="account.segment")
    metrics: {gross_margin: 0.75}               -> ConstantMetric(value=0.75)
    format: percent                             -> FormatDef(kind="percent")

A metric's ``type`` may be left out when its keys make it obvious (``numerator`` -> ratio,
``measure`` -> simple, ``expr`` -> derived, ``base`` -> conversion, ``value`` -> constant, ``since`` or ``window``
-> cumulative).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from .i18n import _
from .periods import Calendar

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
AGGREGATIONS = ("count", "count_distinct", "sum", "avg", "min", "max", "median", "percentile")
FORMAT_KINDS = ("number", "currency", "percent", "days", "months", "ratio")
# Keys of an answer's breakdown rows and series buckets (JSON ``rows``/``series``): a dimension may
# not take one of these names, so a breakdown value never overwrites a number (or the other way round).
ROW_KEYS = ("value", "formatted", "previous", "change", "target_value", "target_status", "sample_size",
            "small_sample", "maturing", "excluded")
SERIES_KEYS = ("start", "end", "label", "to_date")
RESERVED_DIMENSIONS = frozenset(ROW_KEYS + SERIES_KEYS + ("g", "pid"))
TIME_GRAINS = ("day", "week", "month", "quarter", "year")
PARTIAL = ("prorate", "refuse")
SQL_DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")  # the engines kpi runs on
Number = Annotated[float, Field(allow_inf_nan=False)]  # nan / inf are refused at load
TARGET_PERIODS = ("any", "day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConnectionDef(Strict):
    url: str = "duckdb:///.kpi/kpi.duckdb"
    cache_ttl_seconds: int = Field(300, ge=0, le=7 * 86400, description="How long a warehouse answer is reused; 0 turns the cache off.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"url": v} if isinstance(v, str) else v


class CalendarDef(Strict):
    timezone: str = "UTC"
    week_start: Literal[WEEKDAYS] = "monday"  # type: ignore[valid-type]
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    fiscal_year_named_by: Literal["end", "start"] = "end"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(_("unknown timezone '{name}' (use an IANA name like 'America/New_York' or "
                               "'Europe/Warsaw')").format(name=v)) from e
        return v

    def to_calendar(self) -> Calendar:
        return Calendar(self.timezone, WEEKDAYS.index(self.week_start), self.fiscal_year_start_month,
                        self.fiscal_year_named_by)


class LocaleDef(Strict):
    locale: str = "en_US"
    currency: str = "USD"

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(v)
        except (UnknownLocaleError, ValueError) as e:
            raise ValueError(_("unknown locale '{name}' (e.g. en_US, en_GB, de_DE, pl_PL)").format(name=v)) from e
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        from babel.numbers import list_currencies

        if v.upper() not in list_currencies():
            raise ValueError(_("unknown currency code '{code}' (ISO 4217, e.g. USD, EUR, PLN)").format(code=v))
        return v.upper()


class DefaultsDef(Strict):
    period: str = "last-month"
    compare: str = "previous"
    small_sample: int = Field(30, ge=0, le=1_000_000, description="Warn when fewer rows than this are behind a number.")


class SourceDef(Strict):
    table: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
    files: str | None = None  # path or glob, relative to definitions.yaml; CSV or Parquet (DuckDB only)
    sql: str | None = None
    delimiter: str | None = None
    header: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"table": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_of(self) -> "SourceDef":
        given = [k for k in ("table", "files", "sql") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(_("give exactly one of table, files or sql (got {keys})").format(keys=", ".join(given))
                             if given else _("give exactly one of table, files or sql"))
        return self


class ColumnDef(Strict):
    type: Literal["string", "number", "integer", "date", "timestamp", "boolean"] = "string"
    from_: str | None = Field(None, alias="from", description="The column's name in the source, when it differs.")
    expr: str | None = Field(None, description="A SQL expression over the source's columns instead of one column.")
    format: str | None = Field(None, description="strptime format for text dates ('%d.%m.%Y'); for numbers: '1,234.56' or '1.234,56'.")
    values: dict[str, str | None] | None = Field(None, description="Value mapping, e.g. {'Closed Won': won}.")
    default: str | None = Field(None, description="Value for anything values: does not map (default: keep it).")
    normalize: bool = Field(False, description="Trim and lower-case before mapping, so ' SMB' and 'smb' map alike.")
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"type": v} if isinstance(v, str) else ({} if v is None else v)

    @model_validator(mode="after")
    def _check(self) -> "ColumnDef":
        if self.from_ and self.expr:
            raise ValueError(_("give either from or expr, not both"))
        if self.format and self.type not in ("date", "timestamp", "number", "integer"):
            raise ValueError(_("format applies to date, timestamp and number columns, not {type}").format(type=self.type))
        if self.format and self.type in ("number", "integer") and self.format not in ("1,234.56", "1.234,56", "1 234,56"):
            raise ValueError(_("number format must be '1,234.56', '1.234,56' or '1 234,56'"))
        return self


class JoinDef(Strict):
    table: Identifier
    on: dict[str, str] = Field(description="local column -> column of the joined table (many-to-one)")


class DimensionDef(Strict):
    expr: str
    label: str | None = None
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"expr": v} if isinstance(v, str) else v


class TableDef(Strict):
    source: SourceDef
    description: str = ""
    primary_key: str | None = None
    time: str | None = Field(None, description="Default time column for this table's measures.")
    grain: Literal[TIME_GRAINS] = Field("day", description="How finely rows are dated: spend stored once a month is grain: month.")  # type: ignore[valid-type]
    partial: Literal[PARTIAL] = Field("refuse", description="A window that cuts a coarse grain: prorate by days, or refuse it.")  # type: ignore[valid-type]
    updated_at: str | None = Field(None, description="A column set on every insert and update: rollups refresh "
                                                     "only the days of rows changed since their last build.")
    append_only: str | None = Field(None, description="Rows are only ever added, and this column never goes back "
                                                      "(e.g. created_at): rollups refresh only the days of new rows.")
    columns: dict[Identifier, ColumnDef]
    joins: dict[Identifier, JoinDef] = {}
    dimensions: dict[Identifier, DimensionDef] = {}
    url: str | None = Field(None, description="A link to each row, for `kpi rows` and Slack's Show records: "
                                              "https://crm.example.com/deals/{deal_id} (column names in braces).")


class SnapshotDef(Strict):
    from_: str = Field(alias="from", description="When a row starts to count (e.g. created_at).")
    to: str | None = Field(None, description="When it stops (e.g. closed_at); NULL = still counting.")
    at: Literal["end", "start"] = "end"


class MeasureDef(Strict):
    table: Identifier
    agg: Literal[AGGREGATIONS]  # type: ignore[valid-type]
    expr: str | None = None
    p: float | None = Field(None, gt=0, lt=1, description="The percentile for agg: percentile, e.g. 0.9.")
    filter: str | None = None
    time: str | None = None
    snapshot: SnapshotDef | None = None
    first_per: str | None = Field(None, description="Count only each entity's first matching row (by time).")
    grain: Literal[TIME_GRAINS] | None = Field(None, description="How finely this measure's rows are dated (default: the table's grain).")  # type: ignore[valid-type]
    partial: Literal[PARTIAL] | None = Field(None, description="A window that cuts the grain: prorate or refuse (default: the table's).")  # type: ignore[valid-type]
    label: str | None = None
    forms: dict[Literal["zero", "one", "two", "few", "many", "other"], str] = Field(
        default_factory=dict, description="The label after a count, by CLDR plural category of the locale: "
        "{one: won deal, other: won deals}; Polish {one: wygrana transakcja, few: wygrane transakcje, "
        "many: wygranych transakcji}. Missing categories use label.")
    description: str = ""
    format: "FormatDef" = Field(default_factory=lambda: FormatDef(), description="How the measure is shown as a component.")

    @model_validator(mode="after")
    def _check(self) -> "MeasureDef":
        if self.agg != "count" and not self.expr:
            raise ValueError(_("agg '{agg}' needs expr (the SQL expression to aggregate)").format(agg=self.agg))
        if (self.agg == "percentile") != (self.p is not None):
            raise ValueError(_("p (0..1) is required with agg: percentile and only there"))
        if self.snapshot and self.first_per:
            raise ValueError(_("first_per and snapshot cannot be combined"))
        return self


class FormatDef(Strict):
    kind: Literal[FORMAT_KINDS] = "number"  # type: ignore[valid-type]
    currency: str | None = None
    decimals: int | None = Field(None, ge=0, le=6)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"kind": v} if isinstance(v, str) else v


class TargetDef(Strict):
    value: Number
    period: Literal[TARGET_PERIODS] = "any"  # type: ignore[valid-type]
    where: dict[Identifier, str] = {}


MeasureDef.model_rebuild()


class MetricBase(Strict):
    label: str | None = None
    description: str = ""
    synonyms: list[str] = []
    format: FormatDef = FormatDef()
    better: Literal["higher", "lower"] = "higher"
    targets: list[TargetDef] = []
    dimensions: list[Identifier] | None = Field(None, description="Allowed breakdowns; default: all that every measure serves.")
    owner: str | None = None
    hidden: bool = False


class SimpleMetric(MetricBase):
    type: Literal["simple"] = "simple"
    measure: Identifier


class RatioMetric(MetricBase):
    type: Literal["ratio"] = "ratio"
    numerator: Identifier
    denominator: Identifier


class DerivedMetric(MetricBase):
    type: Literal["derived"] = "derived"
    expr: str


class ConversionSide(Strict):
    measure: Identifier
    entity: str


class ConversionMetric(MetricBase):
    type: Literal["conversion"] = "conversion"
    base: ConversionSide
    target: ConversionSide
    within: str = Field(pattern=r"^\s*\d+\s*(d|day|days)\s*$", description="e.g. '90 days'")

    @property
    def within_days(self) -> int:
        return int(re.match(r"\s*(\d+)", self.within).group(1))  # type: ignore[union-attr]


WINDOW_PATTERN = r"^\s*\d+\s*(d|day|days|w|week|weeks|m|month|months|q|quarter|quarters|y|year|years)\s*$"


class CumulativeMetric(MetricBase):
    """A running total (``since:`` a date, or since the data begins) or a trailing ``window:`` of a
    measure or of a ratio of two measures, valued at each window's end.

    The ratio is of the two sums over the same span (a trailing 90-day win rate is the won deals of
    those 90 days over their closed deals), never an average of daily rates."""

    type: Literal["cumulative"] = "cumulative"
    measure: Identifier | None = None
    numerator: Identifier | None = None
    denominator: Identifier | None = None
    since: date | None = Field(None, description="Running total from this day (default: since the data begins).")
    window: str | None = Field(None, pattern=WINDOW_PATTERN,
                               description="A trailing window instead: '90 days', '13 weeks', '3 months', '1 year'.")

    @model_validator(mode="after")
    def _one_shape(self) -> "CumulativeMetric":
        if (self.measure is None) == (self.numerator is None and self.denominator is None):
            raise ValueError(_("give measure:, or numerator: and denominator: (not both)"))
        if self.measure is None and (self.numerator is None or self.denominator is None):
            raise ValueError(_("a cumulative ratio needs both numerator: and denominator:"))
        if self.since is not None and self.window is not None:
            raise ValueError(_("give since: (a running total) or window: (a trailing window), not both"))
        return self

    @property
    def window_span(self) -> tuple[int, str] | None:
        """(count, unit) of a trailing window: '3 months' -> (3, 'month'); None for a running total."""
        if self.window is None:
            return None
        n, unit = re.match(r"\s*(\d+)\s*([a-z]+)", self.window).groups()  # type: ignore[union-attr]
        return int(n), {"d": "day", "w": "week", "m": "month", "q": "quarter", "y": "year"}[unit[0]]

    def per_window(self) -> "SimpleMetric | RatioMetric":
        """The metric each (widened) window computes: the measure, or the ratio of the two sums."""
        common = self.model_dump(include={"label", "description", "format", "better"})
        if self.measure is not None:
            return SimpleMetric(measure=self.measure, **common)
        return RatioMetric(numerator=self.numerator, denominator=self.denominator, **common)  # type: ignore[arg-type]


class ConstantMetric(MetricBase):
    type: Literal["constant"] = "constant"
    value: Number


def _metric_type(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "constant" if isinstance(v, (int, float)) else None
    if "type" in v:
        return v["type"]
    if "since" in v or "window" in v:
        return "cumulative"
    for key, kind in (("numerator", "ratio"), ("measure", "simple"), ("base", "conversion"),
                      ("expr", "derived"), ("value", "constant")):
        if key in v:
            return kind
    return None


def _constant_shorthand(v: Any) -> Any:
    return {"type": "constant", "value": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v


ROLLUP_GRAINS = ("day", "month", "quarter", "year")
ROLLUP_SETTINGS = ("store", "schema", "directory")


class RollupDef(Strict):
    """One pre-aggregation: partial aggregates of its measures per (local bucket, dimensions)."""

    measures: list[Identifier] = Field([], description="Measures stored (count, sum, avg, min, max at any coarser "
                                                       "grain; count_distinct, median and percentile at this exact grain).")
    conversions: list[Identifier] = Field([], description="Conversion metrics stored in their own form "
                                                          "(base rows per day, flagged when they converted).")
    dimensions: list[Identifier] = Field([], description="Dimensions kept; questions may break down or filter by these.")
    grain: Literal[ROLLUP_GRAINS] = Field("day", description="The time bucket, in the calendar's time zone.")  # type: ignore[valid-type]
    description: str = ""

    @model_validator(mode="after")
    def _something(self) -> "RollupDef":
        if not self.measures and not self.conversions:
            raise ValueError(_("a rollup needs measures: (or conversions:) to store"))
        return self


class RollupsDef(BaseModel):
    """The ``rollups:`` section: where rollups are built, then each rollup by name."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[Identifier, RollupDef]  # type: ignore[assignment]

    store: Literal["local", "warehouse"] = Field(
        "local", description="local: Parquet files under `directory`, read by DuckDB (for a warehouse that kpi may "
                             "not write to); warehouse: tables in the connection's engine, in `schema`.")
    schema_: str = Field("kpi_rollups", alias="schema", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                         description="warehouse store: the schema (PostgreSQL, Snowflake), database (Spark) or dataset (BigQuery).")
    directory: str = Field(".kpi/rollups", description="local store: where the files go, relative to definitions.yaml.")

    @model_validator(mode="before")
    @classmethod
    def _names(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for key, value in v.items():
                if key in ROLLUP_SETTINGS:
                    continue
                if not isinstance(value, dict):
                    from .errors import hint_for

                    raise ValueError(_("'{key}' is neither a setting nor a rollup (a mapping with measures:)").format(
                        key=key) + hint_for(str(key), ROLLUP_SETTINGS, what=_("settings")))
                if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(key)):
                    raise ValueError(_("'{name}' is not a valid rollup name (letters, digits and _; not starting with a "
                                       "digit)").format(name=key))
        return v

    @property
    def named(self) -> dict[str, RollupDef]:
        return dict(self.__pydantic_extra__ or {})


MetricDef = Annotated[
    Union[
        Annotated[SimpleMetric, Tag("simple")],
        Annotated[RatioMetric, Tag("ratio")],
        Annotated[DerivedMetric, Tag("derived")],
        Annotated[ConversionMetric, Tag("conversion")],
        Annotated[ConstantMetric, Tag("constant")],
        Annotated[CumulativeMetric, Tag("cumulative")],
    ],
    Discriminator(_metric_type, custom_error_type="metric_type",
                  custom_error_message="cannot tell the metric's type: give type: simple|ratio|derived|conversion|constant|cumulative"),
]
METRIC_TYPES = ("simple", "ratio", "derived", "conversion", "constant", "cumulative")


class Definitions(Strict):
    version: Literal[1] = 1
    sql_dialect: Literal[SQL_DIALECTS] = Field(  # type: ignore[valid-type]
        "duckdb", description="The SQL dialect the expressions in this file are written in.")
    connection: ConnectionDef = ConnectionDef()
    calendar: CalendarDef = CalendarDef()
    locale: LocaleDef = LocaleDef()
    defaults: DefaultsDef = DefaultsDef()
    tables: dict[Identifier, TableDef]
    measures: dict[Identifier, MeasureDef]
    metrics: dict[Identifier, MetricDef]
    rollups: RollupsDef = Field(default_factory=RollupsDef, description="Pre-aggregations that answer questions fast (see README, Rollups).")
    slack: dict[str, Any] | None = Field(None, description="Slack bot settings (see bot/README.md).")
    sheets: dict[str, Any] | None = Field(None, description="Google Sheets workbook (see sheets/README.md).")

    @field_validator("metrics", mode="before")
    @classmethod
    def _constants(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for k in list(v):
                v[k] = _constant_shorthand(v[k])
        return v

    @property
    def sections(self) -> dict[str, Any]:
        """Extension sections (``slack:``, ``sheets:``) as raw data, validated by their packages."""
        return {k: getattr(self, k) for k in ("slack", "sheets") if getattr(self, k) is not None}

    def metric_label(self, name: str) -> str:
        m = self.metrics[name]
        return m.label or name.replace("_", " ").capitalize()

    def measure_label(self, name: str, category: str | None = None) -> str:
        """The measure's label; after a count, the form for its plural ``category`` ("few") when given."""
        m = self.measures[name]
        return (m.forms.get(category) if category else None) or m.label or name.replace("_", " ")
