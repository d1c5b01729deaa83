"""metric_values: an index led by the period, for the org-wide read of recent periods

The briefing and the scorecard read every metric's values from a period on. With only the
(metric_id, period_start, idem_key) key that was a scan of the whole table, which grows for
as long as the org records values. (period_start, id, metric_id, value, is_correction)
answers the read from the index alone, in id order within each period (the order values
are aggregated in: a correction restarts its period). Keyed by period then id, a push
(nearly all for the latest period) appends at the index's end rather than landing on a
page per metric, as it would with metric_id second.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_metric_values_period", "metric_values",
                    ["period_start", "id", "metric_id", "value", "is_correction"])


def downgrade() -> None:
    op.drop_index("ix_metric_values_period", table_name="metric_values")
