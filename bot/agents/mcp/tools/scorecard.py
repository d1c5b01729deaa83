"""The scorecard's tools: the metrics an agent may push to, and pushing their values."""

# No `from __future__ import annotations`: the SDK reads the tools' annotations to build
# their JSON schemas and to find the Context parameter.

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.bot.agents.api import schemas, views
from otp_bot.bot.agents.mcp.caller import Caller
from otp_bot.bot.agents.mcp.tools.conventions import READ, WRITE
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.review import completion
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.domain.scorecard.value_batches import MAX_BATCH, Value, record_values
from otp_bot.store.models import Metric, Seat


def _pushable(session: Session, actor: Actor) -> list[Metric]:
    query = select(Metric).join(Seat).where(Seat.status != "retired").order_by(Metric.seat_id, Metric.position)
    if not actor.operator:
        query = query.where(Metric.seat_id.in_(sorted(actor.held_seat_ids(session) | actor.push_seats)))
    return list(session.scalars(query))


def _readable(session: Session, actor: Actor) -> list:
    """The pushable metrics, then the to-do completion rows of the same seats (computed: listed, never pushed)."""
    metrics = _pushable(session, actor)
    seats = None if actor.operator else actor.held_seat_ids(session) | actor.push_seats
    return completion.with_completion(session, metrics, seats)


def register(server: MCPServer, caller: Caller) -> None:
    """Add list_my_metrics and push_metric_values."""

    @server.tool(annotations=READ)
    def list_my_metrics(ctx: Context) -> schemas.MyMetrics:
        """The metrics you may push values to (those of the seats you hold, and seats granted to your token),
        with unit, goal, cadence (weekly periods start Monday; a quarter is named 2026-Q4, a year 2026), the
        latest value and the status. A metric with a `formula` is computed: push its inputs instead. A seat whose
        to-dos were checked at a review also lists `todo-completion:<seat>`, its to-do completion rate (done /
        checked, weekly, goal >= 90%): computed, never pushed."""
        return caller.run(
            ctx,
            lambda session, actor: schemas.MyMetrics(
                metrics=[views.metric_status(r) for r in current_rows(session, _readable(session, actor))]
            ),
        )

    @server.tool(annotations=WRITE)
    def push_metric_values(
        ctx: Context,
        values: Annotated[
            list[schemas.ValueIn],
            Field(min_length=1, max_length=MAX_BATCH, description="The values, each for one metric and period."),
        ],
    ) -> schemas.PushOut:
        """Record values for metrics of seats you may push to (1 to 5,000 at once). Each value is answered in
        order: `recorded` with its on/off-track status, `duplicate` (the same metric, period and key was pushed
        before: nothing written) or `error` with the reason (`error.detail`, and `error.hint` when there is
        one). A value for a metric of a seat you may not push to fails the whole call and records nothing.
        Values are never overwritten: values in one period combine by the metric's aggregation;
        `correction: true` replaces the period's earlier values."""
        items = [
            Value(metric=v.metric, value=v.value, period=v.period, note=v.note, key=v.key, correction=v.correction)
            for v in values
        ]

        def work(session: Session, actor: Actor) -> schemas.PushOut:
            return views.push_out(record_values(session, actor, items, source="api"))

        return caller.run(ctx, work, writes=True)
