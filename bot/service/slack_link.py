"""Slack that does not answer at start: ``kpi serve`` keeps serving and keeps trying (layer: bot runtime).

    link = SlackLink(app, app_token="xapp-..." or None, stop=stop_event, down=None_or_SlackUnreachable)
    link.start()        # connected now, or one clear log line and retries in a thread with backoff
    link.connected      # True once auth.test answered (and, in Socket Mode, the websocket is open)

The API and the schedules never wait for Slack: a Slack outage or a wrong ``SLACK_API_URL`` at start is
one error line ("cannot reach Slack at <host> (...): check SLACK_API_URL, the network and any proxy"),
then tries again with exponential backoff (1 s doubling to ``max_wait``, with jitter; tenacity) until it
answers or the service stops. Slack answering but refusing the token is not retried: it is logged once
and Slack stays off (fix the token and restart), while the rest keeps running.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk.errors import SlackApiError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential, wait_random

from ..app import SlackUnreachable, unreachable

log = logging.getLogger("kpi.serve.slack")


class SlackLink:
    def __init__(self, app: Any, *, app_token: str | None, stop: threading.Event,
                 down: SlackUnreachable | None = None, max_wait: float = 60.0) -> None:
        self.app, self.app_token, self.stop_event, self.down = app, app_token, stop, down
        self.max_wait = max_wait
        self.socket: Any = None
        self.connected = False
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        if self.down is None:
            try:
                self._try()
                return
            except SlackUnreachable as e:
                self.down = e
        log.error("%s; serving the API and the schedules, trying Slack again in the background", self.down)
        self.thread = threading.Thread(target=self._retry, name="kpi-slack-link", daemon=True)
        self.thread.start()

    def _try(self) -> None:
        """One attempt: auth.test when the start could not do it, then the Socket Mode connection."""
        url = self.app.client.base_url
        try:
            if self.down is not None:
                self.app.client.auth_test()
            if self.app_token:
                from ..transport import socket_handler

                self.socket = self.socket or socket_handler(self.app, self.app_token)
                self.socket.connect()
                log.info("kpi serve: Slack over Socket Mode")
        except OSError as e:
            raise unreachable(url, e) from e
        self.connected = True

    def _retry(self) -> None:
        retrying = Retrying(retry=retry_if_exception_type(SlackUnreachable),
                            wait=wait_exponential(multiplier=1, min=1, max=self.max_wait) + wait_random(0, 1),
                            stop=lambda _state: self.stop_event.is_set(), sleep=self.stop_event.wait,
                            before_sleep=self._still_down, reraise=True)
        try:
            retrying(self._try)
        except SlackUnreachable:
            return  # stopped while Slack was still down
        except SlackApiError as e:
            log.error("Slack answered but refused the token (%s): Slack stays off; fix SLACK_BOT_TOKEN and restart",
                      e.response.get("error"))
            return
        if self.connected:
            log.info("Slack answers again at %s: the Slack app is on", self.app.client.base_url)

    @staticmethod
    def _still_down(state: RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0
        log.warning("Slack still unreachable (try %d): %s; next try in %.0f s", state.attempt_number,
                    state.outcome.exception() if state.outcome else "", wait)

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
