"""Service-account credentials -> a gspread client (I/O; the only module that authenticates).

The key file comes from ``sheets.credentials`` in definitions.yaml, else from
``GOOGLE_APPLICATION_CREDENTIALS``. google-auth signs a JWT with the key and trades it at the
key's ``token_uri`` for an access token (refreshed by itself when it expires or on a 401). The
scope is Sheets only: the sync never calls the Drive API.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gspread

from metrics_core.errors import ConfigError

from .http import RetryPolicy, client_class

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
_REQUIRED = ("type", "client_email", "private_key", "token_uri")
_HOWTO = ("create a key in Google Cloud console > IAM > Service accounts > Keys > Add key > JSON, "
          "and share the spreadsheet with the account's email")


def credentials_path(setting: str | None = None, base_dir: str | Path = ".") -> Path:
    """Where the key file is: the setting (relative to the definitions), else the environment."""
    raw = setting or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not raw:
        raise ConfigError("no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account "
                          f"JSON key file, or sheets.credentials in definitions.yaml ({_HOWTO})")
    path = Path(os.path.expanduser(raw))
    return path if path.is_absolute() else Path(base_dir) / path


def load_service_account(path: str | Path) -> dict[str, Any]:
    """The parsed key file, or a ConfigError that says what is wrong with it."""
    path = Path(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"credentials file not found: {path}") from e
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"credentials file {path} is not a JSON key file ({e}); {_HOWTO}") from e
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise ConfigError(f"credentials file {path} is not a service-account key (type: {kind!r}); {_HOWTO}")
    missing = [k for k in _REQUIRED if not info.get(k)]
    if missing:
        raise ConfigError(f"credentials file {path} lacks {', '.join(missing)}; download a fresh JSON key")
    return info


def open_client(info: dict[str, Any], *, api_url: str | None = None,
                policy: RetryPolicy | None = None) -> gspread.Client:
    """A gspread client for the key, talking to ``api_url`` (default: GOOGLE_SHEETS_API_URL or Google)."""
    try:
        return gspread.service_account_from_dict(info, scopes=list(SCOPES),
                                                 http_client=client_class(api_url, policy))
    except ValueError as e:  # a private key that does not parse
        raise ConfigError(f"the service-account key of {info.get('client_email')} is unreadable: {e}") from e
