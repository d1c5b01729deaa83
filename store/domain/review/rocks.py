"""Rocks: each seat's 1–5 priorities for a quarter, due inside it, on or off track week by week.

A person holding the seat, or anyone who answers for it, sets the track. An agent holding
the seat proposes it (`proposed_track`) and the seat's accountable human confirms or
declines: the track a review shows for an agent's rock is one a person stood behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat, seat_order
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.domain.review.due_dates import parse_due
from otp_bot.store.domain.review.quarters import normal_quarter, quarter_bounds, quarter_of
from otp_bot.store.domain.review.rights import holds, is_agent, live_seat, may_manage, require_manage
from otp_bot.store.domain.review.todos import org_today
from otp_bot.store.domain.text_rules import clean_text
from otp_bot.store.models import ROCK_TRACKS, Rock, Seat

MAX_ROCKS = 5
MAX_MILESTONES = 10
MAX_TITLE = 300


def get_rock(session: Session, rock_id: int) -> Rock:
    rock = session.get(Rock, rock_id)
    if rock is None:
        raise NotFound(f"there is no rock #{rock_id}", hint="`rocks` lists this quarter's")
    return rock


def list_rocks(session: Session, *, seat_id: str | None = None, quarter: str | None = None) -> list[Rock]:
    """Rocks in chart order of their seats, then by due date; dropped ones are left out."""
    query = select(Rock).where(Rock.status != "dropped")
    if seat_id is not None:
        query = query.where(Rock.seat_id == seat_id)
    if quarter is not None:
        query = query.where(Rock.quarter == normal_quarter(quarter))
    rows = list(session.scalars(query))
    order = {s: n for n, s in enumerate(seat_order(session))}
    return sorted(rows, key=lambda r: (order.get(r.seat_id, len(order)), r.due, r.id))


def _milestones(items: Sequence[Any], first: dt.date, last: dt.date, today: dt.date) -> list[dict[str, Any]]:
    if len(items) > MAX_MILESTONES:
        raise Invalid(f"{len(items)} milestones; at most {MAX_MILESTONES} per rock")
    out = []
    for n, item in enumerate(items, start=1):
        title, due = (item.get("title"), item.get("due")) if isinstance(item, dict) else (item, None)
        title = clean_text(str(title or ""), f"milestone {n}", multiline=False, limit=MAX_TITLE)
        if not title:
            raise Invalid(f"milestone {n} has no title")
        day = None
        if due:
            day = due if isinstance(due, dt.date) else parse_due(str(due), today)
            if not first <= day <= last:
                raise Invalid(f"milestone {n} is due {day.isoformat()}, outside the rock's quarter")
        out.append({"title": title, "due": day.isoformat() if day else None, "done": False})
    return out


def add_rock(
    session: Session,
    actor: Actor,
    seat_id: str,
    title: str,
    *,
    due: str | dt.date,
    quarter: str | None = None,
    milestones: Sequence[Any] = (),
    source: str = "manual",
) -> Rock:
    seat = live_seat(session, seat_id, "a rock")
    require_manage(session, actor, seat, "set its rocks")
    title = clean_text(title, "the rock", multiline=False, limit=MAX_TITLE)
    if not title:
        raise Invalid("say what the rock is", hint="e.g. `rock add retention Cut churn to 2% --due 2026-12-31`")
    today = org_today(session)
    day = due if isinstance(due, dt.date) else parse_due(due, today)
    label = normal_quarter(quarter) if quarter else quarter_of(day)
    first, last = quarter_bounds(label)
    if not first <= day <= last:
        raise Invalid(
            f"a rock for {label} is due inside it ({first.isoformat()} to {last.isoformat()}); "
            f"{day.isoformat()} is not",
            hint="give a due date in the quarter, or name the quarter it belongs to",
        )
    if last < today:
        raise Invalid(f"{label} is over; rocks are set for this quarter or a coming one")
    if day < today:
        raise Invalid(f"{day.isoformat()} is in the past; a rock is due today or later")
    # The seat row is locked first: two adds at once count one after the other, and a sixth is refused.
    session.execute(select(Seat.id).where(Seat.id == seat.id).with_for_update())
    count = session.scalar(
        select(func.count()).where(Rock.seat_id == seat.id, Rock.quarter == label, Rock.status != "dropped")
    )
    if (count or 0) >= MAX_ROCKS:
        raise Conflict(
            f"`{seat.id}` already has {MAX_ROCKS} rocks for {label}; a seat keeps 1–{MAX_ROCKS} priorities",
            hint="a finished rock still counts for its quarter; drop one that no longer matters to make room",
        )
    rock = Rock(
        seat_id=seat.id,
        quarter=label,
        title=title,
        due=day,
        track="on",
        status="open",
        milestones=_milestones(milestones, first, last, today),
        source=source,
        created_by=actor.audit_name,
        created_at=utcnow(),
    )
    session.add(rock)
    session.flush()
    audit.record(
        session, actor.audit_name, "rock.added", f"rock:{rock.id}", seat=seat.id, quarter=label, due=day, title=title
    )
    return rock


def _open(session: Session, rock_id: int) -> Rock:
    rock = session.scalar(
        select(Rock).where(Rock.id == rock_id).with_for_update().execution_options(populate_existing=True)
    )
    if rock is None:
        raise NotFound(f"there is no rock #{rock_id}", hint="`rocks` lists this quarter's")
    if rock.status != "open":
        raise Conflict(f"rock #{rock.id} is {rock.status}; its track is no longer set")
    return rock


def set_track(session: Session, actor: Actor, rock_id: int, track: str) -> Rock:
    """On or off track. From an agent holding the seat this is a proposal its accountable human confirms."""
    track = " ".join(track.lower().split()).removesuffix("-track").removesuffix(" track")
    if track not in ROCK_TRACKS:
        raise Invalid(f"`{track[:20]}` is not a track", hint="say `on` or `off`")
    rock = _open(session, rock_id)
    seat = get_seat(session, rock.seat_id)
    now = utcnow()
    if is_agent(session, actor):
        if not holds(actor, seat):
            raise Forbidden(f"rock #{rock.id} is `{seat.id}`'s; an agent reports on its own seat's rocks")
        rock.proposed_track, rock.proposed_by, rock.proposed_at = track, actor.audit_name, now
        audit.record(session, actor.audit_name, "rock.track_proposed", f"rock:{rock.id}", track=track)
        return rock
    if not (holds(actor, seat) or may_manage(session, actor, seat)):
        raise Forbidden(f"rock #{rock.id} is `{seat.id}`'s: its holder and the people who answer for it set its track")
    previous = rock.track
    rock.track, rock.track_set_by, rock.track_set_at = track, actor.audit_name, now
    rock.proposed_track = rock.proposed_by = rock.proposed_at = None
    audit.record(session, actor.audit_name, "rock.track_set", f"rock:{rock.id}", track=track, was=previous)
    return rock


def confirm_track(
    session: Session, actor: Actor, rock_id: int, *, accept: bool = True, expected: str | None = None
) -> Rock:
    """The accountable human's answer to an agent's proposed track; `expected`: the track the
    person was shown (a proposal changed since is not confirmed in their name)."""
    rock = _open(session, rock_id)
    if rock.proposed_track is None:
        raise Conflict(f"rock #{rock.id} has no proposed track to confirm")
    if expected is not None and expected != rock.proposed_track:
        raise Conflict(
            f"rock #{rock.id}'s proposal changed to {rock.proposed_track} track since you saw it; nothing changed",
            hint="look again and answer the proposal as it is now",
        )
    seat = get_seat(session, rock.seat_id)
    if is_agent(session, actor):
        raise Forbidden("an agent's proposed track is confirmed by a person")
    require_manage(session, actor, seat, "confirm its agent's track")
    proposed, by = rock.proposed_track, rock.proposed_by
    if accept:
        rock.track, rock.track_set_by, rock.track_set_at = proposed, actor.audit_name, utcnow()
    rock.proposed_track = rock.proposed_by = rock.proposed_at = None
    action = "rock.track_confirmed" if accept else "rock.track_declined"
    audit.record(session, actor.audit_name, action, f"rock:{rock.id}", track=proposed, proposed_by=by)
    return rock


def complete_rock(session: Session, actor: Actor, rock_id: int) -> Rock:
    return _close(session, actor, rock_id, "done")


def drop_rock(session: Session, actor: Actor, rock_id: int, reason: str) -> Rock:
    reason = clean_text(reason, "the reason", multiline=True, limit=2000)
    if not reason:
        raise Invalid("say why the rock is dropped")
    return _close(session, actor, rock_id, "dropped", reason=reason)


def _close(session: Session, actor: Actor, rock_id: int, status: str, **detail: Any) -> Rock:
    rock = _open(session, rock_id)
    require_manage(session, actor, get_seat(session, rock.seat_id), f"mark rock #{rock.id} {status}")
    rock.status = status
    audit.record(session, actor.audit_name, f"rock.{status}", f"rock:{rock.id}", **detail)
    return rock


def _milestone_named(rock: Rock, name: str) -> int:
    wanted = name.strip().lower()
    found = [n for n, m in enumerate(rock.milestones, start=1) if str(m.get("title", "")).lower().startswith(wanted)]
    if len(found) != 1:
        titles = "; ".join(f"{n}. {m.get('title')}" for n, m in enumerate(rock.milestones, start=1)) or "none"
        raise Invalid(
            f"`{name[:40]}` names {'no' if not found else 'more than one'} milestone of rock #{rock.id}: {titles}"
        )
    return found[0]


def milestone_done(session: Session, actor: Actor, rock_id: int, index: int | str) -> Rock:
    """Milestone `index` (1 first, or the start of its title) is done."""
    rock = _open(session, rock_id)
    seat = get_seat(session, rock.seat_id)
    if not (holds(actor, seat) or may_manage(session, actor, seat)):
        raise Forbidden(f"rock #{rock.id} is `{seat.id}`'s: its holder and the people who answer for it update it")
    if isinstance(index, str):
        index = _milestone_named(rock, index)
    if not 1 <= index <= len(rock.milestones):
        raise Invalid(f"rock #{rock.id} has {len(rock.milestones)} milestone(s); there is no milestone {index}")
    items = [dict(m) for m in rock.milestones]
    if items[index - 1].get("done"):
        raise Conflict(f"milestone {index} of rock #{rock.id} is already done")
    items[index - 1]["done"] = True
    rock.milestones = items  # a new list: the JSON column sees the change
    audit.record(session, actor.audit_name, "rock.milestone_done", f"rock:{rock.id}", milestone=index)
    return rock
