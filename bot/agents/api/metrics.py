"""The scorecard for agents: the metrics a token pushes to, and pushing values in batches."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select, tuple_

from otp_bot.bot.agents.api import pages, schemas, views
from otp_bot.bot.agents.api.auth import Caller, Db
from otp_bot.bot.agents.api.exact_json import ExactNumbers
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.scorecard.metrics import current_rows
from otp_bot.store.domain.scorecard.value_batches import record_values
from otp_bot.store.models import Metric

# Pushed values' JSON numbers are read as Decimal: the value rules must see what was sent.
router = APIRouter(tags=["metrics"], responses=responses(401), route_class=ExactNumbers)


@router.get("/metrics/mine", response_model=schemas.MetricsPage, responses=responses(422))
def mine(actor: Caller, db: Db, limit: pages.Limit = 100, cursor: pages.Cursor = None) -> schemas.MetricsPage:
    """The metrics this token may push to (its holder's seats and the seats granted to it; an
    admin token: all), by seat, with goal, cadence, the latest value and the status."""
    with db.session(readonly=True) as session:
        query = select(Metric).order_by(Metric.seat_id, Metric.id).limit(limit + 1)
        if not actor.operator:
            query = query.where(Metric.seat_id.in_(sorted(actor.held_seat_ids(session) | actor.push_seats)))
        after = pages.decode("metrics", cursor, pages.is_pair)
        if after is not None:
            query = query.where(tuple_(Metric.seat_id, Metric.id) > tuple_(*after))
        rows = list(session.scalars(query))
        page, more = rows[:limit], len(rows) > limit
        return schemas.MetricsPage(
            metrics=[views.metric_status(r) for r in current_rows(session, page)],
            next_cursor=pages.encode("metrics", [page[-1].seat_id, page[-1].id]) if more else None,
        )


@router.post("/metrics/values", response_model=schemas.PushOut, responses=responses(400, 403, 413, 422))
def push(body: schemas.PushIn, actor: Caller, db: Db) -> schemas.PushOut:
    """Record a batch of values (1 to 5,000), each answered in order with its outcome.

    - **Per value**: `recorded`, `duplicate` (its metric, period and key were pushed
      before: answered with the value recorded then, nothing written) or `error` (an
      unknown metric, a value that is not a number, a future period, a retired seat, a
      computed metric, a note over 2,000 characters); each with its on/off-track status.
      Values without an error are recorded even when others in the batch have one: the
      answer is 200 whatever the mix, so read `errors` and `results`.
    - **Whole batch**: 422 when the body does not match the schema (nothing recorded);
      403 when any value is for a metric of a seat this token may not push to
      (nothing recorded: rights are all or nothing).

    Values are never overwritten: several in a period combine by the metric's
    aggregation; `correction: true` restarts its period. One audit entry records the batch.
    """
    with db.session() as session:
        batch = record_values(session, actor, body.values, source="api")
    return views.push_out(batch)
