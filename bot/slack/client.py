"""The Slack Web API client: base URL from settings, and retries that cannot post twice."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from otp_bot.bot.ops.slack_calls import SlackCallMeter

# A 5xx or a dropped connection after a post may mean the post went through: retrying
# could show it twice. Those calls are retried by the outbox instead, which first looks
# for what landed. They are not retried on 429 either: the wait Slack asks for would
# stretch the call past the outbox lease that fences it (see bot/runtime/worker.py), so the
# longest a post can take is the client's timeout. Reads and idempotent writes (update,
# publish) are safe to retry here.
NOT_SAFE_TO_RETRY = (
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.scheduleMessage",
    "files.completeUploadExternal",
    "conversations.open",
    "views.open",
)
DEFAULT_TIMEOUT = 10  # seconds per Slack call; the outbox lease must exceed it


def _unsafe(request: HttpRequest) -> bool:
    return any(request.url.rstrip("/").endswith(method) for method in NOT_SAFE_TO_RETRY)


class _OnlySafe(RetryHandler):
    """Put before a built-in handler: the calls that are not safe to retry are never retried."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _unsafe(request):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class SafeServerErrorRetryHandler(_OnlySafe, ServerErrorRetryHandler):
    pass


class SafeConnectionErrorRetryHandler(_OnlySafe, ConnectionErrorRetryHandler):
    pass


class SafeRateLimitErrorRetryHandler(_OnlySafe, RateLimitErrorRetryHandler):
    pass


def make_client(token: str, base_url: str, timeout: float = DEFAULT_TIMEOUT) -> WebClient:
    # slack_sdk annotates `timeout` as int but hands it to urllib, which takes seconds as a
    # float; the settings take fractions of a second.
    client = WebClient(token=token, base_url=base_url, timeout=timeout)  # type: ignore[arg-type]
    client.retry_handlers = [
        SlackCallMeter(),  # first: it counts every attempt (/metrics) and never retries
        SafeConnectionErrorRetryHandler(max_retry_count=2),
        SafeRateLimitErrorRetryHandler(max_retry_count=3),
        SafeServerErrorRetryHandler(max_retry_count=2),
    ]
    return client
