"""/otp flag <subject> <flag> [reason], /otp unflag <subject> <flag>, /otp flags [subject]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.drafts import flag_view
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.gate.flags import active_flags, lift_flag, parse_until, set_flag
from otp_bot.store.domain.gate.queries import policies_holding

RELEASED_SHOWN = 20
FLAGS_SHOWN = 200


def _option(args, name: str) -> str | None:
    value = args.options.get(name)
    return str(value) if value else None


@command(
    "flag",
    "flag <subject> <flag> [reason] [--seat S] [--until 3d]",
    "mark a subject for a seat you hold (client:acme at-risk); policies hold drafts by flags",
    writes=True,
)
def flag_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"seat", "until"})
    if len(args.words) < 2:
        raise Usage("name the subject and the flag, e.g. `flag client:acme at-risk two missed calls`")
    subject, flag, *reason = args.words
    change = set_flag(
        session,
        actor,
        subject,
        flag,
        seat_id=_option(args, "seat"),
        reason=" ".join(reason) or None,
        until=parse_until(_option(args, "until")),
    )
    text = render(
        "gate/flag_set.j2",
        f=flag_view(change.flag),
        created=change.created,
        holds=policies_holding(session, change.flag),
    )
    return Reply(text=text, blocks=[blocks.section(text)])


@command(
    "unflag",
    "unflag <subject> <flag> [--seat S]",
    "lift a flag; drafts it held go to approval",
    aliases=("lift",),
    writes=True,
)
def unflag_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"seat"})
    if len(args.words) != 2:
        raise Usage("name the subject and the flag, e.g. `unflag client:acme at-risk`")
    change = lift_flag(session, actor, args.words[0], args.words[1], seat_id=_option(args, "seat"))
    released = [{"id": d.id, "kind": d.kind, "title": d.title[:80]} for d in change.released]
    text = render(
        "gate/flag_lifted.j2",
        f=flag_view(change.flag),
        released=released[:RELEASED_SHOWN],
        more=max(0, len(released) - RELEASED_SHOWN),
    )
    return Reply(text=text, blocks=[blocks.section(text)])


@command("flags", "flags [subject]", "flags in force, on one subject or on all")
def flags_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) > 1:
        raise Usage("name at most one subject, e.g. `flags client:acme`")
    subject = tokens[0].lower() if tokens else None
    rows = active_flags(session, subject)
    lines = [render("gate/flag_line.j2", f=flag_view(f)) for f in rows[:FLAGS_SHOWN]]
    text = render("gate/flags.j2", subject=subject, lines=lines)
    heading = text.splitlines()[0]
    budget = blocks.BlockBudget()
    if not lines:
        budget.add(blocks.section(text))
    else:
        budget.add(blocks.section(heading))
        blocks.lines_to_sections(
            lines, budget, more="and {n} more flags: ask for one subject with `/otp flags <subject>`"
        )
    return Reply(text=text, blocks=budget.blocks)
