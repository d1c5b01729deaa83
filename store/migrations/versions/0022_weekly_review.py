"""The weekly operating review: issues, to-dos (and their weekly checks), rocks, the review
meetings, the headlines collected for them, and the review's setup from the chart file

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "headlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_week", sa.Date(), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("via", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["holders.id"], name=op.f("fk_headlines_holder_id_holders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_headlines")),
        sa.UniqueConstraint("review_week", "holder_id", name="uq_headlines_once"),
    )
    op.create_table(
        "review_setup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("facilitator_id", sa.String(length=64), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("headlines_ahead", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_review_setup_single")),
        sa.ForeignKeyConstraint(
            ["facilitator_id"], ["holders.id"], name=op.f("fk_review_setup_facilitator_id_holders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_setup")),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("section", sa.String(length=12), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("facilitator_id", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=200), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "section IS NULL OR section IN ('scorecard', 'rocks', 'headlines', 'todos', 'issues')",
            name=op.f("ck_reviews_section"),
        ),
        sa.CheckConstraint("status IN ('open', 'running', 'ended', 'not-held')", name=op.f("ck_reviews_status")),
        sa.ForeignKeyConstraint(["facilitator_id"], ["holders.id"], name=op.f("fk_reviews_facilitator_id_holders")),
        sa.ForeignKeyConstraint(["run_id"], ["schedule_runs.id"], name=op.f("fk_reviews_run_id_schedule_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("week", name="uq_reviews_week"),
    )
    op.create_table(
        "rocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("track", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("proposed_track", sa.String(length=3), nullable=True),
        sa.Column("proposed_by", sa.String(length=200), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("track_set_by", sa.String(length=200), nullable=True),
        sa.Column("track_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "proposed_track IS NULL OR proposed_track IN ('on', 'off')", name=op.f("ck_rocks_proposed_track")
        ),
        sa.CheckConstraint("status IN ('open', 'done', 'dropped')", name=op.f("ck_rocks_status")),
        sa.CheckConstraint("track IN ('on', 'off')", name=op.f("ck_rocks_track")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_rocks_seat_id_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rocks")),
    )
    op.create_index("ix_rocks_seat_quarter", "rocks", ["seat_id", "quarter"], unique=False)
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("metric_id", sa.String(length=64), nullable=True),
        sa.Column("period", sa.Date(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("goal", sa.String(length=100), nullable=True),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("message_ref", sa.String(length=300), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("raised_by", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("discussed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source <> 'metric' OR (metric_id IS NOT NULL AND period IS NOT NULL)", name=op.f("ck_issues_metric_source")
        ),
        sa.CheckConstraint(
            "source IN ('manual', 'metric', 'draft', 'message', 'review')", name=op.f("ck_issues_source")
        ),
        sa.CheckConstraint("status IN ('open', 'discussed', 'solved', 'dropped')", name=op.f("ck_issues_status")),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_issues_draft_id_drafts")),
        sa.ForeignKeyConstraint(["metric_id"], ["metrics.id"], name=op.f("fk_issues_metric_id_metrics")),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_issues_review_id_reviews")),
        sa.ForeignKeyConstraint(["run_id"], ["schedule_runs.id"], name=op.f("fk_issues_run_id_schedule_runs")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_issues_seat_id_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issues")),
        sa.UniqueConstraint("metric_id", "period", name="uq_issues_metric_period"),
    )
    op.create_index("ix_issues_seat", "issues", ["seat_id", "status"], unique=False)
    op.create_index("ix_issues_status_rank", "issues", ["status", "rank"], unique=False)
    op.create_table(
        "todos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done', 'dropped')", name=op.f("ck_todos_status")),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], name=op.f("fk_todos_issue_id_issues")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_todos_seat_id_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_todos")),
    )
    op.create_index("ix_todos_due", "todos", ["status", "due"], unique=False)
    op.create_index("ix_todos_seat", "todos", ["seat_id", "status"], unique=False)
    op.create_table(
        "todo_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("todo_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("seat_id", sa.String(length=64), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("checked_by", sa.String(length=200), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], name=op.f("fk_todo_checks_review_id_reviews")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_todo_checks_seat_id_seats")),
        sa.ForeignKeyConstraint(["todo_id"], ["todos.id"], name=op.f("fk_todo_checks_todo_id_todos")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_todo_checks")),
        sa.UniqueConstraint("todo_id", "week", name="uq_todo_checks_once"),
    )
    op.create_index("ix_todo_checks_week", "todo_checks", ["week"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_todo_checks_week", table_name="todo_checks")
    op.drop_table("todo_checks")
    op.drop_index("ix_todos_seat", table_name="todos")
    op.drop_index("ix_todos_due", table_name="todos")
    op.drop_table("todos")
    op.drop_index("ix_issues_status_rank", table_name="issues")
    op.drop_index("ix_issues_seat", table_name="issues")
    op.drop_table("issues")
    op.drop_index("ix_rocks_seat_quarter", table_name="rocks")
    op.drop_table("rocks")
    op.drop_table("reviews")
    op.drop_table("review_setup")
    op.drop_table("headlines")
