"""Gauges read at scrape time: how drafts, the outbox and schedule runs stand in the store
(store/domain/gauges.py), and what is kept per chart version (store/domain/chart/cache.py).

A scrape must never hurt the service, so the store is read:
- at most once per `max_age` seconds, whoever scrapes (two Prometheus servers, a person with
  curl): the last reading is served meanwhile;
- by one reading at a time, in a thread of its own: a scrape waits `wait` seconds for it at
  most, then answers without the store's gauges (`otp_store_read_ok` 0) rather than hold up;
- on PostgreSQL, under a statement timeout, so a slow count is cancelled by the server.
A reading that failed is not served again: stale numbers would look current.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import text

from otp_bot.store.db import Database
from otp_bot.store.domain.chart.cache import KeptState, kept_states
from otp_bot.store.domain.gauges import Gauges, read_gauges

log = logging.getLogger("otp_bot.metrics")

MAX_AGE = 5.0  # seconds a reading is served for
WAIT = 2.0  # seconds a scrape waits for a reading
STATEMENT_TIMEOUT_MS = 2000


class StoreCollector:
    """The store's gauges for one database (one per web app: tests run several side by side)."""

    def __init__(self, db: Database, *, max_age: float = MAX_AGE, wait: float = WAIT) -> None:
        self.db, self.max_age, self.wait = db, max_age, wait
        self._lock = threading.Lock()
        self._kept: tuple[float, Gauges, float] | None = None  # (when read, what, seconds it took)
        self._reading: Future[tuple[float, Gauges, float]] | None = None

    def describe(self) -> Iterator[Metric]:
        # The names, for the registry's duplicate check, without reading the store.
        yield from _families(None, 0.0, [])

    def collect(self) -> Iterator[Metric]:
        reading = self._reading_now()
        if reading is None:
            yield from _families(None, 0.0, kept_states(str(self.db.engine.url)))
        else:
            yield from _families(reading[1], reading[2], kept_states(str(self.db.engine.url)))

    def _reading_now(self) -> tuple[float, Gauges, float] | None:
        with self._lock:
            if self._kept is not None and time.monotonic() - self._kept[0] < self.max_age:
                return self._kept
            if self._reading is None or self._reading.done():
                self._reading = Future()
                threading.Thread(target=self._read, args=(self._reading,), name="otp-metrics", daemon=True).start()
            reading = self._reading
        try:
            return reading.result(timeout=self.wait)
        except FutureTimeout:
            log.warning("the store's gauges took over %.0f s to read; this scrape goes without them", self.wait)
        except Exception as exc:
            log.warning("could not read the store's gauges: %s", type(exc).__name__)
        return None

    def _read(self, into: Future[tuple[float, Gauges, float]]) -> None:
        started = time.perf_counter()
        try:
            with self.db.session(readonly=True) as session:
                if not self.db.is_sqlite:  # PostgreSQL cancels the counts past this; SQLite readers never wait
                    session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
                gauges = read_gauges(session)
        except Exception as exc:
            with self._lock:
                self._kept = None
            into.set_exception(exc)
            return
        reading = (time.monotonic(), gauges, time.perf_counter() - started)
        with self._lock:
            self._kept = reading
        into.set_result(reading)


def _families(gauges: Gauges | None, seconds: float, kept: list[KeptState]) -> Iterator[Metric]:
    ok = GaugeMetricFamily("otp_store_read_ok", "1 when the store's gauges below were read for this scrape, else 0.")
    ok.add_metric([], 1 if gauges is not None else 0)
    yield ok
    took = GaugeMetricFamily("otp_store_read_seconds", "How long the last reading of the store's gauges took.")
    if gauges is not None:
        took.add_metric([], seconds)
    yield took

    drafts = GaugeMetricFamily(
        "otp_drafts",
        "Drafts by status: held and pending wait for a decision, changes-requested for a revision; "
        "approved, rejected, expired, withdrawn and revised are done.",
        labels=["status"],
    )
    delivery = GaugeMetricFamily(
        "otp_draft_deliveries",
        "Drafts by delivery state (none: not approved or nothing to send; failed: waiting for a person's retry).",
        labels=["state"],
    )
    outbox = GaugeMetricFamily(
        "otp_outbox_items",
        "Outbox items not done, by status (pending: due or waiting to retry; failed: given up) and kind.",
        labels=["status", "kind"],
    )
    oldest = GaugeMetricFamily(
        "otp_outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox item (0 when none waits)."
    )
    runs = GaugeMetricFamily(
        "otp_schedule_run_records", "Schedule runs in the store by post and status.", labels=["post", "status"]
    )
    if gauges is not None:
        for status, n in gauges.drafts.items():
            drafts.add_metric([status], n)
        for delivery_state, n in gauges.deliveries.items():
            delivery.add_metric([delivery_state], n)
        for (status, kind), n in gauges.outbox.items():
            outbox.add_metric([status, kind], n)
        oldest.add_metric([], gauges.oldest_pending_seconds)
        for (post, status), n in gauges.schedule_runs.items():
            runs.add_metric([post, status], n)
    yield from (drafts, delivery, outbox, oldest, runs)

    versions = GaugeMetricFamily(
        "otp_chart_cache_versions", "Chart versions kept in memory, by what is built from the chart.", labels=["cache"]
    )
    builds = CounterMetricFamily(
        "otp_chart_cache_builds", "Builds kept since the process started, by cache.", labels=["cache"]
    )
    build_seconds = GaugeMetricFamily(
        "otp_chart_cache_last_build_seconds", "How long the last kept build took, by cache.", labels=["cache"]
    )
    built_at = GaugeMetricFamily(
        "otp_chart_cache_last_build_timestamp_seconds",
        "When the last kept build finished (Unix time).",
        labels=["cache"],
    )
    for state in kept:
        versions.add_metric([state.what], state.versions)
        builds.add_metric([state.what], state.builds)
        build_seconds.add_metric([state.what], state.last_build_seconds)
        built_at.add_metric([state.what], state.last_built_at)
    yield from (versions, builds, build_seconds, built_at)
