"""Slack settings from the environment (or a .env file), checked before anything starts."""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from otp_bot.store.domain.gate.callback_targets import Allowlist

SLACK_API = "https://slack.com/api/"
S = TypeVar("S", bound=BaseSettings)
_FORMATS = {
    "bot_token": (re.compile(r"^xoxb-[\w-]+$"), "a bot token starting with xoxb-"),
    "app_token": (re.compile(r"^xapp-[\w-]+$"), "an app-level token starting with xapp- (with connections:write)"),
    "signing_secret": (re.compile(r"^[0-9a-zA-Z]{16,}$"), "the app's signing secret (Basic Information page)"),
}


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLACK_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    api_url: str = SLACK_API
    # The longest one Slack call may take. The outbox lease (OTP_LEASE_SECONDS) must exceed it.
    timeout_seconds: float = 10.0

    @property
    def base_url(self) -> str:
        return self.api_url if self.api_url.endswith("/") else self.api_url + "/"

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first variable that is missing or malformed."""
        for name in names:
            value = getattr(self, name)
            pattern, what = _FORMATS[name]
            variable = f"SLACK_{name.upper()}"
            if value is None or not value.get_secret_value().strip():
                raise ConfigError(f"{variable} is not set: it must be {what}")
            if not pattern.match(value.get_secret_value().strip()):
                raise ConfigError(f"{variable} is malformed: it must be {what}")

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value().strip() if value is not None else ""


class PacingSettings(BaseSettings):
    """How fast the bot calls Slack (bot/slack/pacing.py), per process."""

    model_config = SettingsConfigDict(env_prefix="OTP_", env_file=".env", extra="ignore")

    # 1: Slack's published rate limits (one post a second per channel, each method's tier);
    # with N processes on one bot token, 1/N each; 0: no pacing.
    slack_pace: float = Field(default=1.0, ge=0)


class CallbackSettings(BaseSettings):
    """Which callback targets are allowed although not public: read where drafts are
    submitted (API, MCP, CLI) and where they are delivered (the worker)."""

    model_config = SettingsConfigDict(env_prefix="OTP_", env_file=".env", extra="ignore")

    # Comma-separated host names and IP addresses or networks (CIDR) a callback may reach
    # although they are loopback, private or link-local: `127.0.0.1,10.20.0.0/16,hooks.internal`.
    callback_allow: str = ""

    @field_validator("callback_allow")
    @classmethod
    def _parses(cls, value: str) -> str:
        Allowlist.parse(value)  # a malformed entry is refused at start, naming it
        return value

    @property
    def allowlist(self) -> Allowlist:
        return Allowlist.parse(self.callback_allow)


def load(cls: type[S]) -> S:
    """Settings read from the environment; a malformed one raises ConfigError naming its variable."""
    try:
        return cls()
    except ValidationError as exc:
        error = exc.errors()[0]
        prefix = cls.model_config.get("env_prefix", "")
        name = f"{prefix}{error['loc'][0]}".upper() if error.get("loc") else cls.__name__
        raise ConfigError(f"{name} is malformed: {error['msg'].removeprefix('Value error, ')}") from None


def callback_allowlist() -> Allowlist:
    """OTP_CALLBACK_ALLOW, checked; raises ConfigError naming a malformed entry."""
    return load(CallbackSettings).allowlist


class WorkerSettings(CallbackSettings):
    """The outbox worker that runs inside `otp serve` and `otp run`."""

    # Signs callback deliveries (HMAC-SHA256 over timestamp and body, Slack's scheme).
    callback_secret: SecretStr | None = None
    poll_seconds: float = 1.0  # how often the outbox is checked for work other processes queued
    sweep_seconds: float = 15.0  # how often reminders, escalations, expiries and flag expiries run
    # A claimed item is taken over by another worker after this, if not done. Renewed right
    # before each call out, so it must exceed the longest call (Slack's or a callback's timeout).
    lease_seconds: float = 60
    callback_timeout_seconds: float = 10.0
    # Items claimed at once; 0: as many as can be worked within one lease at the longest call.
    outbox_batch: int = 0
    # Seconds to wait before retry 1, 2, ...; the last repeats until the item's attempts run out.
    retry_backoff: list[float] = [2, 10, 30, 120, 600]
