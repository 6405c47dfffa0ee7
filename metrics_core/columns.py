"""Plain named columns: what a backend returns and what a result holds (layer 1: plain data).

A statement's answer is a few dozen rows at most, so plain Python lists serve it well and keep
pandas (0.5 s and 100 MB to import) off the path of `kpi query`. DataFrames are built on demand:

    cols = Columns.from_rows(["pid", "value"], [(0, 0.27), (1, 0.25)])
    len(cols), cols.names, cols["value"]       # 2, ("pid", "value"), [0.27, 0.25]
    cols.records()                              # [{"pid": 0, "value": 0.27}, {"pid": 1, "value": 0.25}]
    cols.scalar()                               # 0 (first cell, None when empty)
    cols.to_pandas()                            # a DataFrame (imports pandas now)

Engine values are normalised once here: DECIMAL becomes float (every engine then compares the
same), NaN in a pandas frame becomes None.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

if TYPE_CHECKING:
    import pandas as pd


def plain(value: Any) -> Any:
    """One engine value as a plain Python value: Decimal -> float, NaN/NaT -> None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ == "NaTType":
        return None
    return value


class Columns:
    """Equal-length named columns of plain Python values (read-only by convention)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Sequence[Any]] | None = None) -> None:
        self._data: dict[str, list[Any]] = {str(k): list(v) for k, v in (data or {}).items()}
        lengths = {len(v) for v in self._data.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: {sorted(lengths)}")

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> "Columns":
        """From a DB-API style fetch: column names and row tuples."""
        rows = list(rows)
        cols = list(zip(*rows)) if rows else [() for _ in names]
        return cls({n: [plain(v) for v in col] for n, col in zip(names, cols)})

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], names: Sequence[str] | None = None) -> "Columns":
        """From dicts; ``names`` fixes the columns and their order (missing keys are None)."""
        records = list(records)
        if names is None:
            names = list(dict.fromkeys(k for r in records for k in r))
        return cls({n: [r.get(n) for r in records] for n in names})

    @classmethod
    def from_pandas(cls, df: "pd.DataFrame") -> "Columns":
        """From a DataFrame (the warehouse drivers that only speak pandas)."""
        return cls({str(k): [plain(v) for v in df[k].tolist()] for k in df.columns})

    # -- reading -------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._data)

    def __len__(self) -> int:
        return len(next(iter(self._data.values()), ()))

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __getitem__(self, name: str) -> list[Any]:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Columns) and self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Columns({len(self)} rows: {', '.join(self.names)})"

    def get(self, name: str, default: Any = None) -> list[Any] | Any:
        return self._data.get(name, default)

    def records(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row)) for row in zip(*self._data.values())] if names else []

    def scalar(self) -> Any:
        """The first cell (``SELECT max(x)`` -> x), None when there is no row."""
        first = next(iter(self._data.values()), [])
        return first[0] if first else None

    def rename(self, fn: Any) -> "Columns":
        return Columns({fn(k): v for k, v in self._data.items()})

    def to_pandas(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame({k: v for k, v in self._data.items()}, columns=list(self._data))


def _records(table: Any) -> list[dict[str, Any]]:
    """Rows of an engine's answer as dicts with lower-case keys (a DataFrame or plain columns)."""
    if hasattr(table, "to_dict"):
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
    else:
        rows = table.records()
    return [{str(k).lower(): v for k, v in r.items()} for r in rows]
