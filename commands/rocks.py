"""/otp rocks [seat|all] [--quarter 2026-Q4], /otp rock add <seat> <title> --due D [--milestone M]…,
/otp rock N on|off, /otp rock confirm|decline|done N, /otp rock drop N <reason>, /otp rock N milestone K"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views.render import render
from otp_bot.commands.views.review_items import done_reply, holders_of, list_reply, rock_view, scope_of
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.review import rocks
from otp_bot.store.domain.review.quarters import normal_quarter, quarter_bounds, quarter_of
from otp_bot.store.domain.review.todos import org_today
from otp_bot.store.models import Rock

USAGE_ADD = 'rock add <seat> "Cut churn to 2%" --due 2026-12-31'


@command(
    "rocks",
    "rocks [seat|all] [--quarter 2026-Q4]",
    "the quarter's rocks, on or off track: yours, one seat's, or everyone's",
)
def rocks_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"quarter"})
    if len(args.words) > 1:
        raise Usage("name one seat, or `all`")
    quarter = _quarter(session, str(args.options["quarter"])) if args.options.get("quarter") else None
    quarter = quarter or quarter_of(org_today(session))
    scope = scope_of(session, actor, args.words[0] if args.words else "")
    rows = [r for r in rocks.list_rocks(session, quarter=quarter) if scope.keeps(r.seat_id)]
    names = holders_of(session, {r.seat_id for r in rows})
    lines = [render("review/rock_line.j2", r=rock_view(r, names.get(r.seat_id))) for r in rows]
    tally = {
        "on": sum(1 for r in rows if r.status == "open" and r.track == "on"),
        "off": sum(1 for r in rows if r.status == "open" and r.track == "off"),
        "done": sum(1 for r in rows if r.status == "done"),
    }
    head = render("review/rocks.j2", quarter=quarter, scope=scope.label, count=len(rows), **tally)
    return list_reply(head, lines, "and {n} more: `/otp rocks <seat>` narrows the list")


def _quarter(session: Session, word: str) -> str:
    """`2026-Q4`, `Q4` (this year), `this` or `next`."""
    today = org_today(session)
    word = word.strip().lower()
    if word in ("this", "now", "current"):
        return quarter_of(today)
    if word == "next":
        return quarter_of(quarter_bounds(quarter_of(today))[1] + dt.timedelta(days=1))
    if word.startswith("q") and word[1:].isdigit():
        word = f"{today.year}-{word}"
    return normal_quarter(word)


def _number(word: str, usage: str) -> int:
    if not word.lstrip("#").isdigit():
        raise Usage(f"name the rock by its number, e.g. `{usage}`")
    return int(word.lstrip("#"))


@command(
    "rock",
    "rock add <seat> <title> --due <day> [--quarter Q] [--milestone M]… | rock N on|off | rock confirm|decline N "
    "| rock done N | rock drop N <reason> | rock N milestone K",
    "set a seat's rock for the quarter, its weekly track, a milestone done, or close it",
    writes=True,
)
def rock_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage(f"e.g. `{USAGE_ADD}` or `rock 3 off`")
    verb = tokens[0].lower()
    if verb == "add":
        return _add(session, actor, tokens[1:])
    if verb in ("confirm", "decline", "done", "drop"):
        if len(tokens) < 2:
            raise Usage(f"name the rock by its number, e.g. `rock {verb} 3`")
        rock_id = _number(tokens[1], f"rock {verb} 3")
        if verb in ("confirm", "decline"):
            rock = rocks.confirm_track(session, actor, rock_id, accept=verb == "confirm")
            return done_reply("review/rock_done.j2", verb="track" if verb == "confirm" else "declined", r=rock, n=0)
        if verb == "done":
            return done_reply("review/rock_done.j2", verb="closed", r=rocks.complete_rock(session, actor, rock_id), n=0)
        return done_reply("review/rock_done.j2", verb="closed", r=_drop(session, actor, rock_id, tokens[2:]), n=0)
    rock_id = _number(tokens[0], "rock 3 off")
    rest = [t.lower() for t in tokens[1:]]
    if not rest:
        return _show(session, rock_id)
    if len(rest) >= 2 and rest[0] == "milestone":
        which: int | str = int(rest[1]) if len(rest) == 2 and rest[1].isdigit() else " ".join(tokens[2:])
        rock = rocks.milestone_done(session, actor, rock_id, which)
        return done_reply("review/rock_done.j2", verb="milestone", r=rock, n=which)
    if rest == ["done"]:
        return done_reply("review/rock_done.j2", verb="closed", r=rocks.complete_rock(session, actor, rock_id), n=0)
    if rest[0] == "drop":
        return done_reply("review/rock_done.j2", verb="closed", r=_drop(session, actor, rock_id, tokens[2:]), n=0)
    if len(rest) > 2 or (len(rest) == 2 and rest[1] != "track"):
        raise Usage("say `on` or `off`, e.g. `rock 3 off`; or `rock 3 milestone 1` for a milestone done")
    rock = rocks.set_track(session, actor, rock_id, rest[0])
    verb = "proposed" if rock.proposed_track is not None else "track"
    return done_reply("review/rock_done.j2", verb=verb, r=rock, n=0)


def _drop(session: Session, actor: Actor, rock_id: int, reason: list[str]) -> Rock:
    if not reason:
        raise Usage(f"say why the rock is dropped, e.g. `rock drop {rock_id} the client left`")
    return rocks.drop_rock(session, actor, rock_id, " ".join(reason))


def _show(session: Session, rock_id: int) -> Reply:
    rock = rocks.get_rock(session, rock_id)
    view = rock_view(rock, holders_of(session, {rock.seat_id}).get(rock.seat_id))
    return done_reply("review/rock.j2", r=view, milestones=rock.milestones)


def _add(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    milestones = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i].lower() == "--milestone" and i + 1 < len(tokens):
            milestones.append(tokens[i + 1])
            i += 2
            continue
        rest.append(tokens[i])
        i += 1
    args = parse_args(rest, options={"due", "quarter"})
    if len(args.words) < 2:
        raise Usage(f"name the seat and the rock, e.g. `{USAGE_ADD}`")
    if not args.options.get("due"):
        raise Usage(f"a rock needs its due day: add `--due 2026-12-31` (inside the quarter), e.g. `{USAGE_ADD}`")
    rock = rocks.add_rock(
        session,
        actor,
        args.words[0],
        " ".join(args.words[1:]),
        due=str(args.options["due"]),
        quarter=_quarter(session, str(args.options["quarter"])) if args.options.get("quarter") else None,
        milestones=milestones,
    )
    return done_reply("review/rock_done.j2", verb="added", r=rock, n=0, milestones=rock.milestones)
