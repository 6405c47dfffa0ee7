"""The bot's logging: no request bodies, no unbounded lines (layer: bot entry).

    configure_logging()                      # what `kpi slack serve` does: INFO to stderr, redacted
    handler.addFilter(RedactBodies())        # the same for a handler of your own (e.g. `kpi serve`)

slack_bolt and slack_sdk put bodies into some log lines: "Invalid request signature detected (...,
body: ...)" at INFO, "Responding with status: 200 body: ..." and the Socket Mode client's messages at
DEBUG. A forged 50 MiB request would become 50 MiB of log, and a real one leaks what people asked and
the response_url that can post to their channel. The filter keeps such a line up to its body marker
and says how much it left out; any other line is cut at ``limit`` characters.
"""

from __future__ import annotations

import logging
import re

from metrics_core.errors import RedactSecrets

_BODY = re.compile(r"(?i)\b(?:request body|request|body_params|json_body|body|payload|message)\b[\"']?\s*(?:[:=]|\()\s*")


def redact_bodies(text: str, limit: int = 2000) -> str:
    """``text`` with everything after a body marker left out, and at most ``limit`` characters.

    "Invalid request signature detected (signature: v0=1, timestamp: 1, body: token=...)"
    -> "Invalid request signature detected (signature: v0=1, timestamp: 1, body: <41 characters not logged>"
    """
    found = _BODY.search(text)
    if found:
        text = f"{text[:found.end()]}<{len(text) - found.end():,} characters not logged>"
    return text if len(text) <= limit else f"{text[:limit]}... <{len(text) - limit:,} more characters not logged>"


class RedactBodies(logging.Filter):
    """A handler filter: every record passing the handler, from any logger, is redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_bodies(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: int = logging.INFO) -> logging.Handler:
    """Root logging to stderr through ``RedactBodies``; returns the handler."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactBodies())
    handler.addFilter(RedactSecrets())  # passwords and tokens in any message or traceback
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler
