"""The Slack Web API client: base URL from settings, and retries that cannot post twice."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# A 5xx after a post may mean the post went through: retrying could show it twice.
# Reads and idempotent writes (update, publish) are safe to retry.
_NOT_SAFE_TO_RETRY = ("chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "files.completeUploadExternal",
                      "conversations.open", "views.open")


class SafeServerErrorRetryHandler(ServerErrorRetryHandler):
    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if any(request.url.rstrip("/").endswith(method) for method in _NOT_SAFE_TO_RETRY):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_client(token: str, base_url: str, timeout: int = 10) -> WebClient:
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        SafeServerErrorRetryHandler(max_retry_count=2),
    ]
    return client
