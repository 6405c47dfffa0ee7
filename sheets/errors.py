"""Google's failures -> one clear line each (the edge between gspread and the user).

    403  the spreadsheet is not shared with <service-account email>: how to share it
    404  no spreadsheet with that id: where the id is in the URL
    429  quota still exhausted after N tries: the limits, and what to change
    5xx  Google kept failing after N tries: the previous content is intact
    token endpoint refused the key: bad or revoked credentials file (400/401 invalid_grant...)
    token endpoint failing or unreachable: an outage, try again (5xx, 429, connection errors)
    400 after a retry: the answer to an applied write was lost; the next sync repairs it
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import requests
from google.auth.exceptions import RefreshError, TransportError
from gspread.exceptions import APIError

from metrics_core.errors import ConfigError, InternalError, KpiUserError
from metrics_core.i18n import gettext as _

from .http import status_of


class SheetsError(KpiUserError):
    """The Sheets API refused or failed a sync; nothing partial was written (batchUpdate is atomic)."""


class QuotaExhausted(SheetsError):
    pass


class SheetsUnavailable(SheetsError):
    pass


@contextmanager
def api_errors(spreadsheet_id: str, email: str, attempts: int, log: Any = None) -> Iterator[None]:
    """Translate what gspread/google-auth raise inside the block (``log``: the client's CallLog, to
    tell whether the failing request was a retry)."""
    before = len(log.calls) if log is not None else 0
    try:
        yield
    except APIError as e:
        retried = log is not None and len(log.calls) - before > 1
        raise explain(e, spreadsheet_id, email, attempts, retried) from e
    except RefreshError as e:
        if getattr(e, "retryable", False):  # google-auth: 5xx/429 from the token endpoint, already retried
            raise SheetsUnavailable(_("Google's token endpoint is failing ({error}): an outage on Google's "
                                      "side, not a problem with the key; nothing was written, try again later")
                                    .format(error=_first(e))) from e
        raise ConfigError(_("Google refused the service-account key of {email} ({error}): the key may be "
                            "deleted or revoked; download a new JSON key for the account")
                          .format(email=email, error=_first(e))) from e
    except (requests.ConnectionError, requests.Timeout, TransportError) as e:
        raise SheetsUnavailable(_("cannot reach the Google Sheets API after {attempts} tries ({error}); "
                                  "nothing was written").format(attempts=attempts, error=_first(e))) from e


def explain(e: APIError, spreadsheet_id: str, email: str, attempts: int,
            retried: bool = False) -> KpiUserError | InternalError:
    status = status_of(e) or 0
    message = str(e.error.get("message", "")) if isinstance(e.error, dict) else str(e)
    if status == 403:
        return SheetsError(_("the spreadsheet {id} is not shared with the service account {email}: "
                             "in Google Sheets open Share and add {email} as an Editor ({message})")
                           .format(id=spreadsheet_id, email=email, message=message))
    if status == 404:
        return SheetsError(_("no spreadsheet with id '{id}' (or it was deleted): the id is the part "
                             "of the sheet's URL between /d/ and /edit; set sheets.spreadsheet or --spreadsheet")
                           .format(id=spreadsheet_id))
    if status == 401:
        return ConfigError(_("Google rejected the access token of {email} ({message}); check the key file")
                           .format(email=email, message=message))
    if status == 429:
        return QuotaExhausted(_("Google Sheets quota still exhausted after {attempts} tries (60 writes and 60 "
                                "reads a minute per service account): sync less often (--every) or retry later; "
                                "nothing was written").format(attempts=attempts))
    if status >= 500 or status == 408:
        return SheetsUnavailable(_("Google Sheets kept failing ({status} {message}) after {attempts} tries; "
                                   "nothing was written, the sheet still shows the previous sync")
                                 .format(status=status, message=message, attempts=attempts))
    if retried:  # the earlier try may have been applied and only its answer lost: not a bug, not the user's
        return SheetsError(_("Google Sheets rejected a retried update ({status} {message}): an earlier try was "
                             "most likely applied and its answer lost; run the sync again, it repairs the sheet")
                           .format(status=status, message=message))
    return InternalError(_("Google Sheets rejected the update ({status} {message}); this is a kpi bug").format(
        status=status, message=message))


def _first(e: BaseException) -> str:
    text = str(e.args[0] if e.args else e)
    return text.splitlines()[0][:200] if text else type(e).__name__
