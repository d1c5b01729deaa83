"""metric_values: drop the (metric_id, period_start) index; the unique key covers it

The unique key (metric_id, period_start, idem_key) starts with the same two columns, so
every look-up by metric and period can use it. The second index only doubled the cost of
each insert: a batch of values spread over many metrics dirties a page of each index per
value (on SQLite about 40% of a 1,000-value push over HTTP).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_metric_values_metric_period", table_name="metric_values")


def downgrade() -> None:
    op.create_index("ix_metric_values_metric_period", "metric_values", ["metric_id", "period_start"])
