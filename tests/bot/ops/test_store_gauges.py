"""The gauges read from the store at scrape time: the counts themselves, one reading serving the
scrapes of a few seconds, and a store that cannot be read leaving the gauges out, quickly."""

from __future__ import annotations

import datetime as dt
import time

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from otp_bot.bot.ops.store_metrics import StoreCollector
from otp_bot.store.db import Database
from otp_bot.store.domain.clock import as_utc
from otp_bot.store.domain.gauges import read_gauges
from otp_bot.store.models import OutboxItem
from tests.support.approvals import submit
from tests.support.metrics import Scrape


def scraped(collector: StoreCollector) -> Scrape:
    registry = CollectorRegistry()
    registry.register(collector)
    return Scrape(generate_latest(registry).decode())


def test_counts_by_status_every_status_listed(example_db):
    with example_db.session(readonly=True) as s:
        empty = read_gauges(s)
    assert empty.drafts == dict.fromkeys(
        ("held", "pending", "approved", "rejected", "expired", "withdrawn", "changes-requested", "revised"), 0
    )
    assert set(empty.outbox) == {
        (st, k)
        for st in ("pending", "failed")
        for k in ("approval_post", "approval_update", "notify", "deliver", "bus_mirror", "webhook", "review")
    }
    assert empty.oldest_pending_seconds == 0

    draft_id = submit(example_db)
    with example_db.session(readonly=True) as s:
        queued = s.query(OutboxItem).filter_by(draft_id=draft_id).one().created_at
        later = read_gauges(s, now=as_utc(queued) + dt.timedelta(seconds=90))
    assert later.drafts["pending"] == 1 and sum(later.drafts.values()) == 1
    assert later.deliveries["none"] == 1
    assert later.outbox[("pending", "approval_post")] == 1
    assert later.oldest_pending_seconds == 90


def test_one_reading_serves_the_scrapes_of_max_age(example_db):
    kept = StoreCollector(example_db, max_age=60)
    fresh = StoreCollector(example_db, max_age=0)
    assert scraped(kept).value("otp_drafts", status="pending") == 0
    submit(example_db)
    assert scraped(kept).value("otp_drafts", status="pending") == 0  # the reading of a moment ago
    assert scraped(fresh).value("otp_drafts", status="pending") == 1
    assert scraped(fresh).value("otp_store_read_ok") == 1


def test_a_store_that_cannot_be_read_leaves_its_gauges_out():
    unreachable = Database("postgresql+psycopg://otp:secret@127.0.0.1:9/otp", auto_migrate=False)
    started = time.monotonic()
    found = scraped(StoreCollector(unreachable, max_age=0, wait=2.0))
    assert time.monotonic() - started < 5
    assert found.value("otp_store_read_ok") == 0
    assert not [s for s in found.samples if s.name in ("otp_drafts", "otp_outbox_items", "otp_store_read_seconds")]
    assert "secret" not in found.text
