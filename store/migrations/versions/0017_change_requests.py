"""Request changes: a draft's status `changes-requested`, its revision, and a route's round cap

An approver may ask for changes instead of approving or rejecting: the draft becomes
`changes-requested` and the request (who, when, what) is kept in `draft_change_requests`,
one per draft. The drafting seat answers with a revision, a new draft whose `revises` names
the original; the original then becomes `revised`. A draft is revised at most once: the
unique key on `revises` says so, whatever the code does. `round` counts the versions (1 for
a first draft), and a route's `max_rounds` caps them (None: the default, 3).

`drafts.status` widens from 10 characters, so SQLite rebuilds the table: foreign keys off
for the rebuild, and the triggers that read drafts (its own and the outbox's) set aside
and put back after. PostgreSQL alters the column in place, but not while a trigger names
it: the triggers on drafts are set aside the same way.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('held', 'pending', 'approved', 'rejected', 'expired', 'withdrawn')"
STATUSES = (
    "status IN ('held', 'pending', 'approved', 'rejected', 'expired', 'withdrawn', 'changes-requested', 'revised')"
)

_saved_triggers: list[str] = []


def _rebuilding(start: bool) -> None:
    """SQLite only: see the module's docstring (and 0014, which does the same for metrics)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        if start:
            found = bind.exec_driver_sql(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = 'drafts'::regclass AND NOT tgisinternal").fetchall()
            _saved_triggers[:] = [sql for _, sql in found]
            for name, _ in found:
                bind.exec_driver_sql(f'DROP TRIGGER "{name}" ON drafts')
        else:
            for sql in _saved_triggers:
                bind.exec_driver_sql(sql)
        return
    if bind.dialect.name != "sqlite":
        return
    if start:
        found = bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%drafts%'").fetchall()
        _saved_triggers[:] = [sql for _, sql in found]
        for name, _ in found:
            bind.exec_driver_sql(f'DROP TRIGGER "{name}"')
    else:
        for sql in _saved_triggers:
            bind.exec_driver_sql(sql)
        problems = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        assert not problems, f"the rebuild of drafts left dangling references: {problems[:5]}"
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql(f"PRAGMA foreign_keys = {'OFF' if start else 'ON'}")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    op.add_column("approval_routes", sa.Column("max_rounds", sa.Integer(), nullable=True))
    _rebuilding(True)
    with op.batch_alter_table("drafts") as batch:
        batch.drop_constraint(op.f("ck_drafts_status"), type_="check")
        batch.alter_column("status", existing_type=sa.String(10), type_=sa.String(20), existing_nullable=False)
        batch.add_column(sa.Column("revises", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="1"))
        batch.create_check_constraint("status", STATUSES)
        batch.create_check_constraint("round", "round >= 1")
        batch.create_foreign_key(op.f("fk_drafts_revises_drafts"), "drafts", ["revises"], ["id"])
        batch.create_unique_constraint("uq_drafts_revises", ["revises"])
    _rebuilding(False)
    op.create_table(
        "draft_change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_draft_change_requests_draft_id_drafts")),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_draft_change_requests_holder_id_holders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_change_requests")),
        sa.UniqueConstraint("draft_id", name="uq_draft_change_requests_once"),
    )


def downgrade() -> None:
    op.drop_table("draft_change_requests")
    # A draft whose changes were asked for reads, in the older schema, as rejected with the request as reason.
    op.execute("UPDATE drafts SET status = 'rejected', reason = coalesce(reason, 'changes requested') "
               "WHERE status IN ('changes-requested', 'revised')")
    _rebuilding(True)
    with op.batch_alter_table("drafts") as batch:
        batch.drop_constraint("uq_drafts_revises", type_="unique")
        batch.drop_constraint(op.f("fk_drafts_revises_drafts"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_drafts_round"), type_="check")
        batch.drop_constraint(op.f("ck_drafts_status"), type_="check")
        batch.drop_column("round")
        batch.drop_column("revises")
        batch.alter_column("status", existing_type=sa.String(20), type_=sa.String(10), existing_nullable=False)
        batch.create_check_constraint("status", OLD_STATUSES)
    _rebuilding(False)
    with op.batch_alter_table("approval_routes") as batch:
        batch.drop_column("max_rounds")
