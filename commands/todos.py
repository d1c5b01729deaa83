"""/otp todo <seat> <what> [--due friday], /otp todo N, /otp todo done N [note], /otp todo drop N <reason>,
/otp todos [seat|all]"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage
from otp_bot.commands.reply import Reply
from otp_bot.commands.views.render import render
from otp_bot.commands.views.review_items import done_reply, holders_of, list_reply, scope_of, todo_view
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.review import todos
from otp_bot.store.domain.review.todos import org_today

EXAMPLE = "todo <seat> Call the client back --due friday"


def _number(word: str) -> int | None:
    word = word.lstrip("#")
    return int(word) if word.isdigit() else None


@command(
    "todo",
    "todo <seat> <what> [--due friday] | todo N | todo done N [note] | todo drop N <reason>",
    "add a to-do for a seat (due in 7 days unless said), show one, or mark it done or dropped",
    writes=True,
)
def todo_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage(f"name the seat and what is to be done, e.g. `{EXAMPLE}`")
    verb = tokens[0].lower()
    if len(tokens) == 1 and (todo_id := _number(verb)) is not None:
        todo = todos.get_todo(session, todo_id)
        name = holders_of(session, {todo.seat_id}).get(todo.seat_id)
        return done_reply("review/todo.j2", t=todo_view(todo, name, org_today(session)))
    if verb in ("done", "drop") and len(tokens) >= 2 and (todo_id := _number(tokens[1])) is not None:
        text = " ".join(tokens[2:])
        if verb == "done":
            todo = todos.complete(session, actor, todo_id, note=text or None)
        else:
            todo = todos.drop_todo(session, actor, todo_id, text)
        return done_reply("review/todo_done.j2", verb=verb, t=todo_view(todo, None, org_today(session)))
    words, due = _split_due_option(tokens)
    if len(words) < 2:
        raise Usage(f"name the seat, then what is to be done, e.g. `{EXAMPLE}`")
    seat = words[0].rstrip(":")  # `todo intake: call back`, as a solution's to-dos are written
    todo = todos.add_todo(session, actor, seat, " ".join(words[1:]), due=due)
    return done_reply("review/todo_done.j2", verb="added", t=todo_view(todo, None, org_today(session)))


def _split_due_option(tokens: list[str]) -> tuple[list[str], str | None]:
    """`--due in 3 days` typed without quotes: the option takes every word up to the next option."""
    words: list[str] = []
    due: list[str] | None = None
    for token in tokens:
        name, eq, value = token.partition("=")
        if name.lower() == "--due":
            if due:
                raise Usage("give one due day")
            due = [value] if eq else []
        elif token.startswith("--") and len(token) > 2:
            raise Usage(f"unknown option {token[:30]} (options here: --due)")
        elif due is not None:
            due.append(token)
        else:
            words.append(token)
    if due is not None and not " ".join(due).strip():
        raise Usage("--due needs a day, e.g. `--due friday` or `--due 2026-12-20`")
    return words, " ".join(due) if due else None


@command("todos", "todos [seat|all]", "open to-dos, soonest due first: yours, one seat's, or everyone's")
def todos_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) > 1:
        raise Usage("name one seat, or `all`")
    scope = scope_of(session, actor, tokens[0] if tokens else "")
    rows = [t for t in todos.list_todos(session) if scope.keeps(t.seat_id)]
    today = org_today(session)
    names = holders_of(session, {t.seat_id for t in rows})
    lines = [render("review/todo_line.j2", t=todo_view(t, names.get(t.seat_id), today)) for t in rows]
    head = render("review/todos.j2", scope=scope.label, count=len(rows))
    return list_reply(head, lines, "and {n} more: `/otp todos <seat>` narrows the list")
