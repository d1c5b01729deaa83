"""Retention as it runs: the settings, a purge in short transactions, and the sweep the
outbox worker runs now and then. What may go is decided in store/domain/retention.py."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from otp_bot.bot.slack.settings import load
from otp_bot.store.db import Database
from otp_bot.store.domain import retention
from otp_bot.store.domain.clock import utcnow

log = logging.getLogger("otp_bot.retention")


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OTP_RETENTION_", env_file=".env", extra="ignore")

    # OTP_RETENTION_DAYS: finished outbox items older than this go; 0 keeps them all.
    days: int = Field(default=90, ge=0)
    # OTP_RETENTION_CHECK_SECONDS: how often a running server purges (the first time soon after start).
    check_seconds: float = Field(default=3600.0, gt=0)


def purge(db: Database, keep_days: int, *, dry_run: bool = False, now: dt.datetime | None = None) -> retention.Purged:
    """Everything old enough, in batches of its own transaction each; with `dry_run`, only counted."""
    now = now or utcnow()
    if dry_run:
        with db.session(readonly=True) as session:
            return retention.purgeable(session, keep_days, now)
    total = retention.Purged()
    while True:
        with db.session() as session:
            batch = retention.purge(session, keep_days, now)
        total += batch
        if max(batch.inbound_events, batch.outbox_items) < retention.BATCH:
            return total


class RetentionSweep:
    """Run by the outbox worker between rounds: purges once per `check_seconds`. Several
    processes may each run it; a delete of what another already deleted deletes nothing."""

    def __init__(self, db: Database, settings: RetentionSettings | None = None) -> None:
        self.db = db
        self.settings = settings or load(RetentionSettings)
        self._next = 0.0
        self._lock = threading.Lock()

    def run_if_due(self) -> retention.Purged | None:
        with self._lock:
            if time.monotonic() < self._next:
                return None
            self._next = time.monotonic() + self.settings.check_seconds
        try:
            purged = purge(self.db, self.settings.days)
        except Exception:
            log.exception("retention: the purge failed; trying again at the next check")
            return None
        if purged.total:
            log.info(
                "retention: purged %d inbound event(s) and %d finished outbox item(s) older than %d days",
                purged.inbound_events,
                purged.outbox_items,
                self.settings.days,
            )
        return purged
