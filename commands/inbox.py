"""/otp inbox <seat> [--all]: the messages other seats sent to a seat."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views import blocks
from otp_bot.commands.views.messages import line, seat_ref
from otp_bot.commands.views.render import render
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.agents.inboxes import inbox, mark_shown_read
from otp_bot.store.domain.clock import utcnow

SHOWN = 30


# It writes: what the seat's holder is shown is marked read, as opening mail does. That
# also keeps a Share button off the reply, so an inbox is never posted in a channel.
@command(
    "inbox",
    "inbox <seat> [--all]",
    "messages to a seat: open ones (unread, or asking for an answer), or --all",
    aliases=("messages",),
    writes=True,
)
def inbox_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    args = parse_args(tokens, options=set(), flags={"all"})
    if len(args.words) != 1:
        raise Usage("name one seat, e.g. `inbox retention`")
    everything = bool(args.options.get("all"))
    page = inbox(session, actor, args.words[0], status="all" if everything else "open", limit=SHOWN)
    now = utcnow()
    lines = [render("agents/message_line.j2", m=line(m, now)) for m in page.messages]
    marked = mark_shown_read(session, actor, page.messages, now)
    text = render(
        "agents/inbox.j2",
        seat=seat_ref(page.seat),
        everything=everything,
        unread=page.unread,
        lines=lines,
        marked=marked,
    )
    budget = blocks.BlockBudget()
    budget.add(blocks.section(text.splitlines()[0]))
    if not lines:
        budget.add(blocks.section("\n".join(text.splitlines()[1:])))
        return Reply(text=text, blocks=budget.blocks)
    more = "and {n} more" + (
        f"; older ones with the agent API or MCP (read_inbox, cursor {page.next_cursor})" if page.next_cursor else ""
    )
    left = blocks.lines_to_sections(lines, budget, more=more)
    if marked and not left:
        budget.add(blocks.context(f"{marked} marked read."))
    if page.next_cursor and not left:
        budget.close(f"Older messages: the agent API or MCP (read_inbox, cursor {page.next_cursor}).")
    return Reply(text=text, blocks=budget.blocks)
