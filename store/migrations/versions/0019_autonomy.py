"""Graduated autonomy: a route's `autonomy` rule, and the grants seats earn on the record

`approval_routes` gains `autonomy` (JSON: kinds, after, sample). `autonomy_grants` keeps
each grant of approval by policy for a seat and kind, and its revocation; at most one live
grant per seat and kind.

The database's rule that a draft is approved only with the approvals it requires (0004)
gains one exception, held by the database too: a draft approved by policy
(`decided_by = 'policy:autonomy'`) needs none, if it is not customer-facing and its seat
holds a live grant for its kind. So no writer can approve a customer-facing draft by policy.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

APPROVALS = "SELECT count(*) FROM draft_decisions WHERE draft_id = NEW.id AND verdict = 'approve'"
NOT_APPROVED = "a draft is approved only with the approvals it requires"
BY_POLICY = (
    "NEW.decided_by = 'policy:autonomy' AND NOT NEW.customer_facing AND EXISTS (SELECT 1 FROM autonomy_grants "
    "WHERE seat_id = NEW.seat_id AND kind = NEW.kind AND revoked_at IS NULL)"
)


def _approval_rule(exception: str | None) -> None:
    unless = f" AND NOT ({exception})" if exception else ""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS drafts_approved_needs_approvals")
        op.execute(f"""
            CREATE TRIGGER drafts_approved_needs_approvals BEFORE UPDATE OF status ON drafts
            WHEN NEW.status = 'approved' AND ({APPROVALS}) < NEW.required{unless}
            BEGIN SELECT RAISE(ABORT, '{NOT_APPROVED}'); END""")
        return
    op.execute(f"""
        CREATE OR REPLACE FUNCTION otp_drafts_approved_needs_approvals() RETURNS trigger AS $$
        BEGIN
            IF NEW.status = 'approved' AND ({APPROVALS}) < NEW.required{unless} THEN
                RAISE EXCEPTION '{NOT_APPROVED}' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")


def upgrade() -> None:
    with op.batch_alter_table("approval_routes") as batch:
        batch.add_column(sa.Column("autonomy", sa.JSON(), nullable=True))
    op.create_table(
        "autonomy_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("earned", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_autonomy_grants_seat_id_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autonomy_grants")),
    )
    op.create_index(op.f("ix_autonomy_grants_seat_id"), "autonomy_grants", ["seat_id"])
    op.create_index(
        "uq_autonomy_grants_live",
        "autonomy_grants",
        ["seat_id", "kind"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    _approval_rule(BY_POLICY)


def downgrade() -> None:
    _approval_rule(None)
    op.drop_index("uq_autonomy_grants_live", table_name="autonomy_grants")
    op.drop_index(op.f("ix_autonomy_grants_seat_id"), table_name="autonomy_grants")
    op.drop_table("autonomy_grants")
    with op.batch_alter_table("approval_routes") as batch:
        batch.drop_column("autonomy")
