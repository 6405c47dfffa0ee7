"""BigQuery backend (layer: backends): google-cloud-bigquery, named query parameters ``@p0``.

    bigquery://my-project                      # default credentials (gcloud / GOOGLE_APPLICATION_CREDENTIALS)
    bigquery://my-project/sales?location=EU    # default dataset `sales`: unqualified tables resolve there
    bigquery://my-project/sales?credentials=/path/key.json

Parameters are typed from their Python values (str, int, float, bool, date, datetime, Decimal, lists).
NUMERIC/BIGNUMERIC come back as float and DATE as ``datetime.date``, like the other engines.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..columns import Columns
from ..errors import ConfigError, DataError, InternalError, missing_extra
from ..i18n import _

VERSION_SECONDS = 30.0
_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (Decimal, "NUMERIC"), (str, "STRING"),
    (dt.datetime, "TIMESTAMP"), (dt.date, "DATE"),  # datetime before date: it is a subclass
)


def _bq() -> Any:
    try:
        from google.cloud import bigquery
    except ImportError as e:
        raise missing_extra("google-cloud-bigquery", "bigquery") from e
    return bigquery


def param_type(value: Any) -> str:
    for py, sql in _TYPES:
        if isinstance(value, py):
            return sql
    raise ConfigError(_("cannot bind a {type} as a BigQuery parameter (allowed: {types})").format(
        type=type(value).__name__, types=", ".join(t.__name__ for t, _kind in _TYPES)))


def query_parameters(params: dict[str, Any]) -> list[Any]:
    bq = _bq()
    out = []
    for name, value in params.items():
        if isinstance(value, (list, tuple)):
            kind = param_type(value[0]) if value else "STRING"
            out.append(bq.ArrayQueryParameter(name, kind, list(value)))
        else:
            kind = param_type(value) if value is not None else "STRING"
            out.append(bq.ScalarQueryParameter(name, kind, value))
    return out


class BigQueryBackend:
    dialect = "bigquery"

    def __init__(self, client: Any, *, url: str, dataset: str | None = None) -> None:
        self.client = client
        self.url = url
        self.dataset = dataset  # "project.dataset" or None
        self._version: tuple[float, str | None] = (float("-inf"), None)

    @classmethod
    def from_url(cls, url: str) -> "BigQueryBackend":
        parts = urlsplit(url)
        project, dataset = parts.netloc, parts.path.strip("/") or None
        if not project:
            raise ConfigError(_("connection '{url}': expected bigquery://PROJECT[/DATASET][?location=EU]").format(
                url=url))
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        client = _client(project, query)
        return cls(client, url=url, dataset=f"{project}.{dataset}" if dataset else None)

    def run(self, sql: str, params: dict[str, Any]) -> Columns:
        bq = _bq()
        from google.api_core import exceptions as gexc

        config = bq.QueryJobConfig(query_parameters=query_parameters(params or {}),
                                   default_dataset=self.dataset)
        try:
            rows = self.client.query(sql, job_config=config).result()  # Row objects: DATE is datetime.date
        except gexc.NotFound as e:
            raise DataError(_("BigQuery: {message} (check tables: in definitions.yaml)").format(
                message=e.message)) from e
        except gexc.BadRequest as e:
            if "Unrecognized name" in e.message:
                raise DataError(_("BigQuery: {message} (check columns in definitions.yaml)").format(
                    message=e.message)) from e
            raise InternalError(_("BigQuery query failed: {message}").format(message=e.message)) from e
        return Columns.from_rows([f.name for f in rows.schema], [tuple(r.values()) for r in rows])

    def table_columns(self, table: str) -> list[str] | None:
        from google.api_core import exceptions as gexc

        ref = table if table.count(".") >= 1 or not self.dataset else f"{self.dataset}.{table}"
        try:
            return [f.name for f in self.client.get_table(ref).schema]
        except gexc.NotFound:
            return None

    def data_version(self) -> str | None:
        """Latest modification of any table in the default dataset (a free metadata query, but a
        job: its answer is reused for VERSION_SECONDS so a cache lookup does not cost a second)."""
        if not self.dataset:
            return None
        if time.monotonic() - self._version[0] < VERSION_SECONDS:
            return self._version[1]
        df = self.run(f"SELECT MAX(last_modified_time) AS v FROM `{self.dataset}.__TABLES__`", {})
        v = df.scalar()
        version = None if v is None else f"bq:{int(v)}"
        self._version = (time.monotonic(), version)
        return version

    def close(self) -> None:
        self.client.close()


def _client(project: str, query: dict[str, str]) -> Any:
    bq = _bq()
    credentials = None
    if "credentials" in query:
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(query["credentials"])
    try:
        return bq.Client(project=project, location=query.get("location"), credentials=credentials)
    except Exception as e:  # google.auth raises DefaultCredentialsError and others
        raise ConfigError(_("BigQuery project '{project}': cannot authenticate: {error} (run `gcloud auth "
                            "application-default login` or pass ?credentials=key.json)").format(
            project=project, error=e)) from e

