"""What the process counts as it works: requests, commands, Slack calls, schedule runs, failed
outbox attempts. Read from /metrics (bot/ops/exposition.py) beside the gauges read from the
store at scrape time (bot/ops/store_metrics.py).

One set per process, registered in no registry of its own (`registry=None`): each web app
registers these same objects in its own CollectorRegistry. A Prometheus target is a process, so
counting per process is what a scrape means; and a test process that builds many apps counts
into one set without two registries ever claiming the same name.

Labels take values from short, fixed sets (surfaces, outcomes, subcommand names, the Slack
methods this code calls): never an id, a user's text or anything a request chose.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram, disable_created_metrics
from prometheus_client.registry import CollectorRegistry

from otp_bot.store.models import OUTBOX_KINDS, RUN_POSTS

# A `_created` series beside every counter and histogram doubles a scrape for a start time
# that process_start_time_seconds already gives. Off before any metric exists.
disable_created_metrics()

SURFACES = ("slack_command", "slack_action", "slack_view", "slack_event", "slack_other", "slack", "api", "mcp")
OUTCOMES = ("ok", "refused", "error")  # below 400, 4xx, 5xx
COMMAND_OUTCOMES = ("ok", "refused", "error")  # answered, bad input or refused by a rule, failed
RUN_OUTCOMES = ("posted", "retrying", "failed")

REQUESTS = Counter(
    "otp_requests",
    "HTTP requests by surface (slack_command/action/view/event; slack: not dispatched, "
    "i.e. refused at the door or a replay; api; mcp) and outcome (ok, refused: 4xx, error: 5xx).",
    ["surface", "outcome"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "otp_request_duration_seconds",
    "Time from a request's arrival to its response, by surface (a long-poll counts its wait).",
    ["surface"],
    registry=None,
)
COMMANDS = Counter(
    "otp_commands",
    "/otp subcommands answered, by name (unknown: no such command) and outcome "
    "(ok; refused: bad input or a rule said no; error: it failed).",
    ["command", "outcome"],
    registry=None,
)
COMMAND_SECONDS = Histogram(
    "otp_command_duration_seconds",
    "Time to answer an /otp subcommand, by name.",
    ["command"],
    registry=None,
)
SLACK_CALLS = Counter(
    "otp_slack_api_calls",
    "Slack Web API calls, each HTTP attempt once, by method, HTTP status (none: no answer) "
    "and Slack's error code (empty when ok).",
    ["method", "status", "error"],
    registry=None,
)
SCHEDULE_RUNS = Counter(
    "otp_schedule_runs",
    "Rhythm posts (briefing, scorecard) this process tried, by outcome (posted; retrying: its "
    "lease brings it back; failed).",
    ["post", "outcome"],
    registry=None,
)
OUTBOX_FAILURES = Counter(
    "otp_outbox_attempt_failures",
    "Outbox attempts that failed, by kind of work (most are retried).",
    ["kind"],
    registry=None,
)
DELIVERIES_FAILED = Counter(
    "otp_deliveries_failed",
    "Approved drafts whose delivery failed for good (shown with a Retry button and in `otp outbox list`).",
    registry=None,
)
EVENTS = (
    REQUESTS,
    REQUEST_SECONDS,
    COMMANDS,
    COMMAND_SECONDS,
    SLACK_CALLS,
    SCHEDULE_RUNS,
    OUTBOX_FAILURES,
    DELIVERIES_FAILED,
)

# Every known series starts at 0, so a rate over the first event is right.
for _surface in SURFACES:
    REQUEST_SECONDS.labels(_surface)
    for _outcome in OUTCOMES:
        REQUESTS.labels(_surface, _outcome)
for _post in RUN_POSTS:
    for _outcome in RUN_OUTCOMES:
        SCHEDULE_RUNS.labels(_post, _outcome)
for _kind in OUTBOX_KINDS:
    OUTBOX_FAILURES.labels(_kind)

_METHOD = re.compile(r"[a-z][A-Za-z]*(?:\.[a-z][A-Za-z]*){1,3}")
_ERROR = re.compile(r"[a-z0-9_]{1,64}")


def register_events(registry: CollectorRegistry) -> None:
    for metric in EVENTS:
        registry.register(metric)


def outcome_of(status: int) -> str:
    return "ok" if status < 400 else "refused" if status < 500 else "error"


def count_request(surface: str, status: int, seconds: float) -> None:
    if surface in SURFACES:
        REQUESTS.labels(surface, outcome_of(status)).inc()
        REQUEST_SECONDS.labels(surface).observe(seconds)


def count_command(command: str, outcome: str, seconds: float) -> None:
    COMMANDS.labels(command, outcome).inc()
    COMMAND_SECONDS.labels(command).observe(seconds)


def count_slack_call(method: str, status: int | None, error: str | None) -> None:
    """`method` as the client named it; an odd one (a proxy's, a typo) is counted as `other`."""
    SLACK_CALLS.labels(
        method if _METHOD.fullmatch(method) else "other",
        str(status) if status is not None else "none",
        "" if not error else error if _ERROR.fullmatch(error) else "other",
    ).inc()


def count_schedule_run(post: str, outcome: str) -> None:
    SCHEDULE_RUNS.labels(post if post in RUN_POSTS else "other", outcome).inc()


def count_outbox_failure(kind: str, *, final: bool) -> None:
    OUTBOX_FAILURES.labels(kind if kind in OUTBOX_KINDS else "other").inc()
    if final and kind == "deliver":
        DELIVERIES_FAILED.inc()
