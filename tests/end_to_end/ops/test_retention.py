"""Retention on a store that lived: drafts delivered, waiting, failed; bus threads; Slack's
inbound events. Everything is made by the real flows (the outbox worker against the Slack
stand-in); what is meant to be old is then dated 100 days back, as if written then.

Old finished records go; recent ones, pending and failed ones, a waiting draft's items and a
thread's first mirror stay; the audit chain is untouched and verifies."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, insert, select

from otp_bot.bot.runtime.worker import OutboxWorker
from otp_bot.bot.slack.client import make_client
from otp_bot.bot.slack.settings import WorkerSettings
from otp_bot.store.db import Database
from otp_bot.store.domain import audit
from otp_bot.store.domain.actors import Actor, actor_for_holder
from otp_bot.store.domain.agents.bus import mirror_key
from otp_bot.store.domain.clock import utcnow
from otp_bot.store.domain.gate import decisions, drafts, flags
from otp_bot.store.models import AuditEntry, InboundEvent, OutboxItem
from tests.support.bus import send, with_coordination
from tests.support.cli import otp
from tests.support.deliveries import CUSTOMER, deliveries
from tests.support.serve import TOKEN, Server
from tests.support.slack.api import SlackAPI

APPROVALS = "C0APPROVALS"
OLD = dt.timedelta(days=100)


@pytest.fixture
def api() -> Iterator[SlackAPI]:
    with SlackAPI(tokens=[TOKEN]) as api:
        yield api


def drain(db: Database, api: SlackAPI) -> None:
    worker = OutboxWorker(db, make_client(TOKEN, api.url), WorkerSettings(retry_backoff=[0.0]))
    while worker.run_once():
        pass


def submit(db: Database, title: str, **fields) -> int:
    fields.setdefault("kind", "retention-outreach")
    fields.setdefault("subject", "client:acme")
    with db.session() as s:
        return drafts.submit_draft(
            s, actor_for_holder(s, "pulse"), seat_id="retention", title=title, body=f"Hi ({title})", **fields
        ).draft.id


def approve(db: Database, draft_id: int) -> None:
    with db.session() as s:
        decisions.decide(s, actor_for_holder(s, "bogdan"), draft_id, "approve")


def item_ids(db: Database, *where) -> set[int]:
    with db.session(readonly=True) as s:
        return set(s.scalars(select(OutboxItem.id).where(*where)))


def date_back(db: Database, ids: set[int]) -> None:
    """As if these items had been created and finished 100 days ago."""
    with db.session() as s:
        for item in s.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
            item.created_at, item.next_attempt_at = item.created_at - OLD, item.next_attempt_at - OLD
            item.done_at = item.done_at - OLD if item.done_at else None


@dataclass
class Lived:
    goes: set[int]  # outbox items a purge must delete
    stays: set[int]  # outbox items it must keep
    waiting: int  # a draft still waiting for its decision, its approval post 100 days old
    audit_entries: int


@pytest.fixture
def lived(example_db: Database, api: SlackAPI) -> Lived:
    db = example_db
    with_coordination(db, "C0COORD")
    delivered = submit(db, "delivered long ago", destination=CUSTOMER)
    waiting = submit(db, "still waiting", kind="expansion", subject="client:beta")
    failed = submit(db, "delivery failed long ago", destination=CUSTOMER)
    recent = submit(db, "delivered yesterday", destination=CUSTOMER)
    root = send(db, "pulse", to_seat="sales", performative="PROPOSAL", subject="Split acme", body="Mine?").message
    reply = send(db, "dirk", in_reply_to=root.id, performative="INFORM", body="Thinking.").message
    drain(db, api)
    approve(db, failed)
    api.fail_next("chat.postMessage", error="channel_not_found")  # its delivery fails for good
    drain(db, api)
    for draft_id in (delivered, recent):
        approve(db, draft_id)
    drain(db, api)
    # An unanswered reply whose mirror is still queued (Slack away): pending, however old.
    queued = send(db, "pulse", in_reply_to=reply.id, performative="INFORM", body="Still there?").message

    of = {d: item_ids(db, OutboxItem.draft_id == d) for d in (delivered, waiting, failed, recent)}
    mirrors = {m: item_ids(db, OutboxItem.key == mirror_key(m)) for m in (root.id, reply.id, queued.id)}
    with db.session(readonly=True) as s:
        statuses = dict(s.execute(select(OutboxItem.id, OutboxItem.status)).all())
    assert [statuses[i] for i in of[failed]].count("failed") == 1  # its delivery; its posts and updates are done
    date_back(db, of[delivered] | of[waiting] | of[failed] | mirrors[root.id] | mirrors[reply.id] | mirrors[queued.id])

    now = utcnow()
    with db.session() as s:
        s.execute(
            insert(InboundEvent),
            [
                {"event_id": "Ev0OLD", "received_at": now - dt.timedelta(days=3)},
                {"event_id": "Ev0RECENT", "received_at": now - dt.timedelta(hours=1)},
                {"event_id": "sig:" + "a" * 60, "received_at": now - dt.timedelta(minutes=20)},
                {"event_id": "sig:" + "b" * 60, "received_at": now - dt.timedelta(minutes=5)},
            ],
        )
        entries = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
    goes = of[delivered] | mirrors[reply.id]
    stays = of[waiting] | of[failed] | of[recent] | mirrors[root.id] | mirrors[queued.id]
    assert goes and all(statuses[i] == "done" for i in goes)
    assert statuses[next(iter(mirrors[queued.id]))] == "pending"
    return Lived(goes, stays, waiting, entries)


def counts(output: str) -> tuple[int, int]:
    found = re.findall(r": (\d+)$", output, re.M)
    return int(found[0]), int(found[1])


def test_purge_takes_old_finished_records_and_keeps_what_still_matters(example_db, api, lived):
    before = item_ids(example_db)
    dry = otp(example_db, "retention", "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert counts(dry.stdout) == (2, len(lived.goes)) and "would purge" in dry.stdout
    assert item_ids(example_db) == before  # a dry run deletes nothing

    done = otp(example_db, "retention", "purge")
    assert done.returncode == 0, done.stderr
    assert counts(done.stdout) == (2, len(lived.goes))
    assert f"purged {2 + len(lived.goes)} records" in done.stdout
    left = item_ids(example_db)
    assert left == before - lived.goes and lived.stays <= left
    with example_db.session(readonly=True) as s:
        assert set(s.scalars(select(InboundEvent.event_id))) == {"Ev0RECENT", "sig:" + "b" * 60}
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == lived.audit_entries
        assert audit.verify(s) is None
    verified = otp(example_db, "audit", "verify")
    assert verified.returncode == 0 and "audit log intact" in verified.stdout

    again = otp(example_db, "retention", "purge")
    assert counts(again.stdout) == (0, 0)  # nothing left to go


def test_a_waiting_draft_released_after_a_purge_is_not_posted_again(example_db, api, lived):
    """Why a waiting draft's items stay: its approval post's key is what stops a release
    from posting the message a second time."""
    assert otp(example_db, "retention", "purge").returncode == 0
    operator = Actor.cli_operator()
    with example_db.session() as s:  # retention-wins: expansion drafts are held while the client is at risk
        assert [d.id for d in flags.set_flag(s, operator, "client:beta", "at-risk", seat_id="retention").held] == [
            lived.waiting
        ]
    with example_db.session() as s:
        assert [d.id for d in flags.lift_flag(s, operator, "client:beta", "at-risk").released] == [lived.waiting]
    drain(example_db, api)
    assert deliveries(api, APPROVALS)[f"draft:{lived.waiting}:post:{APPROVALS}"] == 1


def test_a_retention_of_zero_days_keeps_every_outbox_item(example_db, api, lived):
    before = item_ids(example_db)
    done = otp(example_db, "retention", "purge", "--days", "0")
    assert done.returncode == 0 and counts(done.stdout) == (2, 0)
    assert item_ids(example_db) == before


def test_a_malformed_retention_setting_is_named(example_db):
    result = otp_env(example_db, {"OTP_RETENTION_DAYS": "ninety"}, "retention", "purge")
    assert result.returncode == 2 and "OTP_RETENTION_DAYS is malformed" in result.stderr


def otp_env(db: Database, env: dict[str, str], *args: str):
    import os
    import subprocess

    from tests.support.cli import OTP

    return subprocess.run(
        [OTP, *args], env={**os.environ, "OTP_DATABASE_URL": db.url, **env}, capture_output=True, text=True, timeout=60
    )


def test_a_running_server_purges_on_its_own_in_batches(example_db, api, lived):
    now = utcnow()
    with example_db.session() as s:  # more old events than one batch deletes
        s.execute(
            insert(InboundEvent),
            [{"event_id": f"Ev0BULK{n}", "received_at": now - dt.timedelta(days=3)} for n in range(2500)],
        )
    srv = Server(example_db, api, {"OTP_RETENTION_CHECK_SECONDS": "1", "OTP_SCHEDULER_ENABLED": "false"})
    try:
        deadline = time.monotonic() + 30
        while item_ids(example_db) & lived.goes and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        output = srv.stop()
    assert "Traceback" not in output, output
    left = item_ids(example_db)
    assert not left & lived.goes and lived.stays <= left
    with example_db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 2  # the recent event and signature
        assert audit.verify(s) is None
