"""The weekly review in its Slack thread: Start, Next section, End; Done / Not done on each
to-do; Solve (a modal: the decision and up to three to-dos) and Drop (a modal: why) on each
issue; and the headline DM's modal before the meeting (a headline and the manual values the
holder's seats still owe). Every rule is the domain's (store/domain/review/); a refusal is
an ephemeral answer, and nothing changes."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from otp_bot.bot.runtime import review_posts
from otp_bot.bot.slack.app import Deps
from otp_bot.bot.slack.errors import friendly
from otp_bot.bot.slack.views import review_forms as forms
from otp_bot.bot.slack.views import review_thread as views
from otp_bot.store.domain.actors import Actor
from otp_bot.store.domain.chart.reading import get_holder
from otp_bot.store.domain.errors import DomainError, Invalid
from otp_bot.store.domain.review import agenda, issues, meetings, todos
from otp_bot.store.domain.review.headlines import headlines_for, set_headline
from otp_bot.store.domain.review.issues import TodoSpec
from otp_bot.store.domain.scorecard.metrics import record_value
from otp_bot.store.models import Seat

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(channel: str, ts: str) -> threading.Lock:
    """One lock per reply: its refreshes in this process go one at a time."""
    with _locks_guard:
        if len(_locks) > 1000:  # replies of past reviews are not clicked again
            _locks.clear()
        return _locks.setdefault((channel, ts), threading.Lock())


def _where(body: dict) -> tuple[str, str]:
    container = body.get("container") or {}
    return container.get("channel_id", ""), container.get("message_ts", "")


def _say(respond: Respond, exc: BaseException) -> None:
    reply = friendly(exc)
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral", replace_original=False)


def _ids(action: dict) -> list[str]:
    parts = views.parse_value(action.get("value", ""))
    if not parts or not parts[0].isdigit():
        raise Invalid("this button is not on a review I know")
    return parts


class FieldErrors(Exception):
    """A modal's fields refused: nothing recorded, each field says why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = {k: v[:150] for k, v in errors.items()}


def register(app: App, deps: Deps) -> None:
    def actor(user_id: str) -> Actor:
        return deps.identity.actor(deps.db, user_id)

    def refresh(review_id: int, section: str, where: tuple[str, str]) -> None:
        """The clicked section's reply again, as the store has it now, in place.

        Two clicks on one reply (Done on one row, Not done on the next) each refresh it; built
        and sent one after the other, the later one is read after both were recorded. Built
        side by side, an update read before the other click landed could arrive last and
        show one row unchecked."""
        channel, ts = where
        if not channel or not ts:
            return
        with _lock_for(channel, ts):
            with deps.db.session(readonly=True) as session:
                review = meetings.get_review(session, review_id)
                message = review_posts.section_message(session, review, section)
            deps.client.chat_update(channel=channel, ts=ts, **message)

    def clicked(work: Any, body: dict, action: dict, respond: Respond) -> None:
        """Run a click's work after the ack; a refusal (or a failure) is said to the clicker alone."""

        def run() -> None:
            try:
                work(body["user"]["id"], _ids(action), _where(body))
            except Exception as exc:
                _say(respond, exc)

        deps.work.submit(run)

    # ------------------------------------------------------------------ moving through

    def _start(user: str, ids: list[str], where: tuple[str, str]) -> None:
        who = actor(user)
        with deps.db.session() as session:
            review = meetings.start(session, who, ids[0])
            message = views.opening_message(review, started_by=f"<@{user}>")
        deps.kick()
        if where[0] and where[1]:  # the opening reply loses its Start button
            deps.client.chat_update(channel=where[0], ts=where[1], **message)

    def _next(user: str, ids: list[str], where: tuple[str, str]) -> None:
        who = actor(user)
        after = ids[1] if len(ids) > 1 else None
        with deps.db.session() as session:
            review = meetings.advance(session, who, ids[0], after=after)
            review_id = review.id
        deps.kick()
        if after in meetings.SECTIONS:
            refresh(review_id, after, where)  # its buttons go: the review moved on

    def _end(user: str, ids: list[str], where: tuple[str, str]) -> None:
        who = actor(user)
        with deps.db.session() as session:
            review = meetings.get_review(session, ids[0])
            section = review.section
            meetings.end(session, who, ids[0])
            opening = review_posts.opening_reply(session, review.id)
            started_by = review_posts.slack_users(session).get((review.started_by or "").removeprefix("holder:"))
            closed = views.opening_message(review, started_by=f"<@{started_by}>" if started_by else None)
        deps.kick()
        if section in meetings.SECTIONS:
            refresh(int(ids[0]), section, where)
        if opening is not None:  # the opening reply says the review ended, not that it runs
            deps.client.chat_update(channel=opening[0], ts=opening[1], **closed)

    @app.action(views.START)
    def start(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        clicked(_start, body, action, respond)

    @app.action(views.NEXT)
    def next_section(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        clicked(_next, body, action, respond)

    @app.action(views.END)
    def end(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        clicked(_end, body, action, respond)

    # ------------------------------------------------------------------ to-dos

    def _check(done: bool):
        def work(user: str, ids: list[str], where: tuple[str, str]) -> None:
            if len(ids) < 2 or not ids[1].isdigit():
                raise Invalid("this button names no to-do")
            who = actor(user)
            with deps.db.session() as session:
                review = meetings.running_review(session, who, ids[0])
                todos.check(session, who, int(ids[1]), done, review_id=review.id, week=review.week)
                review_id = review.id
            refresh(review_id, "todos", where)

        return work

    @app.action(views.per_row(views.TODO_DONE))
    def todo_done(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        clicked(_check(True), body, action, respond)

    @app.action(views.per_row(views.TODO_NOT_DONE))
    def todo_not_done(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        clicked(_check(False), body, action, respond)

    # ------------------------------------------------------------------ issues

    def _modal_for(kind: str, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        # Refused before the modal opens: nobody writes a decision only to be told they may not.
        try:
            ids = _ids(action)
            if len(ids) < 2 or not ids[1].isdigit():
                raise Invalid("this button names no issue")
            who = actor(body["user"]["id"])
            with deps.db.session(readonly=True) as session:
                review = meetings.running_review(session, who, ids[0])
                issue = issues.get_issue(session, int(ids[1]))
                if issue.status in ("solved", "dropped"):
                    raise Invalid(f"issue #{issue.id} is already {issue.status}")
                if kind == "solve":
                    seats = list(session.query(Seat).filter(Seat.status == "active").order_by(Seat.id))
                    view = forms.solve_modal(review, issue, seats, _where(body))
                else:
                    view = forms.drop_modal(review, issue, _where(body))
        except DomainError as exc:
            _say(respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(views.per_row(views.SOLVE))
    def solve(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        _modal_for("solve", body, action, respond, client)

    @app.action(views.per_row(views.DROP))
    def drop(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        _modal_for("drop", body, action, respond, client)

    def submitted(ack: Ack, body: dict, view: dict, field: str, decide: Any) -> None:
        meta = forms.metadata(view)
        values = view.get("state", {}).get("values", {})
        try:
            who = actor(body["user"]["id"])
            with deps.db.session() as session:
                review = meetings.running_review(session, who, str(meta.get("review", "")))
                decide(session, who, review, int(meta.get("issue", 0)), values)
                review_id = review.id
        except FieldErrors as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except DomainError as exc:
            ack(response_action="errors", errors={field: exc.message[:150]})
            return
        ack()
        where = (str(meta.get("channel", "")), str(meta.get("ts", "")))
        deps.work.submit(refresh, review_id, "issues", where)

    def _solve(session: Any, who: Actor, review: Any, issue_id: int, values: dict) -> None:
        decision = (values.get("decision", {}).get("decision", {}).get("value") or "").strip()
        if not decision:
            raise FieldErrors({"decision": "say what was decided"})
        issues.solve(session, who, issue_id, decision, todos=todo_specs(values), review_id=review.id)

    def _drop(session: Any, who: Actor, review: Any, issue_id: int, values: dict) -> None:
        reason = (values.get("reason", {}).get("reason", {}).get("value") or "").strip()
        if not reason:
            raise FieldErrors({"reason": "say why it is dropped"})
        issues.drop(session, who, issue_id, reason, review_id=review.id)

    @app.view(views.SOLVE_VIEW)
    def solve_submitted(ack: Ack, body: dict, view: dict) -> None:
        submitted(ack, body, view, "decision", _solve)

    @app.view(views.DROP_VIEW)
    def drop_submitted(ack: Ack, body: dict, view: dict) -> None:
        submitted(ack, body, view, "reason", _drop)

    # ------------------------------------------------------------------ headlines before the meeting

    @app.action(views.HEADLINE)
    def headline(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        try:
            week = dt.date.fromisoformat(action.get("value", ""))
        except ValueError:
            _say(respond, Invalid("this button names no review week"))
            return
        try:
            who = actor(body["user"]["id"])
            if who.holder_id is None:
                raise Invalid("only a holder on the chart gives a headline", hint="ask to be added to the chart")
            with deps.db.session(readonly=True) as session:
                get_holder(session, who.holder_id)
                day = agenda.values_day(week)
                missing = agenda.missing_values(session, who.holder_id, day)
                mine = next((h.text for h in headlines_for(session, week) if h.holder_id == who.holder_id), None)
                view = forms.headline_modal(week, missing, day, mine)
        except DomainError as exc:
            _say(respond, exc)
            return
        client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(views.HEADLINE_VIEW)
    def headline_submitted(ack: Ack, body: dict, view: dict) -> None:
        meta = forms.metadata(view)
        values = view.get("state", {}).get("values", {})
        try:
            who = actor(body["user"]["id"])
            week, day = dt.date.fromisoformat(meta["week"]), dt.date.fromisoformat(meta["day"])
            text = values.get("headline", {}).get("headline", {}).get("value") or ""
            with deps.db.session() as session:
                record_headline(session, who, text, week, day, list(meta.get("metrics") or []), values)
        except FieldErrors as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except (KeyError, ValueError):
            ack(response_action="errors", errors={"headline": "this form is not one I opened; ask for a new one"})
            return
        ack()


def record_headline(
    session: Any, who: Actor, text: str, week: dt.date, day: dt.date, metric_ids: list[str], values: dict
) -> None:
    """The headline and each value given, all or nothing: a value refused refuses the form,
    with the reason beside its field (`3,5` is read as the org reads numbers, or refused)."""
    errors: dict[str, str] = {}
    try:
        with session.begin_nested():
            set_headline(session, who, text, via="dm", week=week)
    except DomainError as exc:
        errors["headline"] = exc.message
    for metric_id in metric_ids:
        raw = (values.get(f"metric_{metric_id}", {}).get("value", {}).get("value") or "").strip()
        if not raw:
            continue
        try:
            with session.begin_nested():
                record_value(session, who, metric_id, raw, period=day, source="manual", note="headline form")
        except DomainError as exc:
            errors[f"metric_{metric_id}"] = exc.message + (f" ({exc.hint})" if exc.hint else "")
    if errors:
        raise FieldErrors(errors)  # the whole transaction rolls back: nothing half-recorded


def todo_specs(values: dict) -> list[TodoSpec]:
    """The Solve modal's to-do rows: a seat and a text make a to-do; one without the other is refused."""
    specs: list[TodoSpec] = []
    errors: dict[str, str] = {}
    for n in range(1, views.TODO_ROWS + 1):
        seat = ((values.get(f"todo_{n}_seat", {}).get("seat", {}) or {}).get("selected_option") or {}).get("value")
        text = (values.get(f"todo_{n}_text", {}).get("text", {}).get("value") or "").strip()
        due_raw = values.get(f"todo_{n}_due", {}).get("due", {}).get("selected_date")
        if not seat and not text:
            if due_raw:
                errors[f"todo_{n}_due"] = "a due date needs a seat and a to-do"
            continue
        if not seat:
            errors[f"todo_{n}_seat"] = "choose the seat that owns this to-do"
            continue
        if not text:
            errors[f"todo_{n}_text"] = "say what is to be done"
            continue
        due = dt.date.fromisoformat(due_raw) if due_raw else None
        specs.append(TodoSpec(seat_id=seat, text=text, due=due))
    if errors:
        raise FieldErrors(errors)
    return specs
