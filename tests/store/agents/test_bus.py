"""The message bus: seat-to-seat messages, inboxes, threads, deadlines, on the example org.

Pulse holds retention (accountable: Bogdan), Dirk holds sales (accountable: David),
Nick holds prospecting; onboarding is vacant."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.agents import bus, inboxes
from otp_bot.store.domain.chart.chartfile.errors import ChartErrors
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.chartfile.yaml_text import dump_chart, parse_yaml
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.errors import Conflict, Forbidden, Invalid, NotFound
from otp_bot.store.models import AuditEntry, Message, OutboxItem, Seat
from tests.support.bus import OPERATOR, ids, page, refused, send, with_coordination

# ------------------------------------------------------------------------- sending and answering


def test_a_request_reaches_the_inbox_and_a_response_answers_it(example_db):
    ask = send(
        example_db,
        "pulse",
        to_seat="sales",
        performative="request",
        subject="Is acme safe to pitch?",
        body="Acme's usage fell 40%. Hold the expansion pitch?",
        deadline="4h",
    )
    m = ask.message
    assert ask.created and (m.from_seat_id, m.to_seat_id, m.performative, m.status) == (
        "retention",
        "sales",
        "REQUEST",
        "unread",
    )
    assert m.thread_id is None and m.root_id == m.id and m.sent_by == "holder:pulse"
    assert dt.timedelta(hours=3, minutes=59) < m.deadline - utcnow() <= dt.timedelta(hours=4)

    inbox = page(example_db, "dirk", "sales")
    assert ids(inbox) == [m.id] and inbox.unread == 1 and inbox.next_cursor is None

    answer = send(
        example_db, "dirk", performative="RESPONSE", in_reply_to=m.id, body="Holding it until you clear acme."
    )
    reply = answer.message
    assert (reply.from_seat_id, reply.to_seat_id) == ("sales", "retention")  # to the other seat, by itself
    assert reply.subject == "Re: Is acme safe to pitch?" and reply.thread_id == m.id and reply.in_reply_to == m.id
    assert answer.answered.id == m.id
    with example_db.session(readonly=True) as s:
        original = s.get(Message, m.id)
        assert original.status == "answered" and original.answered_at and original.read_at
        thread = inboxes.thread(s, actor_for_holder(s, "pulse"), reply.id)
        assert [t.id for t in thread] == [m.id, reply.id]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "message.sent").order_by(AuditEntry.id)).all()
        assert [(a.actor, a.subject) for a in audit] == [
            ("holder:pulse", f"message:{m.id}"),
            ("holder:dirk", f"message:{reply.id}"),
        ]
        assert audit[1].detail["in_reply_to"] == m.id and audit[0].detail["performative"] == "REQUEST"
    assert ids(page(example_db, "pulse", "retention")) == [reply.id]
    assert ids(page(example_db, "dirk", "sales")) == []  # answered: no longer open
    assert ids(page(example_db, "dirk", "sales", status="answered")) == [m.id]


def test_a_thread_grows_and_stays_between_its_two_seats(example_db):
    first = send(
        example_db,
        "pulse",
        to_seat="sales",
        performative="PROPOSAL",
        subject="Split acme",
        body="I keep acme, you take globex.",
    ).message
    second = send(example_db, "dirk", in_reply_to=first.id, performative="INFORM", body="Thinking.").message
    third = send(example_db, "pulse", in_reply_to=second.id, performative="RESPONSE", body="OK.").message
    assert (third.thread_id, third.to_seat_id, third.subject) == (first.id, "sales", "Re: Split acme")
    # A seat outside the thread cannot join it, and a reply goes to the other seat only.
    assert "only they reply" in refused(example_db, "nick", Forbidden, in_reply_to=first.id)
    assert "goes to `retention`" in refused(example_db, "dirk", Invalid, in_reply_to=first.id, to_seat="prospecting")
    # A RESPONSE answers a message sent to the responding seat, not its own.
    assert "answers a message sent to your seat" in refused(
        example_db, "pulse", Invalid, performative="RESPONSE", in_reply_to=first.id
    )
    with example_db.session(readonly=True) as s:
        assert [m.id for m in inboxes.thread(s, OPERATOR, first.id)] == [first.id, second.id, third.id]
        with pytest.raises(Forbidden, match="you may read neither"):
            inboxes.thread(s, actor_for_holder(s, "nick"), third.id)
        # David is accountable for Dirk's seat: he reads the thread.
        assert len(inboxes.thread(s, actor_for_holder(s, "david"), first.id)) == 3


def test_who_may_send(example_db):
    assert "you do not hold seat `sales`" in refused(example_db, "pulse", Forbidden, from_seat="sales", to_seat="kpi")
    assert "there is no seat `salez`" in refused(example_db, "pulse", NotFound, to_seat="salez")
    assert "to itself" in refused(example_db, "pulse", Invalid, to_seat="retention")
    assert "name the seat the message is for" in refused(example_db, "pulse", Invalid, to_seat=None)
    with pytest.raises(Invalid) as operator_without_seat:
        send(example_db, OPERATOR, to_seat="sales")
    assert "give from_seat" in str(operator_without_seat.value.hint)
    assert send(example_db, OPERATOR, from_seat="coo", to_seat="sales").message.sent_by == "operator:operator"
    # A vacant seat's messages wait for its next holder; a retired seat takes none.
    assert send(example_db, "pulse", to_seat="onboarding").message.to_seat_id == "onboarding"
    with example_db.session() as s:
        s.execute(update(Seat).where(Seat.id == "paid-social").values(status="retired"))
    assert "retired" in refused(example_db, "pulse", Invalid, to_seat="paid-social")
    # Someone not on the chart sends nothing.
    assert "name the seat" in refused(example_db, Actor.anonymous(), Invalid, to_seat="sales")
    assert "you do not hold" in refused(example_db, Actor.anonymous(), Forbidden, from_seat="kpi", to_seat="sales")


@pytest.mark.parametrize(
    ("fields", "error", "says"),
    [
        ({"performative": "SHOUT"}, Invalid, "not a performative"),
        ({"performative": "RESPONSE"}, Invalid, "give in_reply_to"),
        ({"subject": "  "}, Invalid, "needs a subject"),
        ({"subject": "x" * 201}, Invalid, "at most 200"),
        ({"body": ""}, Invalid, "needs a body"),
        ({"body": "x" * 10_001}, Invalid, "at most 10,000"),
        ({"body": "a\x00b"}, Invalid, "NUL"),
        ({"deadline": "2h"}, Invalid, "only a REQUEST has a deadline; this is an INFORM"),
        ({"performative": "REQUEST", "deadline": "soon"}, Invalid, "not a deadline"),
        ({"performative": "REQUEST", "deadline": "2020-01-01"}, Invalid, "not in the future"),
        ({"performative": "REQUEST", "deadline": "400d"}, Invalid, "at most a year"),
        ({"in_reply_to": "abc"}, Invalid, "not a message number"),
        ({"in_reply_to": 999_999}, NotFound, "no message #999999"),
        ({"in_reply_to": 2**40}, NotFound, "no message"),
        ({"key": "k" * 201}, Invalid, "at most 200"),
    ],
)
def test_bad_messages_are_refused_clearly(example_db, fields, error, says):
    assert says in refused(example_db, "pulse", error, **{"to_seat": "sales", **fields})
    with example_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 0


def test_deadlines_and_subjects_are_normalised(example_db):
    at = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
    m = send(
        example_db,
        "pulse",
        to_seat="sales",
        performative="request",
        deadline=at.replace(tzinfo=None).isoformat(),
        subject="  two\nlines  ",
    ).message
    assert m.deadline.replace(tzinfo=dt.UTC) == at and m.subject == "two lines"


def test_a_retried_send_with_a_key_is_sent_once(example_db):
    first = send(example_db, "pulse", to_seat="sales", key="acme-1")
    again = send(example_db, "pulse", to_seat="sales", key="acme-1")
    assert first.created and not again.created and again.message.id == first.message.id
    assert "different content" in refused(example_db, "pulse", Conflict, to_seat="sales", key="acme-1", body="Other")
    assert send(example_db, "dirk", to_seat="retention", key="acme-1").created  # keys are per sending seat


# ------------------------------------------------------------------------- reading


def test_who_may_read_an_inbox(example_db):
    send(example_db, "pulse", to_seat="sales")
    assert len(page(example_db, "dirk", "sales").messages) == 1  # the holder
    assert len(page(example_db, "david", "sales").messages) == 1  # the human accountable for it
    assert len(page(example_db, OPERATOR, "sales").messages) == 1
    for outsider in ("pulse", "bogdan", Actor.anonymous()):
        with pytest.raises(Forbidden, match=r"for Dirk \(its holder\) and David \(accountable for it\)"):
            page(example_db, outsider, "sales")
    with pytest.raises(Forbidden, match="vacant"):
        page(example_db, "bogdan", "onboarding")
    with pytest.raises(NotFound):
        page(example_db, "dirk", "nope")


def test_reading_marks_read_only_for_the_holder(example_db):
    ask = send(example_db, "pulse", to_seat="sales", performative="REQUEST").message
    note = send(example_db, "pulse", to_seat="sales", performative="INFORM").message
    with example_db.session() as s, pytest.raises(Forbidden, match="only its holder"):
        inboxes.mark_read(s, actor_for_holder(s, "david"), note.id)
    with example_db.session() as s:
        dirk = actor_for_holder(s, "dirk")
        assert inboxes.mark_read(s, dirk, note.id).status == "read"
        assert inboxes.mark_read(s, dirk, note.id).status == "read"  # again: no change
        assert inboxes.mark_read(s, dirk, ask.id).read_at is not None
    # A read INFORM is done with; a read REQUEST still waits for its answer.
    assert ids(page(example_db, "dirk", "sales")) == [ask.id]
    assert ids(page(example_db, "dirk", "sales", status="read")) == [note.id, ask.id]
    assert ids(page(example_db, "dirk", "sales", status="unread")) == []
    assert ids(page(example_db, "dirk", "sales", status="all")) == [note.id, ask.id]


def test_the_inbox_pages_newest_first(example_db):
    sent = [send(example_db, "pulse", to_seat="sales", subject=f"n{i}").message.id for i in range(5)]
    first = page(example_db, "dirk", "sales", limit=2)
    assert ids(first) == sent[:-3:-1] and first.unread == 5
    second = page(example_db, "dirk", "sales", limit=2, cursor=first.next_cursor)
    third = page(example_db, "dirk", "sales", limit=2, cursor=second.next_cursor)
    assert ids(second) == sent[2:0:-1] and ids(third) == sent[:1] and third.next_cursor is None
    for bad, says in (
        ({"limit": 0}, "between 1 and 200"),
        ({"limit": 201}, "between 1 and 200"),
        ({"cursor": "abc"}, "not a cursor"),
        ({"status": "new"}, "not an inbox filter"),
    ):
        with pytest.raises(Invalid, match=says):
            page(example_db, "dirk", "sales", **bad)


def test_overdue_requests_are_the_unanswered_past_their_deadline(example_db):
    late = send(example_db, "pulse", to_seat="sales", performative="REQUEST", deadline="1h").message
    answered = send(example_db, "pulse", to_seat="kpi", performative="REQUEST", deadline="1h").message
    send(example_db, "pulse", to_seat="projects", performative="REQUEST", deadline="5h")
    send(example_db, "pulse", to_seat="sales", performative="REQUEST")  # no deadline: never overdue
    send(example_db, "tally", performative="RESPONSE", in_reply_to=answered.id, body="Done.")
    later = utcnow() + dt.timedelta(hours=2)
    with example_db.session(readonly=True) as s:
        assert inboxes.overdue_requests(s) == []
        assert [m.id for m in inboxes.overdue_requests(s, later)] == [late.id]
        assert [m.id for m in inboxes.overdue_requests(s, later, seat_ids={"sales"})] == [late.id]
        assert inboxes.overdue_requests(s, later, seat_ids={"kpi"}) == []


def test_get_message_reads_only_what_may_be_read(example_db):
    m = send(example_db, "pulse", to_seat="sales").message
    with example_db.session(readonly=True) as s:
        assert bus.readable_message(s, actor_for_holder(s, "bogdan"), m.id).id == m.id  # accountable for retention
        with pytest.raises(Forbidden):
            bus.readable_message(s, actor_for_holder(s, "tally"), m.id)
        with pytest.raises(NotFound):
            bus.readable_message(s, OPERATOR, 0)


# ------------------------------------------------------------------------- the chart, the mirror, the database


def test_messages_are_mirrored_to_the_coordination_channel_when_the_chart_names_one(example_db):
    send(example_db, "pulse", to_seat="sales")
    with_coordination(example_db, "C0COORD")
    m = send(example_db, "pulse", to_seat="sales").message
    with example_db.session(readonly=True) as s:
        items = s.scalars(select(OutboxItem).where(OutboxItem.kind == "bus_mirror")).all()
        assert [(i.key, i.payload) for i in items] == [
            (f"message:{m.id}:mirror", {"message_id": m.id, "channel": "C0COORD"})
        ]
        text = dump_chart(export_chart(s))
    assert "coordination_channel: C0COORD" in text
    with pytest.raises(ChartErrors, match="not a channel id"):
        validate_chart(parse_yaml(text.replace("C0COORD", "'#coord'"), "c.yaml"), "c.yaml")


def test_a_seat_with_messages_is_retired_not_removed(example_db):
    send(example_db, "pulse", to_seat="onboarding")
    with example_db.session() as s:
        spec = export_chart(s)
        spec.seats = [x for x in spec.seats if x.id != "onboarding"]
        with pytest.raises(ChartErrors, match="'onboarding' is missing from the file but has messages"):
            apply_chart(s, spec, actor="test", source="test")


REFUSED = (IntegrityError, InternalError, OperationalError)


@pytest.mark.parametrize(
    "values",
    [
        {"performative": "INFORM", "deadline": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
        {"performative": "RESPONSE"},
        {"performative": "SHOUT"},
        {"to_seat_id": "retention"},
        {"status": "read"},
    ],
)
def test_the_database_refuses_what_the_rules_refuse(example_db, values):
    row = {
        "from_seat_id": "retention",
        "to_seat_id": "sales",
        "performative": "INFORM",
        "subject": "s",
        "body": "b",
        "sent_by": "x",
        "created_at": utcnow(),
        "status": "unread",
        **values,
    }
    with pytest.raises(REFUSED), example_db.session() as s:
        s.execute(insert(Message).values(**row))


def test_the_worker_mirrors_a_conversation_as_one_slack_thread(example_db):
    from otp_bot.bot.runtime.worker import OutboxWorker
    from otp_bot.bot.slack.client import make_client
    from otp_bot.bot.slack.settings import WorkerSettings
    from tests.support.slack.api import SlackAPI

    with_coordination(example_db, "C0COORD")
    ask = send(
        example_db,
        "pulse",
        to_seat="sales",
        performative="REQUEST",
        subject="acme?",
        body="<!channel> hold the pitch",
        deadline="1d",
    ).message
    send(example_db, "dirk", performative="RESPONSE", in_reply_to=ask.id, body="Held.")
    with SlackAPI(tokens=["xoxb-test-token"]) as api:
        worker = OutboxWorker(example_db, make_client("xoxb-test-token", api.url), WorkerSettings(retry_backoff=[0.0]))
        assert worker.run_once() == 2
        first, second = api.calls_to("chat.postMessage")
        assert first.args["channel"] == "C0COORD" and not first.args.get("thread_ts")
        assert f"*REQUEST* #{ask.id} from *Client Retention* (Pulse) to *Sales Pipeline*" in first.args["text"]
        assert "&lt;!channel&gt; hold the pitch" in first.args["text"] and ", due " in first.args["text"]
        assert second.args["thread_ts"] == first.response["ts"] and f"replying to #{ask.id}" in second.args["text"]
        assert worker.run_once() == 0
