"""Does the request URL answer as Slack needs it to? A signed `url_verification`, as Slack
sends when the URL is saved: the server must check the signature with the same signing
secret and echo the challenge. Without the secret here, `/healthz` answering is all that
can be told."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlsplit, urlunsplit

import httpx
from slack_sdk.signature import SignatureVerifier

from otp_bot.bot.ops.doctor.check import Check, fail, ok

EVENTS_PATH = "/slack/events"
TIMEOUT = 10.0


def events_url(url: str) -> str:
    """The URL Slack posts to: `https://host` becomes `https://host/slack/events`."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path if path.endswith(EVENTS_PATH) else path + EVENTS_PATH, "", ""))


def request_url(url: str, signing_secret: str | None) -> Check:
    name, title = "request-url", "Request URL"
    target = events_url(url)
    if urlsplit(target).scheme not in ("http", "https"):
        return fail(
            name, title, f"{url} is not an http(s) URL", "give the URL as in manifest.yml: https://host/slack/events"
        )
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
            if not signing_secret:
                health = target.removesuffix(EVENTS_PATH) + "/healthz"
                answer = http.get(health)
                if answer.status_code != 200:
                    return fail(
                        name, title, f"{health} answered HTTP {answer.status_code}", "is `otp serve` running there?"
                    )
                return ok(
                    name, title, f"{health} answers (signature not checked: SLACK_SIGNING_SECRET is not set here)"
                )
            challenge = secrets.token_urlsafe(16)
            body = json.dumps({"token": "otp-doctor", "challenge": challenge, "type": "url_verification"})
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
                or "",
            }
            answer = http.post(target, content=body, headers=headers)
    except httpx.HTTPError as exc:
        fix = "check that `otp serve` runs there and the address is reachable from outside (DNS, TLS, proxy)"
        return fail(name, title, f"{target} did not answer ({exc or type(exc).__name__})", fix)
    if answer.status_code == 401:
        fix = (
            "SLACK_SIGNING_SECRET here and on the server differ (Basic Information → Signing Secret), "
            "or their clocks do"
        )
        return fail(name, title, f"{target} refused a request signed with SLACK_SIGNING_SECRET", fix)
    if answer.status_code != 200 or challenge not in answer.text:
        fix = "the URL must reach `otp serve`'s /slack/events (a proxy in between may rewrite it)"
        return fail(name, title, f"{target} answered HTTP {answer.status_code} without the challenge", fix)
    return ok(name, title, f"{target} answers Slack's URL verification, signed with the same secret")
