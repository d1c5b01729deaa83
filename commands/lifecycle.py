"""/otp hire, /otp assign, /otp vacate, /otp retire, /otp history: the seat lifecycle.

Every rule is in `store.domain.lifecycle`; these parse the words and render the result.
`retire` answers with a button that opens the hearing form (in Slack the form opens
straight from the command when it can; the button is the way back to it).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement
from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.describe import holder_text
from otp_bot.commands.views.drafts import stamp
from otp_bot.commands.views.render import render, truncate
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_holder, get_seat
from otp_bot.store.domain.lifecycle import hearings, hiring, history, holders
from otp_bot.store.models import Hearing

HEARING_OPEN = "otp_hearing_open"  # the button's action; its value is the seat id


def _option(args, name: str) -> str | None:
    value = args.options.get(name)
    return str(value) if value and value is not True else None


def _split(value: str | None, sep: str) -> list[str]:
    return [part.strip() for part in (value or "").split(sep) if part.strip()]


@command(
    "hire",
    'hire <seat-id> "<title>" [--reports-to S] [--holder H] [--owns "a, b"]',
    "create a seat below one you hold, held by someone or vacant",
    writes=True,
)
def hire_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"reports-to", "holder", "owns", "aliases", "accountabilities"})
    if len(args.words) < 2:
        raise Usage('name the seat id and its title, e.g. `hire paid-search "Paid Search" --reports-to analytics`')
    seat = hiring.hire(
        session,
        actor,
        args.words[0],
        " ".join(args.words[1:]),
        reports_to=_option(args, "reports-to"),
        holder=_option(args, "holder"),
        owns=_split(_option(args, "owns"), ","),
        aliases=_split(_option(args, "aliases"), ","),
        accountabilities=_split(_option(args, "accountabilities"), ";"),
    )
    manager = get_seat(session, seat.reports_to_id) if seat.reports_to_id else None
    text = render(
        "lifecycle/seat_hired.j2",
        seat=seat,
        manager=manager,
        holder=holder_text(seat.holder) if seat.holder else None,
        owns=[o.topic for o in seat.owns],
    )
    return Reply(text=text, blocks=[blocks.section(text)])


@command("assign", "assign <seat> <holder>", "give a seat below yours a holder (the old holding closes)", writes=True)
def assign_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 2:
        raise Usage("name the seat and the holder, e.g. `assign retention pulse`")
    done = holders.assign(session, actor, tokens[0], tokens[1])
    return _assigned(session, done)


@command("vacate", "vacate <seat>", "leave a seat below yours without a holder", writes=True)
def vacate_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 1:
        raise Usage("name one seat, e.g. `vacate onboarding`")
    return _assigned(session, holders.vacate(session, actor, tokens[0]))


def _assigned(session: Session, done: holders.Assignment) -> Reply:
    previous = holder_text(get_holder(session, done.previous)) if done.previous else None
    text = render(
        "lifecycle/seat_assigned.j2",
        seat=done.seat,
        changed=done.changed,
        previous=previous,
        holder=holder_text(done.seat.holder) if done.seat.holder else None,
    )
    return Reply(text=text, blocks=[blocks.section(text)])


def hearing_button(seat_id: str) -> dict[str, Any]:
    return ActionsBlock(
        block_id=f"otp_hearing_{seat_id}",
        elements=[ButtonElement(text="Open the hearing", action_id=HEARING_OPEN, value=seat_id, style="danger")],
    ).to_dict()


@command(
    "retire",
    "retire <seat>",
    "hold a hearing on a seat below yours: retire it (its work moves on) or keep it",
    writes=True,
)
def retire_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 1:
        raise Usage("name one seat, e.g. `retire kpi`")
    form = hearings.hearing_form(session, actor, tokens[0])
    text = render(
        "lifecycle/seat_retire.j2", seat=form.seat, capabilities=len(form.capabilities), reports=len(form.reports)
    )
    return Reply(
        text=text,
        blocks=[blocks.section(text), hearing_button(form.seat.id)],
        cli_step=f"otp seat retire {form.seat.id} --hearing hearing.yaml (the hearing as YAML: "
        "why, findings, recommendation, decision; see the README)",
    )


# ---------------------------------------------------------------- history


def _moves(moves: list[dict[str, Any]]) -> str:
    return "; ".join(f"{m['capability'][:80]} → {m['to_seat'] or 'dropped'}" for m in moves)


def hearing_view(session: Session, h: Hearing) -> dict[str, Any]:
    return {
        "id": h.id,
        "when": stamp(h.held_at),
        "who": history.who(session, h.held_by),
        "decision": h.decision,
        "reason": truncate(h.reason, 300),
        "findings": truncate(h.findings, 300),
        "recommendation": truncate(h.recommendation, 300),
        "moves": truncate(_moves(h.moves or []), 600),
        "manager": h.manager_id if h.reports else None,
        "reports": ", ".join(h.reports or []),
    }


def event_view(e: history.Event) -> dict[str, Any]:
    d = e.detail
    what = {
        "seat.hired": f"hired{' under ' + str(d['reports_to']) if d.get('reports_to') else ''}"
        f"{', held by ' + str(d['holder']) if d.get('holder') else ', vacant'}",
        "seat.assigned": f"assigned to {d.get('holder')}" + (f" (was {d['previous']})" if d.get("previous") else ""),
        "seat.vacated": f"vacated (was {d.get('previous')})",
        "seat.retired": f"retired after hearing #{d.get('hearing')}",
        "seat.kept": f"kept after hearing #{d.get('hearing')}",
        "seat.received": f"received {', '.join([*d.get('owns', []), *d.get('accountabilities', [])])} "
        f"from {d.get('from')} (hearing #{d.get('hearing')})",
        "seat.manager_changed": f"now reports to {d.get('to')} (was {d.get('from')})",
    }.get(e.action) or (f"chart import: {d['change']}" if d.get("change") else e.action)
    return {"when": stamp(e.at), "who": e.who, "what": truncate(what, 300)}


@command(
    "history", "history <seat>", "a seat's record: who held it when, its hearings, every change", aliases=("record",)
)
def history_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 1:
        raise Usage("name one seat, e.g. `history retention`")
    h = history.history(session, tokens[0])
    holdings = [
        {"holder": f"{x.holder} ({x.kind})", "start": stamp(x.started_at), "end": stamp(x.ended_at)} for x in h.holdings
    ]
    hearings = [hearing_view(session, x) for x in h.hearings]
    events = [event_view(e) for e in h.events]
    status = (
        "retired" if h.seat.status == "retired" else (holder_text(h.seat.holder) if h.seat.holder else h.seat.status)
    )
    head = render("lifecycle/seat_history_head.j2", seat=h.seat, status=status)
    held: list[str] = [render("lifecycle/seat_history_holding.j2", h=x) for x in holdings] or ["_Never held._"]
    heard: list[str] = [render("lifecycle/seat_history_hearing.j2", h=x) for x in hearings] or ["_None._"]
    changed: list[str] = [render("lifecycle/seat_history_event.j2", e=x) for x in events] or ["_None recorded._"]
    lines = [
        "*Holders*",
        *held,
        "*Hearings*",
        *heard,
        "*Changes*" + (f" (the last {len(events)}; {h.more_events} earlier)" if h.more_events else ""),
        *changed,
    ]
    budget = blocks.BlockBudget()
    budget.add(blocks.section(head))
    blocks.lines_to_sections(lines, budget, more="and {n} more lines: `otp seat history` prints everything")
    return Reply(text=truncate("\n".join([head, *lines]), 3500), blocks=budget.blocks)
