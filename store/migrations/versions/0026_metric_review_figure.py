"""metrics.review_figure: a metric measured from the weekly review

A chart file's metric may say `review: todo-completion`: its weekly value is the share of
the seat's to-dos checked at that week's review that were done, computed when the scorecard
is read; it takes none by hand. It sets the goal (and the name) of the seat's to-do
completion row, which every seat with checked to-dos has anyway (at >= 90%). A plain
nullable column: no table rebuild.

Revision ID: 0026
Revises: 0022
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("review_figure", sa.String(32), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ and PostgreSQL), as 0021 drops gate_figure.
    op.drop_column("metrics", "review_figure")
