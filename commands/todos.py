"""/otp todo <seat> <what> [--due friday], /otp todo done N [note], /otp todo drop N <reason>,
/otp todos [seat|all]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views.render import render
from otp_bot.commands.views.review_items import done_reply, holders_of, list_reply, todo_view
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_seat
from otp_bot.store.domain.review import todos
from otp_bot.store.domain.review.todos import org_today


def _number(word: str, verb: str) -> int:
    if not word.lstrip("#").isdigit():
        raise Usage(f"name the to-do by its number, e.g. `todo {verb} 4`")
    return int(word.lstrip("#"))


@command(
    "todo",
    "todo <seat> <what> [--due friday] | todo done N [note] | todo drop N <reason>",
    "add a to-do for a seat (due in 7 days unless said), or mark one done or dropped",
    writes=True,
)
def todo_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage("name the seat and what is to be done, e.g. `todo retention Call Acme --due friday`")
    verb = tokens[0].lower()
    if verb in ("done", "drop") and len(tokens) >= 2 and tokens[1].lstrip("#").isdigit():
        todo_id = _number(tokens[1], verb)
        text = " ".join(tokens[2:])
        if verb == "done":
            todo = todos.complete(session, actor, todo_id, note=text or None)
            return done_reply("review/todo_done.j2", verb="done", t=todo_view(todo, None, org_today(session)))
        todo = todos.drop_todo(session, actor, todo_id, text)
        return done_reply("review/todo_done.j2", verb="dropped", t=todo_view(todo, None, org_today(session)))
    args = parse_args(tokens, options={"due"})
    if len(args.words) < 2:
        raise Usage("name the seat, then what is to be done, e.g. `todo retention Call Acme --due friday`")
    due = args.options.get("due")
    todo = todos.add_todo(session, actor, args.words[0], " ".join(args.words[1:]), due=str(due) if due else None)
    return done_reply("review/todo_done.j2", verb="added", t=todo_view(todo, None, org_today(session)))


@command("todos", "todos [seat|all]", "open to-dos, soonest due first: yours, one seat's, or everyone's")
def todos_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) > 1:
        raise Usage("name one seat, or `all`")
    word = tokens[0].lower() if tokens else ""
    held = actor.held_seat_ids(session)
    if word == "all" or (not word and not held):
        rows, scope = todos.list_todos(session), ""
    elif word:
        seat = get_seat(session, word)
        rows, scope = todos.list_todos(session, seat_id=seat.id), f"`{seat.id}`"
    else:
        rows, scope = [t for t in todos.list_todos(session) if t.seat_id in held], "your seats"
    today = org_today(session)
    names = holders_of(session, {t.seat_id for t in rows})
    lines = [render("review/todo_line.j2", t=todo_view(t, names.get(t.seat_id), today)) for t in rows]
    head = render("review/todos.j2", scope=scope, count=len(rows))
    return list_reply(head, lines, "and {n} more: `/otp todos <seat>` narrows the list")
