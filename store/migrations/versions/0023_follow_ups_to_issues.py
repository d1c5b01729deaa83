"""Off-track numbers become issues: every follow-up opened on a metric's miss moves to the
issues list (source `metric`, open, ranked after the open issues in the order they were
opened), and the follow-ups table goes. A downgrade brings the table back and moves the
metric issues into it.

Rows are read and written through SQLAlchemy Core, not SQL text, so the same steps run on
SQLite and PostgreSQL.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TITLE = 300  # issues.title

_meta = sa.MetaData()
follow_ups = sa.Table(
    "follow_ups",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("metric_id", sa.String(64)),
    sa.Column("seat_id", sa.String(64)),
    sa.Column("period", sa.Date),
    sa.Column("value", sa.Float),
    sa.Column("goal", sa.String(100)),
    sa.Column("owner_id", sa.String(64)),
    sa.Column("run_id", sa.Integer),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", TS),
)
issues = sa.Table(
    "issues",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("title", sa.String(300)),
    sa.Column("seat_id", sa.String(64)),
    sa.Column("status", sa.String(12)),
    sa.Column("rank", sa.Integer),
    sa.Column("source", sa.String(12)),
    sa.Column("metric_id", sa.String(64)),
    sa.Column("period", sa.Date),
    sa.Column("value", sa.Float),
    sa.Column("goal", sa.String(100)),
    sa.Column("run_id", sa.Integer),
    sa.Column("raised_by", sa.String(200)),
    sa.Column("raised_at", TS),
)
todos = sa.Table("todos", _meta, sa.Column("issue_id", sa.Integer))
metrics = sa.Table("metrics", _meta, sa.Column("id", sa.String(64)), sa.Column("name", sa.String(200)))
seats = sa.Table("seats", _meta, sa.Column("id", sa.String(64)), sa.Column("holder_id", sa.String(64)))
holders = sa.Table(
    "holders",
    _meta,
    sa.Column("id", sa.String(64)),
    sa.Column("kind", sa.String(8)),
    sa.Column("supervisor_id", sa.String(64)),
)


def upgrade() -> None:
    bind = op.get_bind()
    taken = set(bind.execute(sa.select(issues.c.metric_id, issues.c.period).where(issues.c.metric_id.is_not(None))))
    # After the open list as it stands: a follow-up was raised later than any issue there.
    rank = bind.scalar(sa.select(sa.func.max(issues.c.rank)).where(issues.c.status.in_(("open", "discussed")))) or 0
    rows = bind.execute(
        sa.select(follow_ups, metrics.c.name)
        .join(metrics, metrics.c.id == follow_ups.c.metric_id)
        .order_by(follow_ups.c.created_at, follow_ups.c.id)
    ).all()
    moved = []
    for f in rows:
        if (f.metric_id, f.period) in taken:  # already an issue: one per metric and period
            continue
        rank += 1
        moved.append(
            {
                "title": f"{f.name} off track"[:TITLE],
                "seat_id": f.seat_id,
                "status": "open",
                "rank": rank,
                "source": "metric",
                "metric_id": f.metric_id,
                "period": f.period,
                "value": f.value,
                "goal": f.goal,
                "run_id": f.run_id,
                "raised_by": f.created_by,
                "raised_at": f.created_at,
            }
        )
    if moved:
        bind.execute(issues.insert(), moved)
    op.drop_index(op.f("ix_follow_ups_seat_id"), table_name="follow_ups")
    op.drop_table("follow_ups")


def downgrade() -> None:
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
    bind = op.get_bind()
    # The owner as a follow-up kept it: the seat's human holder, or its agent's supervisor.
    holder = holders.alias("holder")
    rows = bind.execute(
        sa.select(issues, holder.c.id.label("holder_id"), holder.c.kind, holder.c.supervisor_id)
        .select_from(issues)
        .outerjoin(seats, seats.c.id == issues.c.seat_id)
        .outerjoin(holder, holder.c.id == seats.c.holder_id)
        # Only the issues still open were follow-ups' equals; a solved or dropped one keeps its
        # decision where it is (0022's table), so an upgrade again does not reopen it.
        .where(issues.c.source == "metric", issues.c.status.in_(("open", "discussed")))
        .order_by(issues.c.raised_at, issues.c.id)
    ).all()
    back = [
        {
            "metric_id": i.metric_id,
            "seat_id": i.seat_id,
            "period": i.period,
            "value": i.value if i.value is not None else 0.0,
            "goal": i.goal or "",
            "owner_id": i.holder_id if i.kind == "human" else i.supervisor_id,
            "run_id": i.run_id,
            "created_by": i.raised_by,
            "created_at": i.raised_at,
        }
        for i in rows
    ]
    if back:
        bind.execute(follow_ups.insert(), back)
        ids = [i.id for i in rows]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            bind.execute(todos.update().where(todos.c.issue_id.in_(part)).values(issue_id=None))
            bind.execute(issues.delete().where(issues.c.id.in_(part)))
