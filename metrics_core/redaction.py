"""Secrets never shown: one redaction for every message, log line, SQL listing and Slack reply
(layer 0: imports nothing from the project).

``redact(text)`` replaces with ``***``:

* a URL's password, whatever the scheme (a mistyped ``postgress://`` too) and whatever it holds
  (``/``, ``#``, ``?``, ``@`` or a bad ``%`` escape): it runs to the last ``@`` of the word;
* ``password=...`` / ``pwd=`` / ``token=`` / ``api_key=`` / ``secret=`` pairs (query strings, libpq);
* every value passed to ``mark_secret``: ``${VAR}`` values whose variable name says secret
  (``PG_PASSWORD``, ``SLACK_BOT_TOKEN``, ``API_KEY``) and the password of each URL kpi connects
  with, as written, percent-encoded and decoded.

``errors.KpiError.__str__`` applies it, so every user and internal error is clean wherever it is
shown; ``RedactSecrets`` does the same for log records (message and traceback).

    redact("connection 'postgress://kpi:pa/ss#1@db/crm': unknown engine")
    -> "connection 'postgress://kpi:***@db/crm': unknown engine"
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote, unquote

# scheme://user:PASSWORD@ -- greedy to the last '@' before whitespace or a quote
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s/?#@:'\"]*):([^\s'\"]*)@")
_KEYVALUE = re.compile(r"(?i)\b((?:ssl)?pass(?:word|wd)?|pwd|secret|client_secret|token|access_token|api_?key"
                       r"|private_key)(\s*=\s*)('[^']*'|\"[^\"]*\"|[^\s&;'\"]*)")
SECRET_NAME = re.compile(r"(?i)(PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL)")
MIN_SECRET = 4  # shorter values would blank out ordinary words; the patterns above still apply
_secrets: set[str] = set()
_lock = threading.Lock()


def mark_secret(value: str | None) -> None:
    """Never show ``value`` (as written, percent-encoded or decoded) in anything kpi prints or logs."""
    if not isinstance(value, str) or len(value) < MIN_SECRET:
        return
    with _lock:
        _secrets.update(v for v in (value, quote(value, safe=""), unquote(value)) if len(v) >= MIN_SECRET)


def mark_url_password(url: str) -> None:
    """Mark the password of a connection URL (``scheme://user:password@host``) secret."""
    m = _USERINFO.search(url or "")
    if m and m.group(2):
        mark_secret(m.group(2))


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``***`` (see the module docstring)."""
    if not isinstance(text, str) or not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, "***")
    text = _USERINFO.sub(lambda m: f"{m.group(1)}:***@", text)
    return _KEYVALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


class RedactSecrets(logging.Filter):
    """A handler filter: every record's message and traceback go through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_logs() -> None:
    """Put ``RedactSecrets`` on every root handler and on logging's last-resort handler."""
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        if handler is not None and not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
