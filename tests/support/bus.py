"""Seat-to-seat messages sent and read straight through the bus, on the example org."""

from __future__ import annotations

import pytest

from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.agents import bus, inboxes
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.domain.chart.sync.export import export_chart

OPERATOR = Actor.cli_operator()


def send(db, who: str | Actor, **fields) -> bus.Sent:
    fields.setdefault("performative", "INFORM")
    if not fields.get("in_reply_to"):
        fields.setdefault("subject", "Acme")
    fields.setdefault("body", "Usage is down 40% this month.")
    with db.session() as s:
        actor = who if isinstance(who, Actor) else actor_for_holder(s, who)
        sent = bus.send_message(s, actor, **fields)
        sent.message.from_seat, sent.message.to_seat  # noqa: B018 - loaded while the session is open
        return sent


def refused(db, who: str | Actor, error: type[Exception], **fields) -> str:
    with pytest.raises(error) as info:
        send(db, who, **fields)
    return info.value.message


def page(db, who: str | Actor, seat: str, **kw) -> inboxes.InboxPage:
    with db.session(readonly=True) as s:
        actor = who if isinstance(who, Actor) else actor_for_holder(s, who)
        return inboxes.inbox(s, actor, seat, **kw)


def ids(p: inboxes.InboxPage) -> list[int]:
    return [m.id for m in p.messages]


def with_coordination(db, channel: str | None) -> None:
    with db.session() as s:
        spec = export_chart(s)
        spec.org.coordination_channel = channel
        apply_chart(s, spec, actor="test", source="test")
