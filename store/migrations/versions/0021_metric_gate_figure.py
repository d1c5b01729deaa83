"""metrics.gate_figure: a metric measured at the human gate

A chart file's metric may say `gate: approval-rate` (or another trust-ledger figure): its
values are computed per period from the seat's drafts and decisions when the scorecard is
read, and it takes none by hand. A plain nullable column: no table rebuild.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("gate_figure", sa.String(32), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ and PostgreSQL): a rebuild of `metrics` would drop the
    # trigger on metric_values that reads it.
    op.drop_column("metrics", "gate_figure")
