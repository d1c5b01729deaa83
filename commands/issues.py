"""/otp issue <title> [--seat S] [--draft N], /otp issue N, /otp issue solve|drop|discuss|move N …,
/otp issues [seat|all]"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from otp_bot.commands.dispatch import command
from otp_bot.commands.parser import Usage, parse_args
from otp_bot.commands.reply import Reply
from otp_bot.commands.views.render import render
from otp_bot.commands.views.review_items import done_reply, holders_of, issue_view, list_reply, scope_of, todo_view
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.review import issues
from otp_bot.store.domain.review.issues import TodoSpec
from otp_bot.store.domain.review.todos import org_today

VERBS = ("solve", "drop", "discuss", "move")
TODO = re.compile(r"^\s*([\w.-]+)\s*:\s*(.+?)\s*$")
PLACES = {"top": 1, "first": 1}


@command(
    "issue",
    'issue <title> [--seat S] [--draft N] | issue N | issue solve N <decision> [--todo "seat: what by friday"]… '
    "| issue drop N <reason> | issue discuss N | issue move N <place>",
    "raise an issue for the weekly review, show one, or solve, drop, discuss or reorder it",
    writes=True,
)
def issue_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage("say what the issue is, e.g. `issue Churn is up in the SMB segment --seat <seat>`")
    verb = tokens[0].lower()
    if verb.lstrip("#").isdigit() and len(tokens) == 1:
        return _show(session, int(verb.lstrip("#")))
    if verb in VERBS:
        return _act(session, actor, verb, tokens[1:])
    args = parse_args(tokens, options={"seat", "draft"})
    draft = args.options.get("draft")
    if draft is not None and not str(draft).lstrip("#").isdigit():
        raise Usage("--draft takes a draft number, e.g. `--draft 12`")
    issue = issues.raise_issue(
        session,
        actor,
        " ".join(args.words),
        seat_id=str(args.options["seat"]) if args.options.get("seat") else None,
        source="draft" if draft else "manual",
        draft_id=int(str(draft).lstrip("#")) if draft else None,
    )
    return done_reply("review/issue_done.j2", verb="raised", i=issue_view(issue, None, session), todos=[])


def _number(word: str, usage: str) -> int:
    word = word.lstrip("#")
    if not word.isdigit():
        raise Usage(f"name the issue by its number, e.g. `{usage}`")
    return int(word)


def _act(session: Session, actor: Actor, verb: str, tokens: list[str]) -> Reply:
    if not tokens:
        raise Usage(f"name the issue by its number, e.g. `issue {verb} 3`")
    issue_id = _number(tokens[0], f"issue {verb} 3")
    rest = tokens[1:]
    if verb == "solve":
        words, todo_texts = _split_todos(rest)
        specs = [_todo_spec(t) for t in todo_texts]
        issue = issues.solve(session, actor, issue_id, " ".join(words), todos=specs)
        today = org_today(session)
        made = [todo_view(t, None, today) for t in issue.todos]
        return done_reply("review/issue_done.j2", verb="solved", i=issue_view(issue, None, session), todos=made)
    if verb == "drop":
        issue = issues.drop(session, actor, issue_id, " ".join(rest))
    elif verb == "discuss":
        issue = issues.discuss(session, actor, issue_id)
    else:
        place = " ".join(rest).lower().removeprefix("to ").removeprefix("the ")
        if place in ("last", "bottom"):
            place = str(len(issues.list_issues(session)))
        place = str(PLACES.get(place, place))
        if not place.isdigit():
            raise Usage("say the place it moves to, e.g. `issue move 7 1` (or `top`, `last`) puts #7 first")
        issue = issues.move(session, actor, issue_id, int(place))
    verbs = {"drop": "dropped", "discuss": "discussed", "move": "moved"}
    return done_reply("review/issue_done.j2", verb=verbs[verb], i=issue_view(issue, None, session), todos=[])


def _split_todos(tokens: list[str]) -> tuple[list[str], list[str]]:
    words: list[str] = []
    todos: list[str] = []
    i = 0
    while i < len(tokens):
        name, eq, value = tokens[i].partition("=")
        if name.lower() == "--todo":
            if not eq:
                if i + 1 >= len(tokens):
                    raise Usage('--todo needs a to-do, e.g. --todo "<seat>: call the client by friday"')
                i += 1
                value = tokens[i]
            todos.append(value)
        elif tokens[i].startswith("--") and len(tokens[i]) > 2:
            raise Usage(f"unknown option {tokens[i][:30]} (options here: --todo)")
        else:
            words.append(tokens[i])
        i += 1
    return words, todos


def _todo_spec(text: str) -> TodoSpec:
    found = TODO.match(text)
    if found is None:
        raise Usage(f'a to-do reads "seat: what [by day]", e.g. "<seat>: call the client by friday"; not `{text[:60]}`')
    return TodoSpec(found.group(1).lower(), found.group(2))  # a trailing `by friday` is its due day


def _show(session: Session, issue_id: int) -> Reply:
    issue = issues.get_issue(session, issue_id)
    holder = holders_of(session, {issue.seat_id}).get(issue.seat_id)
    today = org_today(session)
    view = issue_view(issue, holder, session)
    return done_reply("review/issue.j2", i=view, todos=[todo_view(t, None, today) for t in issue.todos])


@command(
    "issues",
    "issues [seat|all]",
    "the issues list for the weekly review, in priority order: yours, one seat's, or everyone's",
)
def issues_command(session: Session, actor: Actor, tokens: list[str]) -> Reply:
    if len(tokens) > 1:
        raise Usage("name one seat, or `all`")
    scope = scope_of(session, actor, tokens[0] if tokens else "")
    rows = [i for i in issues.list_issues(session) if scope.keeps(i.seat_id)]
    names = holders_of(session, {i.seat_id for i in rows})
    lines = [render("review/issue_line.j2", i=issue_view(i, names.get(i.seat_id), session)) for i in rows]
    head = render("review/issues.j2", scope=scope.label, count=len(rows), open_count=len(rows))
    return list_reply(head, lines, "and {n} more: `/otp issues <seat>` narrows the list")
