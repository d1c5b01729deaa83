"""The database holds the invariants too: writes that bypass the domain layer are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError, InternalError, OperationalError

from otp_bot.store.domain import audit
from otp_bot.store.domain.chart.chartfile.validation import validate_chart
from otp_bot.store.domain.chart.sync.apply import apply_chart
from otp_bot.store.models import AuditEntry, Holder, Metric, MetricValue, Seat, SeatHolding
from tests.support.charts import with_retired_accounting

REFUSED = (IntegrityError, InternalError, OperationalError)


@pytest.fixture
def org(db):
    data = with_retired_accounting()
    with db.session() as s:
        apply_chart(s, validate_chart(data, "t"), actor="t", source="t")
    return db


def refused(db, statement):
    with pytest.raises(REFUSED), db.session() as s:
        s.execute(statement)


def test_one_holder_per_seat_one_open_holding(org):
    now = dt.datetime.now(dt.UTC)
    refused(org, insert(SeatHolding).values(seat_id="retention", holder_id="dirk", started_at=now))


def test_agent_needs_a_supervisor(org):
    refused(org, insert(Holder).values(id="x", name="X", kind="agent", position=0))


def test_agent_supervisor_must_be_human(org):
    refused(org, insert(Holder).values(id="x", name="X", kind="agent", supervisor_id="pulse", position=0))
    refused(org, update(Holder).where(Holder.id == "dirk").values(supervisor_id="pulse"))


def test_active_seat_needs_holder_and_vacant_has_none(org):
    refused(org, update(Seat).where(Seat.id == "coo").values(holder_id=None))
    refused(org, update(Seat).where(Seat.id == "coo").values(status="vacant"))


def test_seat_cannot_report_to_itself(org):
    refused(org, update(Seat).where(Seat.id == "coo").values(reports_to_id="coo"))


def test_owns_is_unique_across_seats(org):
    refused(
        org,
        text(
            "INSERT INTO seat_owns (seat_id, topic, normalized, position) "
            "VALUES ('sales', 'Retention outreach', 'retention outreach', 9)"
        ),
    )


def test_retired_seat_takes_no_values(org):
    row = {
        "period_start": dt.date(2026, 11, 16),
        "value": 1,
        "is_correction": False,
        "source": "api",
        "entered_by": "x",
    }
    refused(org, insert(MetricValue).values(metric_id="ar-60", **row))
    # One retired seat's value among others refuses the whole statement, as a batch is sent.
    refused(
        org,
        insert(MetricValue).values(
            [dict(metric_id="won", **row), dict(metric_id="ar-60", **row), dict(metric_id="won", **row)]
        ),
    )
    with org.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(MetricValue).where(MetricValue.entered_by == "x")) == 0
    with org.session() as s:  # a live seat's values still go in, several to a statement
        s.execute(insert(MetricValue).values([dict(metric_id="won", **row)] * 2))


def test_unknown_kinds_units_and_goal_ops_are_refused(org):
    refused(org, update(Metric).where(Metric.id == "won").values(kind="parsecs"))
    refused(org, update(Metric).where(Metric.id == "won").values(kind="duration", unit="parsecs"))
    refused(org, update(Metric).where(Metric.id == "won").values(kind="currency"))  # money has a currency
    refused(org, update(Metric).where(Metric.id == "won").values(currency="EUR"))  # and nothing else does
    refused(org, update(Metric).where(Metric.id == "won").values(goal_op="~"))


def test_value_idempotency_key_is_unique_per_metric_and_period(org):
    row = {
        "metric_id": "won",
        "period_start": dt.date(2026, 11, 16),
        "value": 1,
        "is_correction": False,
        "source": "api",
        "entered_by": "x",
        "idem_key": "k",
    }
    with org.session() as s:
        s.execute(insert(MetricValue).values(**row))
    refused(org, insert(MetricValue).values(**row))


def test_audit_chain_detects_tampering(org):
    with org.session() as s:
        assert audit.verify(s) is None
        entries = s.query(AuditEntry).order_by(AuditEntry.id).all()
        target = entries[len(entries) // 2]
    with org.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == target.id).values(actor="someone-else"))
    with org.session() as s:
        broken = audit.verify(s)
        assert broken is not None and broken.id == target.id


def test_an_event_is_claimed_once(db):
    from otp_bot.store.domain.inbound import first_delivery

    with db.session() as s:
        assert first_delivery(s, "Ev1") is True
    with db.session() as s:
        assert first_delivery(s, "Ev1") is False
        assert first_delivery(s, "Ev2") is True


def test_the_migrations_build_exactly_the_models(db):
    """A model changed without a migration (or the reverse) shows here, on either backend."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from otp_bot.store.models import Base

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []
