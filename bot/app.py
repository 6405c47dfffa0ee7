"""The Bolt app factory: wires the Slack surfaces to the metrics core (layer: bot entry).

    app = create_app(KpiProvider.from_path("definitions.yaml"))             # settings from the env
    app = create_app(kpi, client=WebClient(base_url=fake.api_url), settings=Settings(...))  # tests

Handlers live by surface: ``commands`` (slash commands), ``events`` (mentions), ``actions`` (buttons).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from metrics_core.errors import ConfigError
from metrics_core.i18n import gettext as _

from . import actions, commands, events, home, teams
from .budget import AnswerPool
from .context import BotContext
from .messages import internal_error_reply
from .provider import KpiProvider
from .settings import Settings

log = logging.getLogger("kpi.bot")


class SlackUnreachable(ConfigError):
    """Slack's Web API could not be reached at all (no answer, not a refusal): the network, a proxy, or
    SLACK_API_URL. ``kpi slack serve`` stops with it; ``kpi serve`` keeps serving and retries."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


def unreachable(url: str, error: BaseException) -> SlackUnreachable:
    """One line: what failed, which host, why, and what to check."""
    from urllib.parse import urlparse

    reason = getattr(error, "reason", None) or error
    host = urlparse(url).netloc or url
    # TRANSLATORS: Slack's API did not answer, e.g. "cannot reach Slack at slack.com (auth.test: [Errno 111]
    # Connection refused): check SLACK_API_URL, the network and any proxy (HTTPS_PROXY)"
    return SlackUnreachable(_("cannot reach Slack at {host} ({method}: {reason}): check SLACK_API_URL, the "
                              "network and any proxy (HTTPS_PROXY)").format(host=host, method="auth.test",
                                                                            reason=str(reason)[:200]), url)


def make_client(settings: Settings, *, max_rate_limit_retries: int = 3) -> WebClient:
    """A WebClient that also retries 429s after ``Retry-After`` (the default retries connections only)."""
    return WebClient(token=settings.bot_token, base_url=settings.api_url, retry_handlers=[
        ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries)])


def as_provider(kpi_or_provider: Any) -> Any:
    """A KpiProvider or a TeamProviders (several workspaces) as it is; a KPI as a fixed provider."""
    if isinstance(kpi_or_provider, (KpiProvider, teams.TeamProviders)):
        return kpi_or_provider
    return KpiProvider.static(kpi_or_provider)


def create_app(kpi_provider: Any, *, client: WebClient | None = None, settings: Settings | None = None,
               workers: int | None = None, max_queue: int = 500, syncs: Any = None,
               oauth_settings: Any = None, follows: Any = None, verify_token: bool = True) -> App:
    """A ready Bolt app. ``kpi_provider``: a KpiProvider (reloading) or a KPI (fixed).

    Listeners run on the thread that received the request (``process_before_response``): they only
    queue work and ack, so bolt's own thread pool and its 3 s wait for ``ack()`` play no part. Answers
    are computed by ``workers`` (default: 4 on embedded DuckDB, 16 on a remote warehouse, where a query
    mostly waits on the network), with at most ``max_queue`` waiting; see ``budget.py``. Few workers on
    purpose: the engine parallelises each query itself, and more Python threads competing for the GIL
    delay the acks. ``syncs`` (a SyncRunner, under ``kpi serve``) enables ``/kpi sync``; ``follows`` (a
    ``store.FollowStore`` in the state database) keeps what each user follows on the App Home (in memory
    when not given);
    ``oauth_settings`` makes it a multi-workspace app whose tokens come from the installation store
    (bot/service/installs.py). ``verify_token=False`` skips the ``auth.test`` at construction (``kpi serve``
    when Slack is unreachable: it checks again in the background). A Slack that does not answer raises
    ``SlackUnreachable``, one that refuses the token a ConfigError.
    """
    settings = settings or Settings.from_env()
    if oauth_settings is not None:  # tokens per workspace: the client carries none of its own
        client = client or WebClient(base_url=settings.api_url)
    client = client or make_client(settings)
    secret = settings.signing_secret
    try:
        app = App(client=client, signing_secret=secret or "", request_verification_enabled=bool(secret),
                  process_before_response=True, name="kpi", token_verification_enabled=verify_token,
                  oauth_settings=oauth_settings)
    except BoltError as e:  # auth.test refused the token: a setting the user can fix
        raise ConfigError(f"Slack did not accept SLACK_BOT_TOKEN ({client.base_url}auth.test): {e}") from e
    except OSError as e:  # URLError, timeouts, refused connections: no answer at all
        raise unreachable(client.base_url, e) from e
    provider = as_provider(kpi_provider)
    workers = workers or (4 if getattr(provider.current().kpi, "dialect", "duckdb") == "duckdb" else 16)
    ctx = BotContext(provider, AnswerPool(workers, max_queue=max_queue, fallback=internal_error_reply), syncs=syncs)
    if follows is not None:
        ctx.follows = follows
    teams.register(app)  # first: every listener below reads the request's workspace
    commands.register(app, ctx)
    events.register(app, ctx)
    actions.register(app, ctx)
    home.register(app, ctx)
    app.error(_log_error)
    app.kpi = ctx  # type: ignore[attr-defined]  # for the scheduler and tests
    return app


def _log_error(error: Exception, body: dict[str, Any]) -> None:
    """Last resort for a listener that raised: log the trace with a reference (the user saw the ack)."""
    ref = uuid.uuid4().hex[:6]
    log.error("listener failed (ref %s) for %s", ref, body.get("type") or body.get("command"), exc_info=error)
