"""seat_activity: when a value was last recorded for each seat's metrics

The daily briefing says what each agent did last. Its last value was found among every value
of the recent periods (about eight weeks), grouped by seat: on PostgreSQL, a scan of most of
the values table per briefing. One row per seat, moved forward as each value is written, answers it directly.

Filled from the values already stored: each seat's latest `recorded_at`.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seat_activity",
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("last_value_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["seat_id"], ["seats.id"], name=op.f("fk_seat_activity_seat_id_seats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seat_id", name=op.f("pk_seat_activity")),
    )
    op.execute(
        "INSERT INTO seat_activity (seat_id, last_value_at)"
        " SELECT m.seat_id, max(v.recorded_at) FROM metric_values v JOIN metrics m ON m.id = v.metric_id"
        " GROUP BY m.seat_id"
    )


def downgrade() -> None:
    op.drop_table("seat_activity")
