"""The log of `otp serve` and `otp run`: plain text lines (the default, for a person at a
terminal), or with OTP_LOG_FORMAT=json one JSON object per line, for a log collector.

A JSON line holds time, level, logger and message, then what is known of the request it belongs
to (bot/ops/context.py: request_id, surface, command, draft_id), a duration_ms where the line
reports one, and the traceback of an exception. The fields are a fixed list: attributes a
library attaches to its records are not copied, so nothing reaches the log that was not meant
to. A small formatter rather than python-json-logger for that reason: the library's point is
copying such attributes, and a whitelist needs only json.dumps.

Neither format ever holds a request body or a secret: our own lines name reasons, never
payloads; below INFO, slack-sdk and Bolt log the payloads they send and answer, so their
DEBUG lines are dropped (`_NoPayloads`) even when OTP_LOG_LEVEL=DEBUG; and Bolt's own line
about a failing signature, which quotes the body, is filtered where the app is built
(bot/slack/app.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from otp_bot.bot.ops import context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Bolt logs through the logger it is given (bot/slack/app.py): ours, by this name.
_PAYLOAD_LOGGERS = ("slack_sdk", "slack_bolt", "otp_bot.slack")


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_LOG_", env_file=".env", extra="ignore")

    level: str = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("format", mode="before")
    @classmethod
    def _plain(cls, value: object) -> object:
        return (value.strip().lower() or "text") if isinstance(value, str) else value


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request := context.current()) is not None:
            entry |= request.fields()
        duration = getattr(record, "duration_ms", None)
        if isinstance(duration, int | float):
            entry["duration_ms"] = duration
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class _NoPayloads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return not any(record.name == n or record.name.startswith(n + ".") for n in _PAYLOAD_LOGGERS)


def setup(settings: LogSettings | None = None) -> None:
    """Configure the root logger once, for a long-running process. Raises ValueError naming
    OTP_LOG_LEVEL or OTP_LOG_FORMAT when one is not a known value."""
    try:
        settings = settings or LogSettings()
    except ValueError:
        raise ValueError("OTP_LOG_FORMAT must be text or json") from None
    level = settings.level.strip().upper() or "INFO"
    if level not in LEVELS:
        raise ValueError(f"OTP_LOG_LEVEL must be one of {', '.join(LEVELS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_NoPayloads())
    handler.setFormatter(JsonLines() if settings.format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    if settings.format == "json":
        # Whatever else would write to stderr goes through the log too, so every line parses.
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread


def json_lines() -> bool:
    """Whether the log is JSON lines (so a plain line on stderr would break it)."""
    return any(isinstance(h.formatter, JsonLines) for h in logging.getLogger().handlers)


def announce(message: str, otherwise: Callable[[str], None]) -> None:
    """A line for whoever starts the process: a log record when the log is JSON, else `otherwise(message)`."""
    if json_lines():
        record = logging.getLogger("otp_bot").makeRecord("otp_bot", logging.INFO, "", 0, message, (), None)
        for handler in logging.getLogger().handlers:
            handler.handle(record)  # shown whatever the level, as the plain line would be
    else:
        otherwise(message)


def _log_uncaught(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    logging.getLogger("otp_bot").critical("uncaught %s", kind.__name__, exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("otp_bot").error(
        "uncaught %s in thread %s",
        args.exc_type.__name__,
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
