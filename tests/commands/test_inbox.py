"""`/otp inbox`: a seat's messages shown and marked read for its holder, refusals, and a long
inbox within Slack's limits."""

from __future__ import annotations

from otp_bot.commands import run
from otp_bot.store.domain.actors import Actor, actor_for_holder
from tests.support.blockkit import assert_valid
from tests.support.bus import send

# ------------------------------------------------------------------------- /otp inbox


def ask(db, text, holder=None):
    with db.session() as s:
        reply = run(s, actor_for_holder(s, holder) if holder else Actor.anonymous("U0READER"), text)
    assert_valid(reply.to_slack())
    return reply


def test_otp_inbox_shows_a_seats_messages_and_marks_them_read_for_its_holder(example_db):
    m = send(
        example_db,
        "pulse",
        to_seat="sales",
        performative="REQUEST",
        subject="<!channel> acme?",
        body="Hold *expansion* <https://evil|bank>",
        deadline="1d",
    ).message
    seen_by_david = ask(example_db, "inbox sales", "david")
    assert seen_by_david.ok and f"#{m.id} REQUEST" in seen_by_david.text and "unread" in seen_by_david.text
    assert "&lt;!channel&gt;" in seen_by_david.text and "<!channel>" not in seen_by_david.text
    assert "&lt;https://evil|bank&gt;" in seen_by_david.text and "due " in seen_by_david.text
    assert "marked read" not in seen_by_david.text  # David reads; only the holder's reading counts
    first = ask(example_db, "inbox sales", "dirk")
    assert "1 unread" in first.text and "1 marked read" in first.text
    again = ask(example_db, "inbox sales", "dirk")
    assert "0 unread" in again.text and "_read_" in again.text  # a read REQUEST stays open until answered
    send(example_db, "dirk", performative="RESPONSE", in_reply_to=m.id, body="Held.")
    assert "Nothing open" in ask(example_db, "inbox sales", "dirk").text
    assert f"#{m.id} REQUEST" in ask(example_db, "messages sales --all", "dirk").text


def test_otp_inbox_refuses_clearly(example_db):
    for text, holder, says in (
        ("inbox", "dirk", "name one seat"),
        ("inbox sales", "pulse", "you cannot read it"),
        ("inbox sales", None, "you cannot read it"),
        ("inbox salez", "dirk", "no seat"),
        ("inbox sales --new", "dirk", "unknown option"),
    ):
        reply = ask(example_db, text, holder)
        assert not reply.ok and says in reply.text, text


def test_a_long_inbox_stays_within_slacks_limits(example_db):
    for i in range(40):
        send(example_db, "pulse", to_seat="sales", subject=f"note {i}", body="word " * 2000)
    reply = ask(example_db, "inbox sales", "dirk")
    assert reply.ok and "note 39" in reply.text and "cursor" in str(reply.blocks[-1])
