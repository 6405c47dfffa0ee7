"""One error family for kpi (layer 0: imports nothing from the project).

User errors (a broken definitions file, a query that cannot be answered, data that does not
match its declaration) are ``KpiUserError``s: their message is shown as it is, in one line or a
short list, and the process exits 1. Everything else is an ``InternalError`` (a bug): the CLI
prints a short line and the trace under ``-v``; the bot says "something broke (ref ...)".

No message shows a secret: ``KpiError.__str__`` (and ``Issue``, ``DefinitionError``) apply
``redaction.redact``; bot/ and sheets/ import it from here.

Messages follow one shape: what is wrong, where, what is allowed, a hint::

    definitions.yaml:42: metrics.cac.numerator: unknown measure 'spnd' (did you mean 'spend'?)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .i18n import _, ngettext
from .redaction import RedactSecrets, mark_secret, mark_url_password, redact, redact_logs  # noqa: F401 - re-exported


def suggest(word: str, choices: Iterable[str], *, cutoff: float = 0.6, limit: int = 3) -> list[str]:
    """Close names for ``word`` among ``choices`` (case-insensitive), best first."""
    choices = list(dict.fromkeys(str(c) for c in choices))
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=limit, cutoff=cutoff)
    return [lowered[h] for h in hits]


def hint_for(word: str, choices: Iterable[str], *, what: str = "allowed") -> str:
    """`` (did you mean 'x'?)`` when something is close, else `` (allowed: a, b, c)``."""
    choices = sorted(dict.fromkeys(str(c) for c in choices))
    close = suggest(word, choices)
    if close:
        # TRANSLATORS: a suggestion after an error, e.g. " (did you mean 'win_rate'?)"; "or" joins names
        return _(" (did you mean {names}?)").format(names=_(" or ").join(f"'{c}'" for c in close))
    if what == "allowed":
        what = _("allowed")
    elif not choices:
        return _(" (none are {what})").format(what=what)
    if not choices:
        return ""
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f" ({what}: {shown})"


class ExprError(ValueError):
    """A SQL snippet of the definitions that does not parse or uses something not allowed (expressions.py);
    the message is user-facing. Not a KpiError: the loader and the compiler turn it into one, with context."""


class KpiError(Exception):
    """Base of every error kpi raises on purpose; its text never shows a secret."""

    def __str__(self) -> str:
        return redact(super().__str__())


class KpiUserError(KpiError):
    """Something the user can fix: shown as it is, exit code 1."""


@dataclass(frozen=True)
class Issue:
    """One finding about a definitions file: where it is and what is wrong."""

    message: str
    source: str = "definitions.yaml"
    line: int | None = None
    key: str = ""  # dotted path of the offending key, e.g. "metrics.cac.numerator"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        key = f" {self.key}:" if self.key else ""
        return redact(f"{where}:{key} {self.message}")


@dataclass
class DefinitionError(KpiUserError):
    """A definitions file with one or more problems; all of them are listed at once."""

    issues: Sequence[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.issues)  # worded now, in the language the issues were worded in, not when printed
        head = ngettext("{count} problem in definitions", "{count} problems in definitions", n).format(count=n)
        self._text = head + ":\n" + "\n".join(f"  {i}" for i in self.issues)
        super().__init__(self._text)

    def __str__(self) -> str:
        return redact(self._text)


class QueryError(KpiUserError):
    """A question that cannot be answered as asked (unknown metric, dimension, period...)."""


class DataError(KpiUserError):
    """The data does not match its declaration (missing table or column, unparseable dates)."""


class ConfigError(KpiUserError):
    """A missing or invalid setting outside definitions.yaml (environment, credentials, extras)."""


class AccessDenied(KpiUserError):
    """The asker may not see this metric (bot access rules)."""


class InternalError(KpiError):
    """A bug or an unexpected failure of a backend: not the user's fault."""


def missing_extra(package: str, extra: str) -> ConfigError:
    """The error for an optional driver that is not installed, with the exact install command."""
    return ConfigError(_("the Python package '{package}' is not installed; install it with: "
                         "pip install 'kpi[{extra}]'").format(package=package, extra=extra))
