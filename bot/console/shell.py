"""The console: type /otp commands, see what the bot posts, click buttons by number.

Every request goes through the real Bolt app, signed the way Slack signs it; every Web
API call the bot makes lands on the built-in stand-in and is shown here.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from otp_bot.bot.console import payloads
from otp_bot.bot.console.modal import FieldError, Form
from otp_bot.bot.console.render import Button, render_blocks
from otp_bot.bot.console.standin import SlackStandIn
from otp_bot.bot.console.terminal import plain
from otp_bot.bot.slack.app import Deps, create_app
from otp_bot.bot.slack.settings import SlackSettings
from otp_bot.store.db import Database
from otp_bot.store.domain import outbox
from otp_bot.store.models import Holder

HELP = """[bold]Type[/bold] a command as in Slack: [cyan]/otp who-owns retention[/cyan] (the /otp is optional)
  [cyan]1[/cyan] or [cyan]click 1[/cyan]   click button 1        [cyan]home[/cyan]   open your App Home
  [cyan]as bogdan[/cyan]        act as another holder  [cyan]whoami[/cyan] who you are now
  [cyan]draft[/cyan]            Pulse submits a retention email for approval, as an agent would
  [cyan]review[/cyan]           the weekly review: its scorecard post goes out now, as its schedule posts it,
                   and the review opens in the post's thread (Start, Next section, End are buttons)
  [cyan]headlines[/cyan]        the review's headline prompts go out now, by DM to each attendee
  [cyan]post <schedule>[/cyan]  post a schedule now, as `otp schedule run` does ([cyan]--force[/cyan]: once more)
  [cyan]set <field> <text>[/cyan] fill in a field of the open modal  [cyan]fields[/cyan]  what it holds now
  [cyan]submit \\[text][/cyan]    submit the open modal (the text goes in its only, or first empty, field)
  [cyan]... <<[/cyan]           several lines: end `set` or `submit` with << and finish with a line holding a .
  [cyan]buttons[/cyan]          the buttons of every message so far, numbered to click again
  [cyan]help[/cyan]             this text             [cyan]quit[/cyan]   leave"""
QUIET_SECONDS = 0.4
OPENS_A_MODAL = "Edit & approve, Reject, /otp retire, a review's Solve or Drop, or Give my headline"


class Shell:
    # The real app and what it runs on, made by `loop` once the stand-in for Slack is up.
    app: App
    deps: Deps

    def __init__(self, db: Database, out: Console) -> None:
        self.db = db
        self.out = out
        self.buttons: list[Button] = []
        # Every message's buttons as last shown (an updated message replaces its own), for `buttons`.
        self.shown: dict[tuple[str, str], tuple[str, list[Button]]] = {}
        self.modal: Form | None = None
        self.read = input
        self.last_call = time.monotonic()
        self.printing = threading.Lock()
        self.secret = secrets.token_hex(16)
        with db.session() as session:
            humans = session.scalars(
                select(Holder).where(Holder.slack_user.is_not(None)).order_by(Holder.position)
            ).all()
            # Only people with a Slack id, as the query asks; the filter tells the type checker.
            self.people = {h.id: (h.slack_user, h.name) for h in humans if h.slack_user is not None}
            self.names = dict(self.people.values())  # Slack user id -> name, for mentions and DMs
            users: dict[str, dict[str, Any]] = {
                h.slack_user: {
                    "id": h.slack_user,
                    "name": h.id,
                    "profile": {"email": h.email or "", "real_name": h.name},
                }
                for h in humans
                if h.slack_user is not None
            }
        self.user_id, self.user_name = next(iter(self.people.values()), ("U0CONSOLE", "you"))
        self.standin = SlackStandIn(self.on_call, users)

    # -------------------------------------------------------------- what the bot sends

    def on_call(self, method: str, args: dict[str, Any], answer: dict[str, Any]) -> None:
        self.last_call = time.monotonic()
        if method == "files.completeUploadExternal":
            self._save_files(args)
            return
        if method in ("views.open", "views.update") and any(
            b.get("type") == "input" for b in args.get("view", {}).get("blocks", [])
        ):
            self.modal = Form(args["view"])
        where = {
            "chat.postMessage": self._place(method, answer),
            "chat.postEphemeral": "only visible to you",
            "chat.update": self._place(method, answer),
            "views.publish": "your App Home",
            "views.open": "a modal opened",
            "views.update": "the modal now shows",
            "response_url": "in the channel" if args.get("response_type") == "in_channel" else "only visible to you",
        }.get(method)
        if where is None or args.get("delete_original"):
            return
        # A post's ts is in Slack's answer: the buttons on it are clicked "on that message".
        container = {
            "channel": answer.get("channel") or args.get("channel", payloads.CHANNEL),
            "ts": answer.get("ts") or args.get("ts", ""),
            "view": args.get("view_id"),
        }
        self.show(where, args.get("view", args).get("blocks") or [], args.get("text", ""), container)

    def _place(self, method: str, answer: dict[str, Any]) -> str:
        """Where a post or an update landed: a channel, or the DM with someone; "in thread" for a reply."""
        channel = str(answer.get("channel") or "")
        message = answer.get("message") or {}
        updated = method == "chat.update"
        person = self.names.get("U" + channel[1:]) if channel.startswith("D") else None
        if person is not None:
            you = " (you)" if "U" + channel[1:] == self.user_id else ""
            where = f"{'updated a DM' if updated else 'a DM'} to {person}{you}"
        else:
            where = f"{'updated a message in' if updated else 'posted in'} {channel}"
        thread = message.get("thread_ts")
        return where + (", in thread" if thread and thread != message.get("ts") else "")

    def _save_files(self, args: dict[str, Any]) -> None:
        """A file the bot uploads (the chart picture) is written to the current folder."""
        files = args.get("files") or []
        for item in json.loads(files) if isinstance(files, str) else files:
            name, content = self.standin.files.get(str(item.get("id")), ("file", b""))
            path = Path(Path(name).name)
            path.write_bytes(content)
            where = f"a file uploaded to {args.get('channel_id') or args.get('channels') or 'Slack'}"
            self.show(where, [], escape(f"{item.get('title') or name}: written to {path} ({len(content):,} bytes)"), {})

    def show(self, where: str, blocks: list[dict[str, Any]], text: str, container: dict[str, Any]) -> None:
        with self.printing:
            self.out.print(f"\n[dim]── {escape(where)} ──[/dim]")
            before = len(self.buttons)
            lines = render_blocks(blocks, container, self.buttons, self.names) if blocks else [text]
            for line in lines:
                self.out.print(line)
            key = (str(container.get("channel")), str(container.get("ts") or f"reply {len(self.shown)}"))
            if len(self.buttons) == before:
                self.shown.pop(key, None)  # a message updated without its buttons: none left to click again
            else:
                title = next(
                    (b["text"]["text"] for b in blocks if b.get("type") in ("header", "section") and "text" in b), ""
                )
                first = plain(title, self.names).replace("*", "").splitlines()[0] if title.strip() else ""
                self.shown[key] = (f"{where}: {first[:70]}", self.buttons[before:])

    # -------------------------------------------------------------- what the person does

    def _request(self, body: str, content_type: str) -> BoltRequest:
        timestamp = str(int(time.time()))
        # slack_sdk answers None only when it is given no timestamp; it always gets one here.
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=timestamp, body=body) or ""
        return BoltRequest(
            body=body,
            headers={
                "content-type": content_type,
                "x-slack-request-timestamp": timestamp,
                "x-slack-signature": signature,
            },
        )

    def dispatch(self, body: str, content_type: str) -> None:
        response = self.app.dispatch(self._request(body, content_type))
        if response.status != 200:
            self.out.print(f"[red]Slack would show an error ({response.status})[/red]")
        elif response.body:
            payload = json.loads(response.body)
            where = "in the channel" if payload.get("response_type") == "in_channel" else "only visible to you"
            self.show(
                where, payload.get("blocks") or [], payload.get("text", ""), {"channel": payloads.CHANNEL, "ts": ""}
            )
        self.settle()

    def settle(self) -> None:
        """Wait until the bot has done what it queued and gone quiet, so its posts print
        before the next prompt. Queued work is read from the outbox, not guessed from a
        pause: on a busy machine the worker may take longer than any quiet spell to start."""
        started = time.monotonic()
        time.sleep(0.05)
        while time.monotonic() - started < 10:
            if time.monotonic() - self.last_call >= QUIET_SECONDS and self.deps.idle() and not self._work_due():
                return
            time.sleep(0.05)

    def _work_due(self) -> bool:
        with self.db.session(readonly=True) as session:
            return outbox.due_count(session) > 0

    def slash(self, text: str) -> None:
        self.buttons.clear()
        self.dispatch(
            payloads.slash_command(self.user_id, self.user_name, text, self.standin.response_url()), payloads.FORM
        )

    def click(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons):
            shown = f"the buttons shown are 1 to {len(self.buttons)}" if self.buttons else "no buttons are shown now"
            self.out.print(f"[yellow]There is no button {number}; {shown}.[/yellow]")
            return
        button = self.buttons[number - 1]
        body = payloads.button_click(self.user_id, self.user_name, button, self.standin.response_url())
        self.buttons.clear()
        self.dispatch(body, payloads.FORM)

    def submit(self, text: str) -> None:
        """Submit the open modal, as a person pressing its button; `text` first fills its only (or
        first empty) field."""
        if self.modal is None:
            self.out.print(f"[yellow]No modal with a field is open; {OPENS_A_MODAL} opens one.[/yellow]")
            return
        form = self.modal
        try:
            if text:
                form.fill_next(text)
        except FieldError as exc:
            self.out.print(f"[yellow]{escape(str(exc))}[/yellow]")
            return
        self.modal = None
        body = payloads.view_submission(self.user_id, self.user_name, form.view, form.state())
        response = self.app.dispatch(self._request(body, payloads.FORM))
        answer = json.loads(response.body) if response.body else {}
        if answer.get("response_action") == "errors":
            for name, message in answer.get("errors", {}).items():
                self.out.print(f"[yellow]{escape(name)}: {escape(message)}[/yellow]")
            self.modal = form  # Slack keeps the modal open, with the error under the field, and what was typed
        elif answer.get("response_action") == "update":
            self.show("the modal now shows", answer["view"].get("blocks") or [], "", {"view": "V0CONSOLE"})
        else:
            self.out.print("[dim]── the modal closed ──[/dim]")
        self.settle()

    def set_field(self, rest: str) -> None:
        name, _, text = rest.strip().partition(" ")
        if self.modal is None:
            self.out.print(f"[yellow]No modal with a field is open; {OPENS_A_MODAL} opens one.[/yellow]")
            return
        try:
            filled = self.modal.set(name, self.lines(text))
        except FieldError as exc:
            self.out.print(f"[yellow]{escape(str(exc))}[/yellow]")
            return
        self.out.print(f"[dim]{escape(filled)} set[/dim]")

    def fields(self) -> None:
        if self.modal is None:
            self.out.print("[yellow]No modal with a field is open.[/yellow]")
            return
        for line in self.modal.describe():
            self.out.print(line)

    def lines(self, text: str) -> str:
        """`text`, or when it is `<<`, the lines typed next up to one holding only a dot."""
        if text.strip() != "<<":
            return text
        typed: list[str] = []
        while True:
            try:
                line = self.read("... ")
            except EOFError:
                break
            if line.strip() == ".":
                break
            typed.append(line)
        return "\n".join(typed)

    def earlier_buttons(self) -> None:
        """Every message's buttons so far, numbered anew so a number clicks one again."""
        self.buttons.clear()
        for where, buttons in self.shown.values():
            start = len(self.buttons) + 1
            self.buttons.extend(buttons)
            labels = "   ".join(f"[reverse] {start + i} [/reverse] {escape(b.label)}" for i, b in enumerate(buttons))
            self.out.print(f"[dim]{escape(where)}[/dim]\n  {labels}")
        if not self.buttons:
            self.out.print("[yellow]No message with buttons yet.[/yellow]")

    def draft(self) -> None:
        """What an agent does through the API: Pulse drafts retention outreach for a client at risk."""
        from otp_bot.store.domain.actors import Actor
        from otp_bot.store.domain.errors import DomainError
        from otp_bot.store.domain.gate.drafts import submit_draft

        body = (
            "Hi Jo,\n\nWe noticed Acme's team logged in far less this month. Could we book 20 minutes this week "
            "to see what changed and how we can help?\n\nBest,\nThe Acme Agency team"
        )
        try:
            with self.db.session() as session:
                draft = submit_draft(
                    session,
                    Actor.cli_operator("console"),
                    seat_id="retention",
                    kind="retention-outreach",
                    subject="client:acme",
                    title="Check in with Acme",
                    body=body,
                    destination="C0CLIENTACME",
                ).draft
                self.out.print(f"Pulse submitted draft #{draft.id} ({draft.status}).")
        except DomainError as exc:
            self.out.print(f"[yellow]{escape(exc.message)}[/yellow]")
            return
        self.deps.kick()
        self.settle()

    def home(self) -> None:
        self.buttons.clear()
        self.dispatch(payloads.home_opened(self.user_id), "application/json")

    def switch(self, who: str) -> None:
        who = who.strip().lower()
        if who in self.people:
            self.user_id, self.user_name = self.people[who]
        elif who.upper().startswith("U"):
            self.user_id, self.user_name = who.upper(), who.upper()
        else:
            known = ", ".join(sorted(self.people)) or "nobody (no holder has a slack_user)"
            self.out.print(f"[yellow]No holder `{escape(who)}` with a Slack user; try one of: {escape(known)}[/yellow]")
            return
        self.whoami()

    def whoami(self) -> None:
        self.out.print(f"You are [bold]{escape(self.user_name)}[/bold] ({self.user_id}).")

    def handle(self, line: str) -> bool:
        """Act on one line; False means leave."""
        line = line.strip()
        word, _, rest = line.partition(" ")
        match word.lower():
            case "" | "#":
                pass
            case "quit" | "exit" | "/quit":
                return False
            case "help" | "?":
                self.out.print(HELP)
            case "home":
                self.home()
            case "as":
                self.switch(rest)
            case "whoami":
                self.whoami()
            case "submit":
                self.submit(self.lines(rest))
            case "set":
                self.set_field(rest)
            case "fields":
                self.fields()
            case "buttons":
                self.earlier_buttons()
            case "draft":
                self.draft()
            case "review" | "post" | "headlines":
                from otp_bot.bot.console.review import run_verb

                run_verb(self, word.lower(), rest)
            case "click":
                self.click(int(rest) if rest.strip().isdigit() else 0)
            case _ if word.isdigit():
                self.click(int(word))
            case "/otp":
                self.slash(rest)
            case _:
                self.slash(line)
        return True

    def loop(self) -> None:
        settings = SlackSettings(
            bot_token=SecretStr("xoxb-local-console"), signing_secret=SecretStr(self.secret), api_url=self.standin.url
        )
        with self.standin:
            self.app, self.deps = create_app(self.db, settings)
            self.deps.worker.settings.poll_seconds = 0.2
            self.deps.worker.start()
            self.out.print("[bold]OTP bot console[/bold]: the real app, a stand-in for Slack. Type [cyan]help[/cyan].")
            self.whoami()
            if sys.stdin.isatty():
                import readline  # noqa: F401 - input() gains line editing and history, as any REPL has

            try:
                while True:
                    try:
                        line = input("otp> ")
                    except (EOFError, KeyboardInterrupt):
                        self.out.print()
                        return
                    if not self.handle(line):
                        return
            finally:
                self.deps.worker.stop()
