"""Issues: identified (open) → discussed → solved with the decision taken, or dropped.

Open and discussed issues form one list in priority order (`rank` 1 first): a new issue goes
to the bottom, `move` puts one at a place and closes the gaps. Solving records the decision
and may create to-dos in the same transaction, so a decision never lands without the
commitments it named (or the other way round)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.review import todos as todo_rules
from otp_bot.store.domain.review.rights import (
    default_seat,
    is_agent,
    live_seat,
    may_manage,
    may_order,
    require_manage,
    require_on_chart,
)
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import Draft, Issue

OPEN = ("open", "discussed")
MAX_TITLE = 300
MAX_TEXT = 4000
MAX_TODOS = 10


@dataclass(frozen=True)
class TodoSpec:
    """A to-do an issue's solution names: the seat that owns it, what, and by when (text as typed)."""

    seat_id: str
    text: str
    due: str | dt.date | None = None


def get_issue(session: Session, issue_id: int) -> Issue:
    issue = session.get(Issue, issue_id)
    if issue is None:
        raise NotFound(f"there is no issue #{issue_id}", hint="`issues` lists the open ones")
    return issue


def list_issues(session: Session, *, seat_id: str | None = None, open_only: bool = True) -> list[Issue]:
    """Open and discussed issues in priority order (with `open_only=False`, the closed ones after, latest first)."""
    query = select(Issue)
    if seat_id is not None:
        query = query.where(Issue.seat_id == seat_id)
    if open_only:
        query = query.where(Issue.status.in_(OPEN))
    rows = list(session.scalars(query))
    live = sorted((i for i in rows if i.status in OPEN), key=lambda i: (i.rank, i.id))
    closed = sorted((i for i in rows if i.status not in OPEN), key=lambda i: i.closed_at or i.raised_at, reverse=True)
    return live + closed


def next_rank(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Issue.rank), 0)).where(Issue.status.in_(OPEN))) or 0) + 1


def raise_issue(
    session: Session,
    actor: Actor,
    title: str,
    *,
    seat_id: str | None = None,
    detail: str | None = None,
    source: str = "manual",
    draft_id: int | None = None,
    message_ref: str | None = None,
    now: dt.datetime | None = None,
) -> Issue:
    """A new issue at the bottom of the list, owned by `seat_id` (default: the asker's first seat)."""
    require_on_chart(actor, "raise issues")
    title = clean_text(title, "the issue's title", multiline=False, limit=MAX_TITLE)
    if not title:
        raise Invalid(
            "an issue needs a title", hint="say what the issue is, e.g. `issue Churn is up in the SMB segment`"
        )
    seat = live_seat(session, seat_id, "an issue") if seat_id else default_seat(session, actor, "the issue")
    if draft_id is not None and session.get(Draft, draft_id) is None:
        raise NotFound(f"there is no draft #{draft_id}")
    issue = Issue(
        title=title,
        seat_id=seat.id,
        status="open",
        rank=next_rank(session),
        source=source,
        draft_id=draft_id,
        message_ref=message_ref,
        detail=clean_text(detail, "the detail", multiline=True, limit=MAX_TEXT) or None,
        raised_by=actor.audit_name,
        raised_at=now or utcnow(),
    )
    session.add(issue)
    session.flush()
    audit.record(
        session, actor.audit_name, "issue.raised", f"issue:{issue.id}", seat=seat.id, source=source, title=title
    )
    return issue


def _live(session: Session, issue_id: int, what: str) -> Issue:
    # Locked: two solves (two modals, or the modal and the command) go one after the other,
    # and the second finds the issue closed.
    issue = session.scalar(
        select(Issue).where(Issue.id == issue_id).with_for_update().execution_options(populate_existing=True)
    )
    if issue is None:
        raise NotFound(f"there is no issue #{issue_id}", hint="`issues` lists the open ones")
    if issue.status not in OPEN:
        raise Conflict(
            f"issue #{issue.id} is already {issue.status}; it cannot be {what}",
            hint="raise a new issue if it came back",
        )
    return issue


def _raised_it(session: Session, actor: Actor, issue: Issue) -> bool:
    # A person may take their own issue off the list; an agent's issue is for people to close.
    return issue.raised_by == actor.audit_name and actor.holder_id is not None and not is_agent(session, actor)


def _may_close(session: Session, actor: Actor, issue: Issue, what: str) -> None:
    if not _raised_it(session, actor, issue):
        require_manage(session, actor, get_seat(session, issue.seat_id), what)


def discuss(session: Session, actor: Actor, issue_id: int, *, review_id: int | None = None) -> Issue:
    issue = _live(session, issue_id, "discussed")
    _may_close(session, actor, issue, f"mark issue #{issue.id} discussed")
    if issue.status == "open":
        issue.status, issue.discussed_at = "discussed", utcnow()
        audit.record(session, actor.audit_name, "issue.discussed", f"issue:{issue.id}", review=review_id)
    return issue


def solve(
    session: Session,
    actor: Actor,
    issue_id: int,
    decision: str,
    *,
    todos: Sequence[TodoSpec] = (),
    review_id: int | None = None,
) -> Issue:
    """Record the decision, close the issue and create the to-dos it named, all or nothing."""
    issue = _live(session, issue_id, "solved")
    _may_close(session, actor, issue, f"solve issue #{issue.id}")
    decision = clean_text(decision, "the decision", multiline=True, limit=MAX_TEXT)
    if not decision:
        raise Invalid("say what was decided", hint=f"e.g. `issue solve {issue.id} Call the three largest clients`")
    if len(todos) > MAX_TODOS:
        raise Invalid(f"{len(todos)} to-dos from one decision; at most {MAX_TODOS}")
    # A savepoint: a to-do refused halfway leaves none of the others, even for a caller that goes on.
    with session.begin_nested():
        made = [
            todo_rules.add_todo(session, actor, spec.seat_id, spec.text, due=spec.due, issue_id=issue.id)
            for spec in todos
        ]
    session.expire(issue, ["todos"])  # loaded before the new ones: read again when asked
    now = utcnow()
    issue.status, issue.decision, issue.review_id = "solved", decision, review_id
    issue.closed_by, issue.closed_at = actor.audit_name, now
    issue.discussed_at = issue.discussed_at or now
    audit.record(
        session,
        actor.audit_name,
        "issue.solved",
        f"issue:{issue.id}",
        decision=decision,
        todos=[t.id for t in made],
        review=review_id,
    )
    _close_gap(session)
    return issue


def drop(session: Session, actor: Actor, issue_id: int, reason: str, *, review_id: int | None = None) -> Issue:
    issue = _live(session, issue_id, "dropped")
    _may_close(session, actor, issue, f"drop issue #{issue.id}")
    reason = clean_text(reason, "the reason", multiline=True, limit=MAX_TEXT)
    if not reason:
        raise Invalid("say why the issue is dropped", hint=f"e.g. `issue drop {issue.id} solved itself`")
    issue.status, issue.decision, issue.review_id = "dropped", reason, review_id
    issue.closed_by, issue.closed_at = actor.audit_name, utcnow()
    audit.record(session, actor.audit_name, "issue.dropped", f"issue:{issue.id}", reason=reason, review=review_id)
    _close_gap(session)
    return issue


def move(session: Session, actor: Actor, issue_id: int, rank: int) -> Issue:
    """Put an open issue at place `rank` (1 = first) and renumber the rest."""
    issue = _live(session, issue_id, "moved")
    if not may_order(session, actor):
        raise Forbidden(
            "the issues list is the whole team's: the review's facilitator and the people at the top of the chart "
            "set its order",
            hint="raise it in the review, or ask the facilitator to move it",
        )
    ordered = [i for i in list_issues(session) if i.id != issue.id]
    if rank < 1:
        raise Invalid("places start at 1 (the top of the list)")
    place = min(rank, len(ordered) + 1)
    ordered.insert(place - 1, issue)
    for n, item in enumerate(ordered, start=1):
        item.rank = n
    audit.record(session, actor.audit_name, "issue.moved", f"issue:{issue.id}", rank=place)
    return issue


def _close_gap(session: Session) -> None:
    session.flush()
    for n, item in enumerate(list_issues(session), start=1):
        item.rank = n


def may_decide(session: Session, actor: Actor, issue: Issue) -> bool:
    """Whether `actor` may solve or drop `issue` (a surface shows the buttons only to them)."""
    return _raised_it(session, actor, issue) or may_manage(session, actor, get_seat(session, issue.seat_id))
