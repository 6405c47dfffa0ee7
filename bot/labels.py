"""Small text helpers shared by the renderers (pure; layer: bot presentation).

    window_text(p, cal)          -> "Q3 2026 · Jul 1 – Sep 30, 2026"
    delta_text(0.45, 0.42, "percent")  -> "+3.0 pp"    delta_text(110, 100, "currency") -> "+10.0%"
    (pl_PL: "+3,0 p.p.", "+10,0%": numbers from Babel, words from the catalog of the active language)
    esc("a < b & c * d")         -> "a &lt; b &amp; c ∗ d"   (Slack mrkdwn control characters)
    excerpt(question)            -> "win_rate where a=1 … and z=26"   (long user text quoted back)
"""

from __future__ import annotations

import math
import re
from typing import Any

from metrics_core.formatting import fmt_change, fmt_points, status_words
from metrics_core.i18n import gettext as _, active_locale, pgettext
from metrics_core.periods import Calendar, Period, period_label, window_label

COLOUR = {True: ":large_green_circle:", False: ":red_circle:", None: ":white_circle:"}


_NEUTRAL = str.maketrans({"*": "∗", "~": "∼", "`": "ˋ"})  # Slack has no escape for bold/strike/code


def esc_code(text: Any) -> str:
    """Text for inside ``` or ` (no formatting applies there): entities only, so SQL stays copyable."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc(text: Any) -> str:
    """Data as literal mrkdwn: entities for &, <, >, and look-alikes for the formatting characters
    ("open_deals * win_rate" would otherwise turn bold in Slack)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_NEUTRAL)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(text: str, limit: int = 80) -> str:
    """A long user text as a short quote: its start and end ("win_rate where a=1 … and z=26")."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    tail = limit // 4
    return f"{text[: limit - tail - 3]} … {text[-tail:]}"


_LONG_QUOTE = re.compile(r"(['`\"])([^'`\"]{120,})\1")


def shorten_quotes(message: str, limit: int = 80, total: int = 1000) -> str:
    """An error that quotes user text: each long quoted part becomes an excerpt, the whole at most ``total``
    ("unknown metric 'aaaa…(4,000)'" -> "unknown metric 'aaaa … aaaa'")."""
    return cut(_LONG_QUOTE.sub(lambda m: m.group(1) + excerpt(m.group(2), limit) + m.group(1), message), total)


def fenced(text: str, limit: int = 3000, more: str = "…") -> str:
    """Escaped text in a code block of at most ``limit`` characters, never cutting an entity in half."""
    body = esc_code(text)
    room = limit - 6
    if len(body) > room:
        body = body[: room - len(more) - 1]
        amp = body.rfind("&")
        if amp > body.rfind(";"):
            body = body[:amp]
        body += "\n" + more
    return "```" + body + "```"


def period_name(p: Period, cal: Calendar | None, locale: str = "en_US") -> str:
    return period_label(p, cal or Calendar(), locale)


def window_text(p: Period, cal: Calendar | None, locale: str = "en_US") -> str:
    name, window = period_name(p, cal, locale), window_label(p, locale)
    return name if name == window else f"{name} · {window}"


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def delta_text(value: Any, previous: Any, fmt: str, locale: str | None = None) -> str:
    """The change from ``previous`` to ``value``: points for percentages, a relative % otherwise."""
    if not (is_number(value) and is_number(previous)):
        return ""
    locale = locale or active_locale() or "en_US"
    if fmt == "percent":
        return fmt_points(value - previous, locale)
    if previous == 0:
        # TRANSLATORS: a change from zero to something (no percentage can say it)
        return pgettext("change", "new") if value else "±0"
    return fmt_change((value - previous) / abs(previous), locale)


def arrow(value: Any, previous: Any) -> str:
    if not (is_number(value) and is_number(previous)) or value == previous:
        return "■"
    return "▲" if value > previous else "▼"


def improved(value: Any, previous: Any, better: str) -> bool | None:
    if not (is_number(value) and is_number(previous)) or value == previous:
        return None
    return (value > previous) == (better == "higher")


def change_line(result: Any, cal: Calendar | None, locale: str = "en_US") -> str:
    """":red_circle: ▼ -3.1 pts vs Q2 2026 (44.3%)" for a result with a comparison, else ""."""
    cmp = result.comparison
    if cmp is None:
        return ""
    name = period_name(cmp.period, cal, locale)
    if cmp.value is None or result.value is None:
        return f"{COLOUR[None]} " + _("no value to compare in {period}").format(period=esc(name))
    delta = delta_text(result.value, cmp.value, result.format, locale)
    # TRANSLATORS: a change against an earlier period, e.g. "+3.1 pp vs Q2 2026 (44.3%)"
    against = _("{change} vs {period} ({value})").format(change=delta, period=esc(name), value=esc(cmp.formatted))
    return f"{COLOUR[cmp.improved]} {arrow(result.value, cmp.value)} {against}"


_ICON = {"met": ":dart:", "ahead": ":rocket:", "on_track": ":white_check_mark:", "behind": ":warning:", "missed": ":x:"}


def target_line(t: Any, locale: str | None = None) -> str:
    from babel.numbers import format_percent

    locale = locale or active_locale() or "en_US"
    icon = _ICON.get(t.status, ":grey_question:")
    # TRANSLATORS: a target and its status, e.g. "Target $1,000,000: behind pace"
    parts = [f"{icon} " + _("Target {value}: {status}").format(value=esc(t.formatted), status=status_words(t.status))]
    if is_number(t.attainment):
        # TRANSLATORS: how much of the target is reached, e.g. "84% of target"
        parts.append(_("{share} of target").format(share=format_percent(t.attainment, "#,##0%", locale=locale)))
    if t.projected_formatted:
        # TRANSLATORS: where the number ends up at this pace, e.g. "pace $1,120,000"
        parts.append(_("pace {value}").format(value=esc(t.projected_formatted)))
    return " · ".join(parts)
