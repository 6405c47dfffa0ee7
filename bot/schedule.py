"""Schedule text -> an APScheduler trigger (pure; layer: bot configuration).

Two forms, both read in the calendar's timezone (or ``slack.timezone``):

    every Monday 09:00          every day 8:30          every weekday 09:00
    every Mon, Thu 17:00        every month on the 1st 09:00
    0 9 * * 1                   (cron: minute hour day month day-of-week; 0 or 7 = Sunday)
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger

from metrics_core.errors import QueryError

_DAYS = {"mon": "mon", "monday": "mon", "tue": "tue", "tues": "tue", "tuesday": "tue", "wed": "wed",
         "wednesday": "wed", "thu": "thu", "thur": "thu", "thurs": "thu", "thursday": "thu", "fri": "fri",
         "friday": "fri", "sat": "sat", "saturday": "sat", "sun": "sun", "sunday": "sun"}
_EVERY = re.compile(r"every\s+(?P<days>.+?)\s+(?:at\s+)?(?P<h>\d{1,2}):(?P<m>\d{2})")
_MONTHLY = re.compile(r"month\s+on\s+(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?")
_CRON_DOW = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}
HELP = "use 'every Monday 09:00', 'every day 08:00', 'every weekday 09:00', 'every month on the 1st 09:00' or cron '0 9 * * 1'"


def parse_schedule(text: str, timezone: str) -> CronTrigger:
    """The trigger for ``text``; raises QueryError (a user error) naming the accepted forms."""
    s = " ".join(str(text).strip().lower().split())
    fields = _from_words(s) if s.startswith("every ") else _from_cron(s)
    if fields is None:
        raise QueryError(f"schedule {text!r} is not understood: {HELP}")
    try:
        return CronTrigger(timezone=timezone, **fields)
    except ValueError as e:
        raise QueryError(f"schedule {text!r}: {e}") from e


def _from_words(s: str) -> dict[str, str] | None:
    m = _EVERY.fullmatch(s)
    if not m:
        return None
    h, mi = int(m["h"]), int(m["m"])
    if h > 23 or mi > 59:
        return None
    out = {"hour": str(h), "minute": str(mi)}
    days = m["days"]
    if days == "day":
        return out
    if days == "weekday":
        return {**out, "day_of_week": "mon-fri"}
    if mm := _MONTHLY.fullmatch(days):
        return {**out, "day": mm["d"]} if 1 <= int(mm["d"]) <= 28 else None
    names = [w for w in re.split(r"[\s,]+|\band\b", days) if w]
    if not names or any(n not in _DAYS for n in names):
        return None
    return {**out, "day_of_week": ",".join(dict.fromkeys(_DAYS[n] for n in names))}


def _from_cron(s: str) -> dict[str, str] | None:
    parts = s.split()
    if len(parts) != 5:
        return None
    minute, hour, day, month, dow = parts
    # Standard cron counts days of week from Sunday=0; APScheduler from Monday=0: use names.
    dow = re.sub(r"\d", lambda d: _CRON_DOW[d[0]], dow) if dow != "*" else dow
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow}
