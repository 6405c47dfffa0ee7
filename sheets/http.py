"""gspread's HTTP client with a bounded retry and a redirectable API root (I/O; transport layer).

gspread 6.2's ``BackOffHTTPClient`` retries forever and only on Google's JSON error envelope, so
unattended syncs use this instead: at most ``RetryPolicy.attempts`` tries on 408/429/5xx and on
connection errors, exponential backoff with jitter between them, and a ``Retry-After`` header
honoured (capped). Anything else (403, 404, 400) fails at once.

``GOOGLE_SHEETS_API_URL`` (default ``https://sheets.googleapis.com``) replaces the API root, so a
test server on 127.0.0.1 receives exactly what Google would.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

GOOGLE_API_ROOT = "https://sheets.googleapis.com"
RETRY_STATUS = frozenset({408, 429})  # and every 5xx


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in all, the first included
    initial: float = 1.0  # seconds before the 2nd try; doubles each time
    maximum: float = 32.0  # cap of one wait, Retry-After included
    jitter: float = 1.0  # up to this many random seconds added to each wait
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


@dataclass
class CallLog:
    """What went over the wire: (method, path, request bytes, status) per HTTP request made."""

    calls: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.calls)

    @property
    def bytes_sent(self) -> int:
        return sum(c[2] for c in self.calls)


def api_root() -> str:
    return (os.environ.get("GOOGLE_SHEETS_API_URL") or GOOGLE_API_ROOT).rstrip("/")


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an error (the response's, not the body's: the body may not be JSON)."""
    if isinstance(exc, APIError):
        return exc.response.status_code
    return None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return True
    status = status_of(exc)
    return status is not None and (status in RETRY_STATUS or status >= 500)


class SheetsHTTPClient(HTTPClient):
    """Use through ``client_class(...)``, which binds the API root and the retry policy."""

    api_url: ClassVar[str] = GOOGLE_API_ROOT
    policy: ClassVar[RetryPolicy] = RetryPolicy()

    def __init__(self, auth: Any, session: Any = None) -> None:
        super().__init__(auth, session)
        self.log = CallLog()
        self.timeout = (10, 120)

    def request(self, method: str, endpoint: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if endpoint.startswith(GOOGLE_API_ROOT):
            endpoint = self.api_url + endpoint[len(GOOGLE_API_ROOT):]
        p = self.policy
        retrying = Retrying(
            stop=stop_after_attempt(p.attempts), retry=retry_if_exception(_retryable), reraise=True,
            wait=_wait(p), sleep=p.sleep)
        return retrying(self._once, method, endpoint, **kwargs)

    def _once(self, method: str, endpoint: str, **kwargs: Any) -> requests.Response:
        size = len(json.dumps(kwargs["json"])) if kwargs.get("json") is not None else len(kwargs.get("data") or b"")
        path = endpoint.split("://", 1)[-1].split("/", 1)[-1]
        try:
            response = super().request(method, endpoint, **kwargs)
        except APIError as e:
            self.log.calls.append((method.upper(), path, size, e.response.status_code))
            raise
        self.log.calls.append((method.upper(), path, size, response.status_code))
        return response


def _wait(p: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        """Retry-After when the server says; else initial * 2^(n-1) plus jitter, capped."""
        exc = state.outcome.exception() if state.outcome else None
        after = retry_after(exc) if exc else None
        if after is not None:
            return min(after, p.maximum)
        backoff = p.initial * 2 ** (state.attempt_number - 1) + random.uniform(0, p.jitter)
        return min(backoff, p.maximum)

    return wait


def retry_after(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After: 7`` header (HTTP dates are rare here and ignored)."""
    if not isinstance(exc, APIError):
        return None
    value = exc.response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def client_class(api_url: str | None = None, policy: RetryPolicy | None = None) -> type[SheetsHTTPClient]:
    """An HTTP client class for ``gspread.service_account_from_dict(info, http_client=...)``."""
    attrs = {"api_url": (api_url or api_root()).rstrip("/"), "policy": policy or RetryPolicy()}
    return type("BoundSheetsHTTPClient", (SheetsHTTPClient,), attrs)
