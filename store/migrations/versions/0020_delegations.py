"""The delegations table: out-of-office delegation of a person's approvals for a period

A row says the delegator's approvals may be decided by the delegate from `starts_at`
until `ends_at`; ending one early sets `ended_at` and keeps the row. A decision made as a
delegate names the person it was made for (`draft_decisions.on_behalf_of`), and counts as theirs.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator_id", sa.String(64), nullable=False),
        sa.Column("delegate_id", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("delegator_id <> delegate_id", name=op.f("ck_delegations_not_self")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_delegations_period")),
        sa.ForeignKeyConstraint(["delegator_id"], ["holders.id"], name=op.f("fk_delegations_delegator_id_holders")),
        sa.ForeignKeyConstraint(["delegate_id"], ["holders.id"], name=op.f("fk_delegations_delegate_id_holders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
    )
    op.create_index("ix_delegations_delegate", "delegations", ["delegate_id", "ends_at"])
    op.create_index("ix_delegations_delegator", "delegations", ["delegator_id", "ends_at"])
    # Not a batch: rebuilding `draft_decisions` on SQLite is not needed to add a column.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE draft_decisions ADD COLUMN on_behalf_of VARCHAR(64) "
            "CONSTRAINT fk_draft_decisions_on_behalf_of_holders REFERENCES holders (id)"
        )
    else:
        op.add_column("draft_decisions", sa.Column("on_behalf_of", sa.String(64), nullable=True))
        op.create_foreign_key(
            op.f("fk_draft_decisions_on_behalf_of_holders"), "draft_decisions", "holders", ["on_behalf_of"], ["id"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a column with a foreign key in place: the table is rebuilt without
        # it. The trigger on `drafts` that counts its approvals names it; the legacy rename lets
        # the rebuilt table take the name without SQLite checking that trigger midway.
        op.execute("PRAGMA legacy_alter_table = ON")
        with op.batch_alter_table("draft_decisions", recreate="always") as batch:
            batch.drop_column("on_behalf_of")
        op.execute("PRAGMA legacy_alter_table = OFF")
    else:
        op.drop_constraint(op.f("fk_draft_decisions_on_behalf_of_holders"), "draft_decisions", type_="foreignkey")
        op.drop_column("draft_decisions", "on_behalf_of")
    op.drop_index("ix_delegations_delegator", table_name="delegations")
    op.drop_index("ix_delegations_delegate", table_name="delegations")
    op.drop_table("delegations")
