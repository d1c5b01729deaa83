"""/otp drafts [all], /otp draft <number>"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.drafts import line, record, stamp
from otp_bot.commands.views.render import fit_escaped, render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.gate.queries import list_drafts, waiting_for
from otp_bot.store.domain.gate.reading import current_text, draft_for_person

LIST_LIMIT = 30
BODY_CHARS = 2800  # escaped, within a section's 3,000 with the label and the note


@command(
    "drafts",
    "drafts [all] [--seat S] [--status pending]",
    "drafts waiting for your decision; `all` for the recent ones with their status",
    aliases=("approvals",),
)
def drafts_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options={"seat", "status"})
    if len(args.words) > 1 or (args.words and args.words[0].lower() != "all"):
        raise Usage(
            "`drafts` lists what waits for your decision, `drafts all` the recent drafts",
            hint="to open one draft: `draft 12`",
        )
    everything = bool(args.words) or bool(args.options)
    if everything:
        seat, status = args.options.get("seat"), args.options.get("status")
        found = list_drafts(
            session, status=str(status) if status else None, seat_id=str(seat) if seat else None, limit=LIST_LIMIT + 1
        )
        heading = "Recent drafts" + (f" of {seat}" if seat else "") + (f", {status}" if status else "")
        empty = "No drafts match." if args.options else "No drafts yet."
    else:
        found = waiting_for(session, actor, limit=LIST_LIMIT + 1)
        heading = "Drafts waiting for your decision"
        empty = (
            "Nothing is waiting for your decision. `/otp drafts all` lists the recent drafts."
            if actor.holder_id
            else "You are not on the chart, so no drafts wait for your decision. "
            "`/otp drafts all` lists the recent ones."
        )
    now = utcnow()
    lines = [render("gate/draft_line.j2", d=line(d, now), show_status=everything) for d in found[:LIST_LIMIT]]
    more = f"Only the {LIST_LIMIT} most recent are shown." if len(found) > LIST_LIMIT else ""
    text = render("gate/drafts_list.j2", heading=heading, lines=lines, empty=empty, more=more)
    budget = blocks.BlockBudget()
    budget.add(blocks.header(heading))
    if not lines:
        budget.add(blocks.section(render("gate/drafts_list.j2", heading="", lines=[], empty=empty, more="")))
    blocks.lines_to_sections(lines, budget)
    if more and not budget.full:
        budget.close(more)
    return Reply(text=text, blocks=budget.blocks)


@command("draft", "draft <number>", "one draft: who drafted it, its text, status and history")
def draft_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) != 1:
        raise Usage("name one draft by its number, e.g. `draft 12`", hint="`drafts all` lists the recent ones")
    draft = draft_for_person(session, actor, tokens[0])
    d = record(session, draft)
    label = (
        "Approved text, with edits"
        if d["status"] == "approved" and d["edited"]
        else "Text, as edited by an approver"
        if d["edited"]
        else "Text"
    )
    body, left = fit_escaped(current_text(draft), BODY_CHARS)
    budget = blocks.BlockBudget()
    budget.add(blocks.header(f"Draft #{draft.id}: {draft.title}"))
    budget.add(blocks.section(render("gate/draft_summary.j2", d=d)))
    budget.add(blocks.section(render("gate/draft_body.j2", label=label, body=body, left=left, id=draft.id)))
    if d["status"] != "held" and (d["route"]["channel"] or d["route"]["approvers"]):
        budget.add(blocks.context(render("gate/draft_route.j2", d=d, expires=stamp(draft.expires_at))))
    steps = [render("gate/draft_step.j2", s=s) for s in d["history"]]
    if steps:
        budget.add(blocks.section("*History*"))
        blocks.lines_to_sections(steps, budget, more="and {n} more steps: `otp draft show " + str(draft.id) + "`")
    return Reply(text=render("gate/draft.j2", d=d), blocks=budget.blocks)
