"""Issues, to-dos and rocks as the templates show them: plain values, read once per list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import Mrkdwn, render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.review.rights import answerable_seat_ids
from otp_bot.store.models import Holder, Issue, Rock, Seat, Todo

LISTED = 40
CLIPPED = 600  # a decision or detail in a reply: the rest is in `/otp issue N`, not cut mid-list
# A link is drawn only for what Slack itself gave as a permalink: nothing that could close the link early.
PERMALINK = re.compile(r"^https://[a-z0-9-]+\.slack\.com/archives/[A-Z0-9]+/p\d+(\?[\w=&.-]*)?$")


@dataclass(frozen=True)
class Scope:
    """Whose items a list shows: everyone's (`seats` None), one seat's, or the asker's seats."""

    seats: frozenset[str] | None
    label: str

    def keeps(self, seat_id: str) -> bool:
        return self.seats is None or seat_id in self.seats


def scope_of(session: Session, actor: Actor, word: str) -> Scope:
    """`all`, a seat id, or nothing / `mine`: the asker's seats (everyone's when they hold none)."""
    word = "" if word.lower() in ("mine", "my", "me") else word.lower()
    if word == "all":
        return Scope(None, "")
    if word:
        seat = get_seat(session, word)
        return Scope(frozenset({seat.id}), f"`{seat.id}`")
    held = answerable_seat_ids(session, actor)
    return Scope(frozenset(held), "your seats") if held else Scope(None, "")


def holders_of(session: Session, seat_ids: set[str]) -> dict[str, str]:
    """Seat id → its holder's name, in one query."""
    if not seat_ids:
        return {}
    rows = session.execute(
        select(Seat.id, Holder.name).join(Holder, Seat.holder_id == Holder.id).where(Seat.id.in_(seat_ids))
    )
    return dict(rows.all())


def who(audit_name: str | None, session: Session) -> str:
    """`holder:bogdan` as people read it: Bogdan."""
    kind, _, name = (audit_name or "").partition(":")
    if kind == "holder":
        holder = session.get(Holder, name)
        return holder.name if holder is not None else name
    return name or "someone"


def source_text(issue: Issue) -> str:
    if issue.source == "metric" and issue.metric_id:
        shown = f" ({issue.value:g} against {issue.goal})" if issue.value is not None and issue.goal else ""
        return f"metric `{issue.metric_id}` {issue.period}{shown}"
    if issue.source == "draft" and issue.draft_id:
        return f"draft #{issue.draft_id}"
    if issue.source == "message" and issue.message_ref:
        return Mrkdwn(f"<{issue.message_ref}|a message>") if PERMALINK.match(issue.message_ref) else "a message"
    return ""


def issue_view(issue: Issue, holder: str | None, session: Session) -> dict[str, Any]:
    return {
        "id": issue.id,
        "title": issue.title,
        "seat_id": issue.seat_id,
        "holder": holder,
        "status": issue.status,
        "rank": issue.rank,
        "rank_text": f"number {issue.rank} on the list" if issue.status in ("open", "discussed") else "",
        "source_text": source_text(issue),
        "detail": _clip(issue.detail),
        "decision": _clip(issue.decision),
        "raised_by": who(issue.raised_by, session),
        "raised_on": issue.raised_at.date().isoformat(),
        "closed_by": who(issue.closed_by, session),
        "closed_on": issue.closed_at.date().isoformat() if issue.closed_at else "",
    }


def _clip(text: str | None) -> str | None:
    return text if text is None or len(text) <= CLIPPED else text[:CLIPPED].rstrip() + "…"


def todo_view(todo: Todo, holder: str | None, today: dt.date) -> dict[str, Any]:
    return {
        "id": todo.id,
        "seat_id": todo.seat_id,
        "holder": holder,
        "text": todo.text,
        "due": todo.due.isoformat(),
        "overdue": todo.status == "open" and todo.due < today,
        "issue_id": todo.issue_id,
        "status": todo.status,
        "note": todo.note or "",
    }


def rock_view(rock: Rock, holder: str | None) -> dict[str, Any]:
    done = sum(1 for m in rock.milestones if m.get("done"))
    return {
        "id": rock.id,
        "seat_id": rock.seat_id,
        "holder": holder,
        "title": rock.title,
        "quarter": rock.quarter,
        "due": rock.due.isoformat(),
        "track": rock.track,
        "status": rock.status,
        "proposed_track": rock.proposed_track,
        "proposed": f"{rock.proposed_track} track proposed, awaiting confirmation" if rock.proposed_track else "",
        "milestones": f"{done}/{len(rock.milestones)}" if rock.milestones else "",
    }


def list_reply(head: str, lines: Sequence[str], more: str) -> Reply:
    """A heading and one line per item, packed into as few sections as Slack allows."""
    budget = blocks.BlockBudget()
    budget.add(blocks.section(head))
    blocks.lines_to_sections(list(lines), budget, more)  # as many as Slack's limits allow, then "and N more"
    hidden = max(len(lines) - LISTED, 0)  # the plain text (notifications, `otp ask`) lists the first ones
    text = "\n".join([head, *lines[:LISTED]]) + (f"\n{more.format(n=hidden)}" if hidden else "")
    return Reply(text=text, blocks=budget.blocks)


def done_reply(template: str, **values: Any) -> Reply:
    text = render(template, **values)
    return Reply(text=text, blocks=[blocks.section(text)])
