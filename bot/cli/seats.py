"""`otp seat …`: the seat lifecycle for operators (or, with --as, a person on the chart).

The same domain calls as /otp hire, assign, vacate and retire; retiring takes a hearing
file (YAML or JSON) instead of the Slack form:

    reason: Outputs stopped being reliable after the data source changed
    findings: Three of the last five weekly pushes were late or wrong
    recommendation: Retire; Dash and the COO absorb the work
    decision: retire                   # or keep: recorded, the seat stays
    moves:                             # every owns topic and accountability, once
      - {capability: kpi collection, to_seat: analytics}
      - {capability: Report metrics that have gone without a fresh value, to_seat: "-"}   # dropped
    reports_to: coo                    # optional: where its direct reports go (default: its manager)
"""

from __future__ import annotations

from typing import Annotated

import typer

from otp_bot.bot.cli.common import AsHolder, acting, database, read_text, refused, say
from otp_bot.store.domain.errors import DomainError

seat_app = typer.Typer(
    no_args_is_help=True, help="Seat lifecycle: hire, assign, vacate, retire (with a hearing), history."
)


@seat_app.command("hire")
def seat_hire(
    seat: Annotated[str, typer.Argument(help="The new seat's id: lower-case letters, digits, '-'.")],
    title: Annotated[str, typer.Argument(help="Its title.")],
    reports_to: Annotated[
        str | None, typer.Option("--reports-to", help="Its manager seat (default: the top of the chart).")
    ] = None,
    holder: Annotated[str | None, typer.Option(help="Who holds it (default: vacant).")] = None,
    owns: Annotated[list[str] | None, typer.Option("--owns", help="A function it owns (repeat for several).")] = None,
    alias: Annotated[list[str] | None, typer.Option("--alias", help="Another name who-owns matches (repeat).")] = None,
    accountability: Annotated[
        list[str] | None, typer.Option("--accountability", help="What it answers for (repeat).")
    ] = None,
    as_holder: AsHolder = None,
) -> None:
    """Create a seat."""
    from otp_bot.store.domain.lifecycle import hiring

    try:
        with database().session() as session:
            made = hiring.hire(
                session,
                acting(session, as_holder),
                seat,
                title,
                reports_to=reports_to,
                holder=holder,
                owns=owns or [],
                aliases=alias or [],
                accountabilities=accountability or [],
            )
            said = f"hired {made.id} ({made.status}{', held by ' + made.holder_id if made.holder_id else ''})"
    except DomainError as exc:
        refused(exc)
    say(said)


@seat_app.command("assign")
def seat_assign(
    seat: Annotated[str, typer.Argument(help="The seat.")],
    holder: Annotated[str, typer.Argument(help="Its new holder.")],
    as_holder: AsHolder = None,
) -> None:
    """Give a seat a holder; the previous holding closes (kept in its history)."""
    from otp_bot.store.domain.lifecycle import holders

    try:
        with database().session() as session:
            done = holders.assign(session, acting(session, as_holder), seat, holder)
    except DomainError as exc:
        refused(exc)
    say(
        f"{done.seat.id}: held by {holder}" + (f" (before: {done.previous})" if done.previous else "")
        if done.changed
        else f"{done.seat.id}: already held by {holder}; nothing changed"
    )


@seat_app.command("vacate")
def seat_vacate(seat: Annotated[str, typer.Argument(help="The seat.")], as_holder: AsHolder = None) -> None:
    """Leave a seat without a holder."""
    from otp_bot.store.domain.lifecycle import holders

    try:
        with database().session() as session:
            done = holders.vacate(session, acting(session, as_holder), seat)
    except DomainError as exc:
        refused(exc)
    say(
        f"{done.seat.id}: vacant" + (f" (before: {done.previous})" if done.previous else "")
        if done.changed
        else f"{done.seat.id}: already without a holder; nothing changed"
    )


@seat_app.command("retire")
def seat_retire(
    seat: Annotated[str, typer.Argument(help="The seat.")],
    hearing: Annotated[str, typer.Option("--hearing", help="The hearing file (YAML or JSON); - reads stdin.")],
    as_holder: AsHolder = None,
) -> None:
    """Record a hearing on a seat; when it decides `retire`, retire the seat and move its work."""
    from otp_bot.store.domain.lifecycle import hearing_input, hearings

    text = read_text(hearing, "the hearing")
    try:
        given = hearing_input.hearing_from_text(text, hearing)
        with database().session() as session:
            done = hearings.retire(session, acting(session, as_holder), seat, given)
            lines = [f"hearing #{done.hearing.id}: {seat} {'retired' if done.retired else 'kept'}"]
            lines += [f"  {c.text} -> {to or 'dropped'}" for c, to in done.moves]
            if done.manager:
                lines.append(f"  reports ({', '.join(r.id for r in done.reports)}) -> {done.manager.id}")
    except DomainError as exc:
        refused(exc)
    say("\n".join(lines))


@seat_app.command("history")
def seat_history(seat: Annotated[str, typer.Argument(help="The seat.")]) -> None:
    """Who held the seat when, its hearings, and every change to it."""
    from otp_bot.commands.lifecycle import event_view, hearing_view
    from otp_bot.commands.views.drafts import stamp
    from otp_bot.store.domain.lifecycle import history

    try:
        with database().session() as session:
            h = history.history(session, seat, limit=100_000)
            lines = [f"{h.seat.id} ({h.seat.title}): {h.seat.status}", "holders:"]
            lines += [
                f"  {x.holder} ({x.kind}) {stamp(x.started_at)} - {stamp(x.ended_at) or 'now'}" for x in h.holdings
            ]
            lines.append("hearings:")
            for x in h.hearings:
                v = hearing_view(session, x)
                lines += [
                    f"  #{v['id']} {v['when']} by {v['who']}: {v['decision']}",
                    f"    reason: {x.reason}",
                    f"    findings: {x.findings}",
                    f"    recommendation: {x.recommendation}",
                ]
                lines += [f"    {m['capability']} -> {m['to_seat'] or 'dropped'}" for m in x.moves or []]
            lines.append("changes:")
            lines += [f"  {e['when']} {e['who']}: {e['what']}" for e in map(event_view, h.events)]
    except DomainError as exc:
        refused(exc)
    say("\n".join(lines))
