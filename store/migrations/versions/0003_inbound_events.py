"""Slack event deliveries already handled, for deduplicating Slack's retries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbound_events")),
    )
    op.create_index(op.f("ix_inbound_events_received_at"), "inbound_events", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_events_received_at"), table_name="inbound_events")
    op.drop_table("inbound_events")
