"""`kpi rollups suggest|build|status|drop` (edge layer: Typer + Rich).

    kpi rollups suggest               # a rollups: section for the metrics, Sheets tabs and Slack digests
    kpi rollups build [NAME ...]      # build or refresh what is not fresh (--full: rebuild everything)
    kpi rollups status                # per part: fresh / stale (why) / not built, rows, size, build time
    kpi rollups drop [NAME ...]       # remove the stored parts (all when no name is given)
"""

from __future__ import annotations

from typing import Annotated, Any, List, Optional

import typer

from .cli import DefinitionsOpt, guarded, out
from .i18n import _, help_gettext as _h, ngettext

rollups_app = typer.Typer(no_args_is_help=True, help=_h("Pre-aggregations that answer in milliseconds."))
NamesArg = Annotated[Optional[List[str]], typer.Argument(help=_h("Rollup names (default: all)."), show_default=False)]


def _size(n: Any) -> str:
    if n is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _table(rows: list[dict[str, Any]], cols: list[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not out.is_terminal:  # piped: one tab-separated line per row
        for r in rows:
            print("\t".join(str(_cell(c, r.get(c))) for c in cols))
        return
    t = Table(show_edge=False, pad_edge=False)
    for c in cols:
        t.add_column(HEADERS.get(c, c), justify="right" if c in ("rows", "size", "seconds") else "left")
    for r in rows:
        t.add_row(*(Text(str(_cell(c, r.get(c)))) for c in cols))
    out.print(t)


def _cell(col: str, v: Any) -> Any:
    if col in ("state", "mode") and isinstance(v, str):
        return WORDS.get(v, v)
    return "" if v is None else v


def _headers() -> dict[str, str]:
    return {"rollup": _("rollup"), "part": _("part"), "kind": _("kind"), "mode": _("how"), "rows": _("rows"),
            "size": _("size"), "seconds": _("seconds"), "stores": _("stores"), "dimensions": _("dimensions"),
            "grain": _("grain"), "state": _("state"), "built_at": _("built at")}


def _words() -> dict[str, str]:
    return {"fresh": _("fresh"), "not built": _("not built"), "full": _("in full"), "incremental": _("incremental"),
            "fresh (kept)": _("fresh (kept)")}


class _Lazy(dict):
    """Looked up when printed, so the words follow the language the command chose."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self.make = make

    def get(self, key: Any, default: Any = None) -> Any:
        return self.make().get(key, default)


HEADERS, WORDS = _Lazy(_headers), _Lazy(_words)


@rollups_app.command(help=_h("Print a rollups: section for the metrics and what Sheets and Slack ask of them."))
def suggest(definitions: DefinitionsOpt = None) -> None:
    """Print a rollups: section for the metrics and what Sheets and Slack ask of them."""
    def body() -> None:
        from .load import load_definitions
        from .rollup_suggest import as_yaml, suggest as propose

        loaded = load_definitions(definitions, sections=False)
        print(as_yaml(propose(loaded.defs, loaded.raw)), end="")
    guarded(body)


@rollups_app.command(help=_h("Build or refresh every rollup part that is not fresh (incrementally where the table allows)."))
def build(names: NamesArg = None, definitions: DefinitionsOpt = None,
          full: Annotated[bool, typer.Option("--full", help=_h("Rebuild from scratch even when fresh or refreshable."))] = False) -> None:
    """Build or refresh every rollup part that is not fresh (incrementally where the table allows)."""
    def body() -> None:
        from .cli import open_kpi

        kpi = open_kpi(definitions, cache=False)
        rows = kpi.rollups.build(list(names or []), full=full)
        for r in rows:
            r["size"] = _size(r.get("bytes"))
        _table(rows, ["rollup", "part", "kind", "mode", "rows", "size", "seconds"])
    guarded(body)


@rollups_app.command(help=_h("Each rollup part: fresh, stale (and why) or not built; rows, size, when and how it was built."))
def status(definitions: DefinitionsOpt = None) -> None:
    """Each rollup part: fresh, stale (and why) or not built; rows, size, when and how it was built."""
    def body() -> None:
        from .cli import open_kpi

        rows = open_kpi(definitions, cache=False).rollups.status()
        for r in rows:
            r["size"] = _size(r.get("bytes"))
        _table(rows, ["rollup", "part", "stores", "dimensions", "grain", "state", "rows", "size", "built_at", "mode"])
    guarded(body)


@rollups_app.command(help=_h("Remove stored rollup parts (all of them when no name is given)."))
def drop(names: NamesArg = None, definitions: DefinitionsOpt = None) -> None:
    """Remove stored rollup parts (all of them when no name is given)."""
    def body() -> None:
        from .cli import open_kpi

        gone = open_kpi(definitions, cache=False).rollups.drop(list(names or []) or None)
        n = len(gone)
        out.print(ngettext("dropped {n} part", "dropped {n} parts", n).format(n=n) + (f": {', '.join(gone)}" if gone else ""))
    guarded(body)
