"""Off-track numbers become issues: the *Raise issue* button on a scorecard row turns a
metric's latest miss into an issue on the review's list, owned by the metric's seat.

One issue per metric and period: a second click, or two people clicking at once, find the
issue the first raised (the table's unique key decides, not a read before the write).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_metric, get_org
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.review.issues import next_rank
from otp_bot.store.domain.scorecard import periods
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.models import Holder, Issue, ScheduleRun

TITLE = 300  # issues.title


def raise_from_metric(
    session: Session, actor: Actor, metric_id: str, *, run_id: int | None = None, now: dt.datetime | None = None
) -> Issue:
    """Raise an issue on a metric's latest miss, owned by the metric's seat; the issue already
    raised on that miss when there is one (nothing is recorded twice)."""
    _may_raise(session, actor)
    now = now or utcnow()
    metric = get_metric(session, metric_id)
    # From a post, the miss is the one the post shows: judged on the post's day (last week's
    # post raises last week's miss, which the post then names), else on today.
    run = session.get(ScheduleRun, run_id) if run_id is not None else None
    day = as_utc(run.due_at).astimezone(ZoneInfo(get_org(session).timezone)).date() if run is not None else None
    row = current_rows(session, [metric], today=day)[0]
    latest = row.latest
    if latest is None or latest.value is None or not row.off_track:
        shown = row.show(latest.value) if latest is not None else "no value yet"
        when = "in that post's week" if run is not None else "now"
        raise Invalid(
            f"*{metric.name}* (`{metric.id}`) is not off track {when} ({shown}, goal {row.describe_goal()}); "
            "no issue was raised",
            hint="`/otp scorecard` shows where each metric stands now",
        )
    if metric.seat.status == "retired":
        raise Invalid(
            f"the seat `{metric.seat_id}` is retired; its metric raises no issue",
            hint="`/otp history " + metric.seat_id + "` says where its work went",
        )
    goal = row.describe_goal()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    new_id = session.scalar(
        dialect.insert(Issue)
        .values(
            title=f"{metric.name} off track"[:TITLE],
            seat_id=metric.seat_id,
            status="open",
            rank=next_rank(session),
            source="metric",
            metric_id=metric.id,
            period=latest.period,
            value=latest.value,
            goal=goal,
            run_id=run_id,
            detail=f"{row.show(latest.value)} against {goal} in {periods.label(latest.period, metric.cadence)}",
            raised_by=actor.audit_name,
            raised_at=now,
        )
        .on_conflict_do_nothing(index_elements=["metric_id", "period"])
        .returning(Issue.id)
    )
    if new_id is None:
        # The insert lost to an issue on the same miss (a double click, or two people): it exists.
        return session.execute(
            select(Issue).where(Issue.metric_id == metric.id, Issue.period == latest.period)
        ).scalar_one()
    audit.record(
        session,
        actor.audit_name,
        "issue.raised",
        f"issue:{new_id}",
        source="metric",
        seat=metric.seat_id,
        metric=metric.id,
        period=latest.period.isoformat(),
        value=latest.value,
        goal=goal,
        run=run_id,
    )
    return session.get_one(Issue, new_id)


def _may_raise(session: Session, actor: Actor) -> None:
    """People on the chart and operators; an agent raises issues through the API or MCP,
    where it says what the issue is about."""
    if actor.operator:
        return
    holder = session.get(Holder, actor.holder_id) if actor.holder_id else None
    if holder is None:
        raise Forbidden(
            "only people on the chart raise issues from the scorecard",
            hint="ask an operator to add your Slack user to the chart file",
        )
    if holder.kind != "human" or actor.token_id is not None:
        raise Forbidden(
            "an agent raises an issue with `raise_issue`, saying what it is about",
            hint="the scorecard's button is for the people in the review",
        )


def issues_for(session: Session, keys: list[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], Issue]:
    """The issues raised on these misses (metric id, period), whatever their status now."""
    ids = sorted({m for m, _ in keys})
    wanted = set(keys)
    found: dict[tuple[str, dt.date], Issue] = {}
    for chunk in range(0, len(ids), 500):
        for issue in session.scalars(select(Issue).where(Issue.metric_id.in_(ids[chunk : chunk + 500]))):
            if issue.metric_id is not None and issue.period is not None and (issue.metric_id, issue.period) in wanted:
                found[(issue.metric_id, issue.period)] = issue
    return found


def raiser_name(session: Session, issue: Issue) -> str:
    """Who raised an issue, as a person reads it."""
    kind, _, name = issue.raised_by.partition(":")
    if kind == "holder":
        holder = session.get(Holder, name)
        return holder.name if holder else name
    return "an operator" if kind == "operator" else "someone"
