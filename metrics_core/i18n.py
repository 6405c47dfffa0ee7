"""Every user-facing word in the reader's language: gettext catalogs read with Babel (layer 0; pure).

    with use_locale("pl_PL"):
        _("target")                                            -> 'cel'
        ngettext("{n} row", "{n} rows", 5).format(n="5")       -> '5 wierszy'
    _("target")                                                -> 'target' (English outside a scope)

One catalog domain, ``kpi``, for metrics_core, bot and sheets: the Polish one is
``metrics_core/locale/pl/LC_MESSAGES/kpi.po``, kept in the repository and read as it is at run time
(no compiled ``.mo`` to build or forget after ``pip install -e .``); the compiled form is kept in the
user's cache directory, keyed by the ``.po`` file's path, size and mtime, so a command reads a ready
``.mo`` (about 1 ms) instead of parsing the ``.po`` (about 100 ms with Babel's imports). A string missing from a catalog,
or marked fuzzy, falls back to English. ``make i18n`` re-extracts the messages and updates the
catalogs; ``tests/test_i18n_catalog.py`` fails when the catalog misses a message the code uses.

The locale is a context variable, not a process global: the bot answers several workspaces and
users (each with its own language) at once, each handler in its own scope. Two kinds of choice:

- ``use_locale(x)``: the reader's language inside a ``with`` block (a Slack user's, a renderer's);
  ``active_locale()`` reports it, and a ``KPI`` answers in it instead of its own ``locale:``.
- ``set_locale(x)``: the language of the rest of one command, inside ``command_scope()`` (the CLI's
  ``guarded``). It only words what the command itself prints; it is never an ``active_locale()``,
  and outside a command scope it does nothing, so no language outlives its command (regression:
  ``open_kpi`` in a test or a plugin left Polish set for the thread, and the next English ``KPI``
  answered in Polish). A ``KPI`` always speaks its own ``locale:`` unless a reader scope says otherwise.

Before any definitions are read (``--help``, a file too broken to show its ``locale:``), a command
speaks the environment's language: ``KPI_LOCALE``, else ``LC_ALL`` / ``LC_MESSAGES`` / ``LANG``
(``pl_PL.UTF-8`` -> ``pl_PL``; ``C`` and ``POSIX`` mean English), else English.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import io
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from babel.support import NullTranslations, Translations

DOMAIN = "kpi"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en_US"

_active: contextvars.ContextVar[tuple[str, NullTranslations] | None] = contextvars.ContextVar("kpi_locale",
                                                                                             default=None)
# One command's language, a one-element list so that ``set_locale`` deep inside the command can fill
# it in; None outside any ``command_scope`` (then ``set_locale`` has nowhere to write).
_command: contextvars.ContextVar[list[str | None] | None] = contextvars.ContextVar("kpi_command_locale",
                                                                                  default=None)


def _candidates(locale: str) -> list[str]:
    name = str(locale).replace("-", "_")
    return list(dict.fromkeys([name, name.split("_")[0].lower()]))


@functools.lru_cache(maxsize=32)
def translations(locale: str) -> NullTranslations:
    """The catalog for ``locale`` ("pl_PL" uses ``pl``); English (no catalog) when there is none."""
    for name in _candidates(locale):
        po = LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.is_file():
            return Translations(io.BytesIO(_compiled(po, name)), domain=DOMAIN)
    return NullTranslations()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kpi" / "catalogs"


def _compiled(po: Path, name: str) -> bytes:
    """The ``.mo`` bytes of ``po``: from the cache when its key (path, size, mtime) matches, else compiled
    with Babel and stored there (best effort: a read-only home only costs the compile each time)."""
    st = po.stat()
    key = hashlib.sha256(f"{po}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:20]
    cached = _cache_dir() / f"{DOMAIN}-{name}-{key}.mo"
    try:
        return cached.read_bytes()
    except OSError:
        pass
    from babel.messages.mofile import write_mo  # only when compiling: Babel's catalog code is slow to import
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=name, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out: they fall back to English
    data = buf.getvalue()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(cached)  # atomic: a concurrent reader sees the whole file or none
    except OSError:
        pass
    return data


def available() -> tuple[str, ...]:
    """Languages with a catalog, besides English: ("pl",)."""
    return tuple(sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Translate in ``locale`` inside the block (``None`` keeps the one in effect)."""
    if not locale:
        yield active_locale() or DEFAULT
        return
    token = _active.set((str(locale), translations(str(locale))))
    try:
        yield str(locale)
    finally:
        _active.reset(token)


def active_locale() -> str | None:
    """The locale set by the innermost ``use_locale``, or None outside any."""
    cur = _active.get()
    return cur[0] if cur else None


def _current() -> NullTranslations:
    cur = _active.get()
    if cur:
        return cur[1]
    cell = _command.get()
    return translations(cell[0]) if cell and cell[0] else _NULL


_NULL = NullTranslations()


def catalog() -> NullTranslations:
    """The catalog ``_()`` reads right now (one object per language): a key for text built from its words."""
    return _current()


def _(message: str) -> str:
    """``message`` in the active language."""
    return _current().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for count ``n`` (Polish has three: 1 transakcja, 2 transakcje, 5 transakcji)."""
    return _current().ngettext(singular, plural, int(n))


def pgettext(context: str, message: str) -> str:
    """``message`` in the active language, told apart by ``context`` ("status" "met" vs others)."""
    return _current().pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet (module-level tables)."""
    return message


@contextmanager
def command_scope(locale: str | None = None) -> Iterator[None]:
    """One command's words: in ``locale`` (e.g. ``env_locale()``) until ``set_locale`` picks another;
    when the block ends, the language the caller had comes back."""
    token = _command.set([locale or None])
    try:
        yield
    finally:
        _command.reset(token)


def set_locale(locale: str | None) -> None:
    """The language of the rest of the current command (``command_scope``); outside one it does nothing."""
    cell = _command.get()
    if cell is not None and locale:
        cell[0] = str(locale)


def command_locale() -> str | None:
    """The language the current command chose (``set_locale`` / ``command_scope``), None outside one."""
    cell = _command.get()
    return cell[0] if cell else None


def env_locale() -> str | None:
    """The environment's language: KPI_LOCALE, else LC_ALL / LC_MESSAGES / LANG; None for C, POSIX or unset."""
    import os

    for name in ("KPI_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").strip()
        if value:
            value = value.split(".")[0].split("@")[0]
            return None if value in ("C", "POSIX") else value
    return None


def help_gettext(message: str) -> str:
    """``message`` in the environment's language, for ``--help`` texts: Typer reads them when it builds
    the app, before any definitions are read. Marked with ``_h`` in the CLI modules (``make i18n``)."""
    locale = env_locale()
    return translations(locale).gettext(message) if locale else message


gettext = _  # the public name for clients: ``from metrics_core.i18n import gettext as _``


def speaking() -> str:
    """The locale ``_()`` speaks right now: a reader scope's, else the command's, else English."""
    return active_locale() or command_locale() or DEFAULT


def fmt_int(n: int) -> str:
    """A count in the language spoken now ("1,000,000" / "1 000 000"), for messages outside an answer."""
    from babel.numbers import format_decimal

    try:
        return format_decimal(n, locale=speaking())
    except Exception:  # noqa: BLE001 - a locale Babel does not know (KPI_LOCALE=xx): English digits
        return f"{n:,}"
