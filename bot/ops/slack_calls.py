"""Counting Slack Web API calls: every HTTP attempt, by method and status, 429s included.

slack-sdk's WebClient asks its retry handlers about every answer it gets (and every failure to
get one), in order, until one wants a retry. A handler that counts what it is shown and never
retries, put first, therefore sees each attempt exactly once: the 429 a safe call is retried
after, and the answer of the retry. Hooking `api_call` instead would see only the last attempt,
and hooking the client's HTTP method would mean overriding a private one.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from otp_bot.bot.ops.metrics import count_slack_call

_MAX_ERROR_BODY = 4096  # an error answer worth reading for Slack's error code is a short JSON object


class SlackCallMeter(RetryHandler):
    """Counts each attempt; never asks for a retry. Goes first in `client.retry_handlers`."""

    def __init__(self) -> None:
        super().__init__(max_retry_count=0)

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if response is None:
            count_slack_call(method, None, None)
        else:
            count_slack_call(method, response.status_code, _slack_error(response))
        return False


def _slack_error(response: HttpResponse) -> str | None:
    body: Any = response.body
    if body is None and response.data and len(response.data) <= _MAX_ERROR_BODY:
        try:
            body = json.loads(response.data)
        except ValueError:
            body = None
    if isinstance(body, dict) and body.get("ok") is False:
        error = body.get("error")
        return error if isinstance(error, str) else "unknown"
    return None
