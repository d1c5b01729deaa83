"""Headlines: each holder's one-liner for the week's review, collected before the meeting
(a person by DM, an agent through the API or MCP). One per holder and week; a second
replaces the first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.locks import hold_chart
from otp_bot.store.domain.clock import as_utc, utcnow
from otp_bot.store.domain.errors import Forbidden, Invalid
from otp_bot.store.domain.review.meetings import local_today, review_setup
from otp_bot.store.domain.review.quarters import week_of
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Headline, Review

VIAS = ("dm", "command", "api", "mcp")
MAX_TEXT = 300  # a one-liner; the column holds more, a headline should not


def set_headline(
    session: Session,
    actor: Actor,
    text: str,
    *,
    via: str,
    week: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Headline:
    if actor.holder_id is None:
        raise Forbidden("only a holder on the chart gives a headline", hint="ask to be added to the chart")
    # Before the audit entry below: the headline form records values in the same transaction,
    # and a chart import holding the chart would otherwise wait for this entry's lock while
    # those values wait for the chart (locks.py).
    hold_chart(session)
    if via not in VIAS:
        raise Invalid(f"`{via[:20]}` is not a way a headline comes in", hint=f"one of {', '.join(VIAS)}")
    line = " ".join(clean_text(text, "the headline", multiline=True).split())
    if not line:
        raise Invalid("a headline needs some words", hint="one line: the news the team should hear this week")
    if len(line) > MAX_TEXT:
        raise Invalid(f"a headline is one line: at most {MAX_TEXT} characters (this is {len(line)})")
    week = week_of(week) if week else upcoming_week(session, now)
    mine = select(Headline).where(Headline.review_week == week, Headline.holder_id == actor.holder_id)
    row = session.scalar(mine)
    replaced = row is not None
    if row is None:
        row = Headline(review_week=week, holder_id=actor.holder_id, text=line, via=via, at=now or utcnow())
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the same person's other submission landed first: this one replaces it
            row, replaced = session.scalars(mine.execution_options(populate_existing=True)).one(), True
    if replaced:
        row.text, row.via, row.at = line, via, now or utcnow()
    session.flush()
    audit.record(
        session,
        actor.audit_name,
        "headline.replaced" if replaced else "headline.set",
        f"holder:{actor.holder_id}",
        week=week.isoformat(),
        via=via,
        text=line,
    )
    return row


def upcoming_week(session: Session, now: dt.datetime | None = None) -> dt.date:
    """The review a headline given now is for: this week's while it is open or running, else
    the week of the review's next post (a Sunday evening's headline is for Monday's review)."""
    from otp_bot.store.domain.review.agenda import review_week_of
    from otp_bot.store.domain.rhythm.schedule_plans import plans

    today = week_of(local_today(session, now))
    current = session.scalar(select(Review.status).where(Review.week == today))
    setup = review_setup(session)
    plan = next((p for p in plans(session) if setup is not None and p.name == setup.schedule), None)
    if current in ("open", "running") or plan is None:
        return today
    upcoming = plan.next_runs(as_utc(now) if now else utcnow(), 1)
    return review_week_of(session, upcoming[0]) if upcoming else today


def headlines_for(session: Session, week: dt.date) -> list[Headline]:
    return list(
        session.scalars(
            select(Headline).where(Headline.review_week == week_of(week)).order_by(Headline.at, Headline.id)
        )
    )
