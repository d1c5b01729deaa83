"""outbox and schedule runs: fenced ownership and the landing of the first attempt

`outbox.fence` is bumped by every claim; a worker re-confirms it right before each call
to Slack or a callback, and its outcome counts only while it still matches, so a worker
whose lease ran out and whose item was taken over never calls out and never overwrites
the new owner's outcome. `started_at` is when the first attempt was about to call out
(where a retry starts looking for what landed); `landed_channel`/`landed_ts` are what
Slack answered, recorded the moment it answered. Schedule runs fence on `attempts`
(every claim or take-over bumps it) and gain `started_at` for the same look-up.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("fence", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("started_at", TS, nullable=True))
        batch.add_column(sa.Column("landed_channel", sa.String(64), nullable=True))
        batch.add_column(sa.Column("landed_ts", sa.String(32), nullable=True))
    with op.batch_alter_table("schedule_runs") as batch:
        batch.add_column(sa.Column("started_at", TS, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schedule_runs") as batch:
        batch.drop_column("started_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("landed_ts")
        batch.drop_column("landed_channel")
        batch.drop_column("started_at")
        batch.drop_column("fence")
