"""The Slack Web API client: base URL from settings, retries that cannot post twice, and
pacing under Slack's rate limits (bot/slack/pacing.py)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from otp_bot.bot.ops.slack_calls import SlackCallMeter
from otp_bot.bot.slack.pacing import Pacer, pacer_for

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


class PacedWebClient(WebClient):
    """Every call waits for its slot (one place: all of slack-sdk's methods go through
    `api_call`); a 429 that reaches us holds the call's lanes for the Retry-After Slack asked."""

    pacer: Pacer

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        args = kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {}
        channel = args.get("channel") if isinstance(args, dict) else None
        self.pacer.wait(api_method, channel)
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                self.pacer.hold(api_method, channel, retry_after(exc.response.headers))
            raise


def retry_after(headers: dict[str, Any]) -> float:
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    try:
        return float(value[0] if isinstance(value, list) else value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0


def make_client(
    token: str, base_url: str, timeout: float = DEFAULT_TIMEOUT, *, pacer: Pacer | None = None
) -> WebClient:
    """The bot's client. Its pacer is the process's for this token (`OTP_SLACK_PACE`) unless given."""
    # slack_sdk annotates `timeout` as int but hands it to urllib, which takes seconds as a
    # float; the settings take fractions of a second.
    client = PacedWebClient(token=token, base_url=base_url, timeout=timeout)  # type: ignore[arg-type]
    if pacer is None:
        from otp_bot.bot.slack.settings import PacingSettings, load

        pacer = pacer_for(token, base_url, load(PacingSettings).slack_pace)
    client.pacer = pacer
    client.retry_handlers = [
        SlackCallMeter(),  # first: it counts every attempt (/metrics) and never retries
        SafeConnectionErrorRetryHandler(max_retry_count=2),
        SafeRateLimitErrorRetryHandler(max_retry_count=3),
        SafeServerErrorRetryHandler(max_retry_count=2),
    ]
    return client
