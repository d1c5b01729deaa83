"""The operating rhythm: schedule runs claimed once per period, follow-ups on off-track metrics,
and a schedule's working days and grace window

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(sa.Column("working_days", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("grace", sa.Integer(), nullable=True))

    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(100), nullable=False),
        sa.Column("post", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("posted_at", TS, nullable=True),
        sa.Column("posted_channel", sa.String(64), nullable=True),
        sa.Column("posted_ts", sa.String(32), nullable=True),
        sa.Column("file_id", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('claimed', 'posted', 'skipped', 'failed')", name=op.f("ck_schedule_runs_status")),
        sa.CheckConstraint("post IN ('briefing', 'scorecard')", name=op.f("ck_schedule_runs_post")),
        sa.CheckConstraint("status <> 'posted' OR posted_ts IS NOT NULL", name=op.f("ck_schedule_runs_posted_has_ts")),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_schedule_runs_seq")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
        sa.UniqueConstraint("schedule", "period", "seq", name="uq_schedule_runs_once"),
    )
    op.create_index("ix_schedule_runs_status", "schedule_runs", ["status", "locked_until"])
    op.create_index("ix_schedule_runs_posted", "schedule_runs", ["posted_channel", "posted_ts"])
    op.create_index("ix_schedule_runs_post", "schedule_runs", ["post", "status", "posted_at"])

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.String(64), nullable=False),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("goal", sa.String(100), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["metric_id"], ["metrics.id"], name=op.f("fk_follow_ups_metric_id_metrics")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_follow_ups_seat_id_seats")),
        sa.ForeignKeyConstraint(["owner_id"], ["holders.id"], name=op.f("fk_follow_ups_owner_id_holders")),
        sa.ForeignKeyConstraint(["run_id"], ["schedule_runs.id"], name=op.f("fk_follow_ups_run_id_schedule_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("metric_id", "period", name="uq_follow_ups_once"),
    )
    op.create_index(op.f("ix_follow_ups_seat_id"), "follow_ups", ["seat_id"])


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("schedule_runs")
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("grace")
        batch.drop_column("working_days")
