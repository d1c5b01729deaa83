"""metrics.review_figure: a metric measured from the weekly review; to-do checks by week and seat

A chart file's metric may say `review: todo-completion`: its weekly value is the share of
the seat's to-dos checked at that week's review that were done, computed when the scorecard
is read; it takes none by hand. It sets the goal (and the name) of the seat's to-do
completion row, which every seat with checked to-dos has anyway (at >= 90%). A plain
nullable column: no table rebuild.

Every seat's completion rate is read at once, week by week: an index on (week, seat_id,
done) answers it from the index alone, grouped in its order.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("review_figure", sa.String(32), nullable=True))
    op.create_index("ix_todo_checks_week_seat", "todo_checks", ["week", "seat_id", "done"])


def downgrade() -> None:
    op.drop_index("ix_todo_checks_week_seat", table_name="todo_checks")
    # Dropped in place (SQLite 3.35+ and PostgreSQL), as 0021 drops gate_figure.
    op.drop_column("metrics", "review_figure")
