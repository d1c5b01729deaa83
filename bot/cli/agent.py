"""`otp agent …`: the agent HTTP API from a shell, for agents that run commands.

It talks to `otp serve` at OTP_URL with the token in OTP_TOKEN (environment or .env),
never to the database: what a token may do is decided by the server. Output is for
people by default; `--json` prints the API's answer as it is, for scripts. Exit codes:
0 done, 2 the API refused the request (its title and detail on stderr), 1 the API could
not be reached, or (`wait`) the draft was still undecided when the time ran out.

Each command is a few lines around `_call`; add one the same way.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any, NoReturn

import typer

from otp_bot.bot.cli.common import (
    BodyFile,
    Destination,
    Key,
    Kind,
    NotCustomerFacing,
    Revises,
    Subject,
    Title,
    read_text,
)

agent_app = typer.Typer(no_args_is_help=True, help="Act as an agent through the HTTP API (OTP_URL, OTP_TOKEN).")
agent_flag_app = typer.Typer(no_args_is_help=True, help="Set, lift and list flags.")
agent_app.add_typer(agent_flag_app, name="flag")

Json = Annotated[bool, typer.Option("--json", help="Print the answer as JSON, for scripts.")]
WAITING = ("held", "pending")


def say(text: str) -> None:
    sys.stderr.write(text + "\n")


def show(text: str) -> None:
    sys.stdout.write(text + "\n")


def _fail(message: str, code: int) -> NoReturn:
    say(f"error: {message}")
    raise typer.Exit(code)


def _call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    """One API request; a refusal or no answer ends the command with the right exit code."""
    from otp_bot.bot.agents.api_client import ApiClient, ApiProblem, Unreachable

    try:
        client = ApiClient.from_settings()
        try:
            return client.call(method, path, **kwargs)
        finally:
            client.close()
    except ApiProblem as exc:
        _fail(exc.message, 2 if exc.client_error else 1)
    except Unreachable as exc:
        _fail(str(exc), 1)


def _print_json(data: Any) -> None:
    show(json.dumps(data, indent=2, ensure_ascii=False))


@agent_app.command()
def push(
    metric: Annotated[str, typer.Argument(help="Metric id (`otp agent mine` lists yours).")],
    value: Annotated[
        str,
        typer.Argument(
            help="The value, read exactly or refused: 42, 3,5, 1,250.50, 12 500, $400k, €1.2M, "
            "85%, 1.5 h, 2 d, yes; a negative one after --: `-- -3`."
        ),
    ],
    period: Annotated[
        str | None,
        typer.Option(help="2026-W47, 2026-11, 2026-Q4, 2026, a date, or `last` (default: the current period)."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note shown beside the value.")] = None,
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: the same metric, period and key record once.")
    ] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="Replace the period's earlier values (kept in history).")
    ] = False,
    as_json: Json = False,
) -> None:
    """Record a value for a metric of a seat the token may push to."""
    item = {"metric": metric, "value": value, "period": period, "note": note, "key": key, "correction": correct}
    _, answer = _call("POST", "/metrics/values", json={"values": [{k: v for k, v in item.items() if v is not None}]})
    result = answer["results"][0]
    if as_json:
        _print_json(result)
    if result["outcome"] == "error":
        _fail(
            f"{result['error']['detail']}" + (f"\n{result['error']['hint']}" if result["error"].get("hint") else ""), 2
        )
    if not as_json:
        status = "on track" if result["on_track"] else "off track"
        verb = "recorded" if result["outcome"] == "recorded" else "already recorded (same key), not recorded again:"
        show(f"{result['metric']} {result['period_label']}: {verb} {result['value']:g}, {status}")


@agent_app.command()
def mine(as_json: Json = False) -> None:
    """The metrics this token pushes to, with goal, latest value and status."""
    metrics, cursor = [], None
    while True:
        _, page = _call("GET", "/metrics/mine", params={"limit": 500, "cursor": cursor})
        metrics += page["metrics"]
        if not (cursor := page["next_cursor"]):
            break
    if as_json:
        _print_json(metrics)
        return
    for m in metrics:
        latest = m["latest"]
        now = (
            f"{latest['shown']} in {latest['label']}, {'on' if latest['on_track'] else 'off'} track"
            if latest
            else "no value yet"
        )
        computed = " (computed: push its inputs)" if m["formula"] else ""
        show(f"{m['id']:<28} {m['seat']:<16} goal {m['goal']:<12} {m['cadence']:<8} {now}; {m['status']}{computed}")
    if not metrics:
        say("this token pushes to no metric")


@agent_app.command()
def draft(
    seat: Annotated[str, typer.Option(help="The drafting seat (one the token's holder holds).")],
    kind: Kind,
    subject: Subject,
    title: Title,
    body_file: BodyFile,
    key: Key = None,
    destination: Destination = None,
    not_customer_facing: NotCustomerFacing = False,
    revises: Revises = None,
    as_json: Json = False,
) -> None:
    """Submit a draft for a human decision, or with --revises the revision of one whose changes
    were requested; prints its number (the last line, alone)."""
    body = read_text(body_file, "the body")
    fields = {
        "seat": seat,
        "kind": kind,
        "subject": subject,
        "title": title,
        "body": body,
        "key": key,
        "destination": destination,
        "customer_facing": not not_customer_facing,
        "revises": revises,
    }
    status, answer = _call("POST", "/drafts", json={k: v for k, v in fields.items() if v is not None})
    if as_json:
        _print_json(answer)
        return
    verb = "submitted" if status == 201 else "already submitted with this key"
    said = answer["outcome"]
    say(
        f"draft #{answer['id']} {verb}, "
        + (said if said.startswith(answer["status"]) else f"{answer['status']}: {said}")
    )
    show(str(answer["id"]))


@agent_app.command()
def wait(
    draft_id: Annotated[int, typer.Argument(metavar="DRAFT_ID", help="The draft's number.")],
    timeout: Annotated[
        float, typer.Option(min=0, help="Seconds to wait in all (the server waits at most 60 a request).")
    ] = 300,
    as_json: Json = False,
) -> None:
    """Wait for a human decision on a draft, then print the outcome (and the final text).

    Exit 0 once it is decided, expired or withdrawn, or an approver asked for changes (what
    to change is printed: answer with `otp agent draft --revises`); 1 if it is still waiting
    when the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        left = max(0.0, deadline - time.monotonic())
        step = min(60.0, left)
        _, answer = _call("GET", f"/drafts/{draft_id}/wait", params={"timeout": round(step, 1)}, timeout=step + 30)
        d = answer["draft"]
        if d["status"] not in WAITING or left <= step:
            break
    if as_json:
        _print_json(d)
    else:
        show(f"draft #{d['id']} {d['outcome']}")
        if d["final_text"]:
            show(d["final_text"])
        if d["status"] == "changes-requested":
            for asked in d["change_requests"]:
                show(f"round {asked['round']}, {asked['name']} asked: {asked['text']}")
            say(f"revise it: otp agent draft ... --revises {d['id']}")
    if d["status"] in WAITING:
        say(f"still {d['status']} after {timeout:g}s")
        raise typer.Exit(1)


def _flag_line(f: dict[str, Any]) -> str:
    until = f" until {f['until'][:16].replace('T', ' ')} UTC" if f["until"] else ""
    why = f": {f['reason']}" if f["reason"] else ""
    return f"{f['subject']} {f['flag']} by {f['seat']}{until}{why}"


@agent_flag_app.command("set")
def flag_set(
    subject: Annotated[str, typer.Argument(help="What the flag is on, one word: client:acme.")],
    flag: Annotated[str, typer.Argument(help="The flag: at-risk, churning, ...")],
    seat: Annotated[
        str | None, typer.Option(help="The flagging seat (needed when the token's holder holds several).")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Why, in a sentence: shown wherever the flag holds a draft.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="When it ends by itself: 3d, 12h, or a date like 2026-12-01.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Flag a subject for a seat; policies hold drafts while it stands."""
    fields = {"subject": subject, "flag": flag, "seat": seat, "reason": reason, "until": until}
    status, answer = _call("POST", "/flags", json={k: v for k, v in fields.items() if v is not None})
    if as_json:
        _print_json(answer)
        return
    show(("flagged " if status == 201 else "already flagged, updated: ") + _flag_line(answer["flag"]))
    for policy in answer["flag"]["holds"]:
        say(f"note: while it stands, policy {policy} holds drafts about {answer['flag']['subject']}")


@agent_flag_app.command("lift")
def flag_lift(
    subject: Annotated[str, typer.Argument(help="What the flag is on.")],
    flag: Annotated[str, typer.Argument(help="The flag.")],
    seat: Annotated[str | None, typer.Option(help="Only this seat's flag.")] = None,
    as_json: Json = False,
) -> None:
    """Lift a flag; drafts it held go to approval (listed)."""
    _, answer = _call("DELETE", "/flags", params={"subject": subject, "flag": flag, "seat": seat})
    if as_json:
        _print_json(answer)
        return
    show(f"lifted {answer['flag']['subject']} {answer['flag']['flag']}")
    for d in answer["released"]:
        show(f"released draft #{d['id']} ({d['kind']}: {d['title']}) to approval")


@agent_flag_app.command("list")
def flag_list(
    subject: Annotated[str | None, typer.Argument(help="Only flags on this subject.")] = None,
    as_json: Json = False,
) -> None:
    """Flags in force."""
    flags, cursor = [], None
    while True:
        _, page = _call("GET", "/flags", params={"subject": subject, "limit": 500, "cursor": cursor})
        flags += page["flags"]
        if not (cursor := page["next_cursor"]):
            break
    if as_json:
        _print_json(flags)
        return
    for f in flags:
        show(_flag_line(f))
    if not flags:
        say("no flags" + (f" on {subject}" if subject else ""))


# ------------------------------------------------------------------ the message bus


def _message_line(m: dict[str, Any]) -> str:
    sender = m["from"]["id"] + (f" ({m['from']['holder']})" if m["from"]["holder"] else "")
    due = (
        f", due {m['deadline'][:16].replace('T', ' ')} UTC" + (" OVERDUE" if m["overdue"] else "")
        if m["deadline"]
        else ""
    )
    reply = f", re #{m['in_reply_to']}" if m["in_reply_to"] else ""
    return f"#{m['id']} {m['performative']} from {sender}{reply}{due} [{m['status']}]: {m['subject']}"


@agent_app.command()
def send(
    to_seat: Annotated[
        str | None,
        typer.Argument(
            metavar="TO_SEAT", help="The seat it is for (leave out with --reply-to: a reply goes to the other seat)."
        ),
    ] = None,
    body: Annotated[str | None, typer.Option(help="The message text.")] = None,
    body_file: Annotated[
        str | None, typer.Option("--body-file", help="Read the text from a file; - reads stdin.")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="One line (a reply without one takes `Re:` and the original's).")
    ] = None,
    performative: Annotated[
        str, typer.Option("--performative", "-p", help="REQUEST, INFORM, PROPOSAL or RESPONSE.")
    ] = "INFORM",
    reply_to: Annotated[
        int | None,
        typer.Option("--reply-to", help="The number of the message this replies to (needed for a RESPONSE)."),
    ] = None,
    deadline: Annotated[str | None, typer.Option(help="REQUEST only: 4h, 2d, a date or an ISO time.")] = None,
    from_seat: Annotated[
        str | None, typer.Option("--from", help="The sending seat (needed when the token's holder holds several).")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: sending again with it returns the same message.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Send a message from a seat to another seat; prints its number (the last line, alone)."""
    if (body is None) == (body_file is None):
        _fail("give the text with --body or --body-file (one of them)", 2)
    if body_file is not None:
        body = read_text(body_file, "the body")
    fields = {
        "performative": performative.strip().upper(),
        "to_seat": to_seat,
        "from_seat": from_seat,
        "subject": subject,
        "body": body,
        "in_reply_to": reply_to,
        "deadline": deadline,
        "key": key,
    }
    status, answer = _call("POST", "/messages", json={k: v for k, v in fields.items() if v is not None})
    if as_json:
        _print_json(answer)
        return
    m = answer["message"]
    verb = "sent" if status == 201 else "already sent with this key"
    answered = f"; #{answer['answered']} is answered" if answer["answered"] else ""
    say(f"message #{m['id']} {verb} to {m['to']['id']} ({m['performative']}){answered}")
    show(str(m["id"]))


@agent_app.command()
def inbox(
    seat: Annotated[
        str | None, typer.Argument(help="Whose inbox (default: the one seat the token's holder holds).")
    ] = None,
    status: Annotated[
        str, typer.Option(help="open (unread, or a request not answered yet), unread, read, answered or all.")
    ] = "open",
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many, newest first.")] = 20,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Mark the unread messages shown as read.")] = False,
    as_json: Json = False,
) -> None:
    """Messages sent to a seat, newest first, with their bodies."""
    _, page = _call("GET", "/inbox", params={"seat": seat, "status": status, "limit": limit})
    if mark_read:
        for m in page["messages"]:
            if m["status"] == "unread":
                _call("POST", f"/messages/{m['id']}/read")
    if as_json:
        _print_json(page)
        return
    say(
        f"inbox of {page['seat']['id']}: {page['unread']} unread"
        + (", more with --limit" if page["next_cursor"] else "")
    )
    for m in page["messages"]:
        show(_message_line(m))
        for line in m["body"].splitlines()[:20]:
            show(f"    {line}")
    if not page["messages"]:
        say(f"no {status} messages" if status != "all" else "no messages")
