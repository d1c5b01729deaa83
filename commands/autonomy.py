"""/otp autonomy [seat], /otp autonomy revoke <seat> [kind] [reason]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gate.autonomy import rules_of_seat
from otp_bot.store.domain.gate.autonomy_grants import Standing, live_grants, revoke, standing


def _day(when) -> str:
    return as_utc(when).strftime("%Y-%m-%d")


def standing_views(rows: list[Standing]) -> list[dict]:
    return [{**vars(s), "granted": _day(s.grant.granted_at) if s.grant else None} for s in rows]


@command(
    "autonomy",
    "autonomy [seat] | autonomy revoke <seat> [kind] [reason]",
    "drafts approved by policy once a seat earned it; revoke it",
    writes=True,
)
def autonomy_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if tokens and tokens[0].lower() == "revoke":
        return _revoke(session, actor, tokens[1:])
    if len(tokens) > 1:
        raise Usage("name one seat, e.g. `autonomy call-center`, or `autonomy revoke <seat>`")
    if tokens:
        seat = tokens[0].lower()
        text = render("gate/autonomy.j2", seat=seat, standing=standing_views(standing(session, seat)))
    else:
        grants = [{**vars(g), "granted": _day(g.granted_at)} for g in live_grants(session)]
        text = render("gate/autonomy.j2", seat=None, grants=grants)
    return Reply(text=text, blocks=[blocks.section(text)])


def _revoke(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage("name the seat, e.g. `autonomy revoke call-center coaching-note tone was off`")
    seat, rest = tokens[0].lower(), tokens[1:]
    kind = None
    if rest and rest[0].lower() in rules_of_seat(session, seat):  # else the words are all the reason
        kind, rest = rest[0].lower(), rest[1:]
    reason = " ".join(rest) or None
    grants = revoke(session, actor, seat, kind, reason)
    text = render("gate/autonomy_revoked.j2", seat=seat, kinds=[g.kind for g in grants], reason=reason)
    return Reply(text=text, blocks=[blocks.section(text)])


def seat_line(session: Session, seat_id: str) -> str | None:
    """The short autonomy line of `/otp seat`, when a route lets the seat earn any."""
    rows = standing(session, seat_id)
    return render("gate/autonomy_seat.j2", standing=standing_views(rows)) if rows else None
