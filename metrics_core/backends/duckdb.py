"""The embedded default engine: a DuckDB file (or memory) in process.

Rows are fetched as Python tuples into ``Columns`` (no pandas: ``.df()`` would import it, and
pandas alone costs a cold `kpi query` more than the whole answer)."""

from __future__ import annotations

import itertools
import json
import re
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

import duckdb

from ..columns import Columns
from ..errors import ConfigError, DataError
from ..i18n import N_, _
from ..memo import Memo

WHERE = N_("a relative path is relative to definitions.yaml; an absolute one needs four slashes: "
         "duckdb:////data/crm.duckdb")


# a query (not DDL or DML), after any leading comment lines: what a kept plan may serve
QUERY = re.compile(r"\s*(?:--[^\n]*\n\s*)*(?:WITH|SELECT)\b", re.IGNORECASE)
PLANS_KEPT = 64  # statements per thread whose plans an engine keeps (40-70 KB each, measured at M)
SEEN, NOT_KEPT = 1, 0  # a statement run once (its plan is made the next time), one that reads more than tables
TABLES = ("SELECT d.type, t.database_name, t.schema_name, t.table_name FROM duckdb_tables() AS t "
          "JOIN duckdb_databases() AS d USING (database_name)")


class DuckDBBackend:
    dialect = "duckdb"

    def __init__(self, path: str, *, read_only: bool = False, reuse_plans: int = 0) -> None:
        """Open ``path``; reading (``read_only``) never creates it: a missing file is reported.

        ``reuse_plans``: keep DuckDB's prepared plan of up to this many queries per thread, made when
        a statement runs the second time, and run it from then on (``EXECUTE``), skipping its parse,
        bind and optimize (at M a median 13% of a rollup-served answer, 4% of a raw one, up to 10%
        of a small one). Only a query without parameters that reads nothing but base tables of
        DuckDB databases (``_tables_only``): a plan reads a table's rows as they are when it runs,
        and DuckDB binds it again when a table is replaced, but a plan over a file glob, a view of
        one or a table function would keep reading the files matched when it was made. A statement
        run only once (a `kpi query` process asks one question) is never prepared: it pays nothing."""
        self.url = f"duckdb:///{path}"
        self.path = path
        if path != ":memory:":
            p = Path(path)
            if p.is_dir():
                raise ConfigError(_("the DuckDB path '{path}' is a directory; name a file ({where})").format(
                    path=path, where=_(WHERE)))
            if read_only and not p.exists():
                raise ConfigError(_("no DuckDB file at '{path}' (run `kpi demo` for the demo data, or fix "
                                    "connection: in definitions; {where})").format(path=path, where=_(WHERE)))
            if not read_only:
                p.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(path, read_only=read_only)
        except duckdb.Error as e:  # not a DuckDB file, a newer format, locked by a writer
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ConfigError(_("cannot open the DuckDB file '{path}': {first}").format(path=path, first=first)) from e
        self._lock = threading.Lock()
        self._plans_max = reuse_plans
        self._local = threading.local()  # this thread's cursor and its prepared plans, by statement
        self._plan_names = itertools.count()
        self._plan_cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
        self._generation = 0  # bumped by every statement run here that is not a query: plans made before go
        # whether a statement may keep a plan, judged once for every thread (keyed by the generation too)
        self._verdicts = Memo(4 * max(reuse_plans, 1))

    @classmethod
    def from_url(cls, url: str, *, base_dir: Path, read_only: bool = False,
                 missing_ok: bool = False) -> "DuckDBBackend":
        """``missing_ok``: a missing file opens an in-memory database (definitions that read only files)."""
        raw = url.split("://", 1)[1] if "://" in url else url
        # SQLAlchemy's convention: duckdb:///relative/path, duckdb:////absolute/path
        raw = raw[1:] if raw.startswith("/") else raw
        if raw in ("", ":memory:"):
            return cls(":memory:")
        path = Path(raw)
        if not path.is_absolute():
            path = base_dir / path
        if missing_ok and read_only and not path.exists():
            return cls(":memory:")
        return cls(str(path), read_only=read_only, reuse_plans=PLANS_KEPT)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def run(self, sql: str, params: dict[str, Any]) -> Columns:
        # One cursor per call: DuckDB connections are not safe to share across threads,
        # cursors on one connection are (the bot answers concurrently). A kept plan lives on
        # its thread's own cursor, which stays open.
        query = QUERY.match(sql) is not None
        reuse = bool(self._plans_max) and not params and query
        cur = self._plan_cursor() if reuse else self._con.cursor()
        try:
            if reuse:
                self._execute_planned(cur, sql)
            else:
                if not query:  # DDL or DML: a table may be a view now; every thread drops its plans
                    self._generation += 1
                cur.execute(sql, params or None)
            if cur.description is None:  # a statement without rows (CREATE, INSERT)
                return Columns()
            names = [d[0] for d in cur.description]
            return Columns.from_rows(names, cur.fetchall())
        except duckdb.CatalogException as e:
            raise DataError(_("{reason} (run `kpi demo` to create the demo data, or check tables: in definitions)").format(
                reason=str(e).splitlines()[0])) from e
        except duckdb.BinderException as e:  # a declared column the source does not have
            raise DataError(_("{reason} (`kpi validate --check-data` lists every missing column)").format(
                reason=str(e).splitlines()[0])) from e
        except duckdb.ConversionException as e:
            raise DataError(_("data does not match its declaration: {reason}").format(
                reason=str(e).splitlines()[0])) from e
        except duckdb.IOException as e:  # files: a glob that matches nothing, an unreadable file
            raise DataError(_("cannot read a source file: {reason} (check files: in definitions; `kpi validate` "
                              "lists globs that match nothing)").format(reason=str(e).splitlines()[0])) from e
        except duckdb.InvalidInputException as e:  # a CSV row with an unclosed quote, a wrong delimiter
            raise DataError(_("cannot read the data as declared: {error}").format(error=_csv_reason(e))) from e
        finally:
            if not reuse:
                cur.close()

    def _plan_cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._con.cursor()
            self._local.plans = OrderedDict()
            self._local.generation = self._generation
            with self._lock:  # close() may be walking the set
                self._plan_cursors.add(cur)
        return cur

    def _execute_planned(self, cur: duckdb.DuckDBPyConnection, sql: str) -> None:
        """Run ``sql`` on this thread's cursor: from its kept plan (``EXECUTE``), or plainly the first
        time, when it reads more than tables, or while its plan cannot be made. The plan is made on
        the second run; the least recently used statement goes past ``reuse_plans`` (its plan
        deallocated)."""
        # not memo.Memo: a plan that falls out must be deallocated on this cursor, and Memo drops silently
        plans: OrderedDict[str, str | int] = self._local.plans
        if self._local.generation != self._generation:  # DDL or DML ran here since: decide everything again
            for entry in plans.values():
                if isinstance(entry, str):
                    cur.execute(f"DEALLOCATE {entry}")
            plans.clear()
            self._local.generation = self._generation
        entry = plans.get(sql)
        if entry == SEEN and self._verdicts.get((self._generation, sql), lambda: self._tables_only(cur, sql)):
            entry = f"kpi_plan_{next(self._plan_names)}"
            cur.execute(f"PREPARE {entry} AS {sql}")  # a failing statement is not kept (it stays SEEN)
        elif entry == SEEN:
            entry = NOT_KEPT
        plans[sql] = SEEN if entry is None else entry
        plans.move_to_end(sql)
        if len(plans) > self._plans_max:
            gone = plans.popitem(last=False)[1]
            if isinstance(gone, str):
                cur.execute(f"DEALLOCATE {gone}")
        cur.execute(f"EXECUTE {entry}" if isinstance(entry, str) else sql)

    @staticmethod
    def _tables_only(cur: duckdb.DuckDBPyConnection, sql: str) -> bool:
        """Whether ``sql`` is one query that reads nothing but base tables of DuckDB databases: no table
        function (``read_parquet``, ``read_csv``), no file named as a table, no view, no table of an
        attached database of another kind. Judged from DuckDB's own parse of it, against its catalog now."""
        try:
            tree = json.loads(cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
            refs: list[tuple[str, str, str]] = []
            ctes: set[str] = set()
            if tree.get("error") or len(tree["statements"]) != 1 or not _walk(tree, refs, ctes):
                return False  # "PREPARE p AS a; b" would prepare a, run b, and EXECUTE a where b answered
            tables = _lower(cur.execute(TABLES).fetchall())
            views = {name.lower() for (name,) in cur.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        except (duckdb.Error, ValueError, TypeError, AttributeError, KeyError):  # another shape of DuckDB's parse
            return False
        for catalog, schema, name in refs:
            if name in views or any(kind != "duckdb" and t == name for kind, _d, _s, t in tables):
                return False
            if not catalog and not schema and name in ctes:
                continue
            if not any(t == name and schema in ("", s, d) and catalog in ("", d) for _k, d, s, t in tables):
                return False  # a file read as a table, or a name DuckDB resolves otherwise
        return True

    def table_columns(self, table: str) -> list[str] | None:
        cur = self._con.cursor()
        try:
            rows = cur.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()  # table is a validated identifier
        except duckdb.Error:
            return None
        finally:
            cur.close()
        return [r[0] for r in rows]

    def data_version(self) -> str | None:
        if self.path == ":memory:":
            return None
        p = Path(self.path)
        wal = p.with_suffix(p.suffix + ".wal")
        stamps = [f"{x.stat().st_mtime_ns}:{x.stat().st_size}" for x in (p, wal) if x.exists()]
        return "|".join(stamps) or None

    def close(self) -> None:
        with self._lock:
            kept = list(self._plan_cursors)
        for cur in kept:
            cur.close()
        self._con.close()


def _walk(node: Any, refs: list[tuple[str, str, str]], ctes: set[str]) -> bool:
    """Collect the (catalog, schema, name) of every table a parsed statement names and every CTE it
    defines, lower-cased; False when it calls a table function (a file, a glob, another system)."""
    if isinstance(node, dict):
        if node.get("type") == "TABLE_FUNCTION":
            return False
        if node.get("type") == "BASE_TABLE":
            refs.append(tuple(str(node.get(k) or "").lower() for k in ("catalog_name", "schema_name", "table_name")))  # type: ignore[arg-type]
        for item in (node.get("cte_map") or {}).get("map", []):
            ctes.add(str(item.get("key", "")).lower())
        return all(_walk(v, refs, ctes) for v in node.values())
    if isinstance(node, list):
        return all(_walk(v, refs, ctes) for v in node)
    return True


def _lower(rows: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    return [tuple(str(x).lower() for x in row) for row in rows]


def _csv_reason(e: Exception) -> str:
    """DuckDB's CSV errors run to a page; the first line and the file and line they name are enough."""
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    where = next((x for x in lines if x.lower().startswith(("line", "original line", "file"))), "")
    return " ".join(x for x in (lines[0] if lines else type(e).__name__, where) if x)
