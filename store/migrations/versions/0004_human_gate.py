"""The human gate: flags, drafts, decisions, the messages that carry them, the outbox

Two rules are held by the database as well as the domain layer, so no writer can skip
them: a draft becomes `approved` only with as many approvals as it requires, and a
delivery is queued only for an approved draft.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
APPROVALS = "SELECT count(*) FROM draft_decisions WHERE draft_id = NEW.id AND verdict = 'approve'"
DRAFT_STATUS = "SELECT status FROM drafts WHERE id = NEW.draft_id"
NOT_APPROVED = "a draft is approved only with the approvals it requires"
NOT_DELIVERABLE = "only an approved draft can be delivered"


def upgrade() -> None:
    with op.batch_alter_table("approval_routes") as batch:
        for column in ("remind_after", "escalate_after", "expires_after"):
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))

    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("flag", sa.String(64), nullable=False),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.Column("until", TS, nullable=True),
        sa.Column("lifted_at", TS, nullable=True),
        sa.Column("lifted_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_flags_seat_id_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
    )
    op.create_index(op.f("ix_flags_subject"), "flags", ["subject"])
    op.create_index("uq_flags_active", "flags", ["subject", "flag", "seat_id"], unique=True,
                    sqlite_where=sa.text("lifted_at IS NULL"), postgresql_where=sa.text("lifted_at IS NULL"))

    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("drafted_by", sa.String(64), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("customer_facing", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("destination", sa.String(500), nullable=True),
        sa.Column("idem_key", sa.String(200), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("held_by_policy", sa.String(100), nullable=True),
        sa.Column("route_channel", sa.String(64), nullable=False),
        sa.Column("approvers", sa.JSON(), nullable=False),
        sa.Column("usergroup", sa.String(64), nullable=True),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("final_body", sa.Text(), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("queued_at", TS, nullable=True),
        sa.Column("remind_at", TS, nullable=True),
        sa.Column("escalate_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("reminded_at", TS, nullable=True),
        sa.Column("escalated_to", sa.String(64), nullable=True),
        sa.Column("delivery", sa.String(10), nullable=False),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('held', 'pending', 'approved', 'rejected', 'expired', 'withdrawn')",
                           name=op.f("ck_drafts_status")),
        sa.CheckConstraint("delivery IN ('none', 'pending', 'delivered', 'failed')", name=op.f("ck_drafts_delivery")),
        sa.CheckConstraint("required >= 1", name=op.f("ck_drafts_required")),
        sa.CheckConstraint("status <> 'approved' OR final_body IS NOT NULL", name=op.f("ck_drafts_approved_has_text")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_drafts_seat_id_seats")),
        sa.ForeignKeyConstraint(["drafted_by"], ["holders.id"], name=op.f("fk_drafts_drafted_by_holders")),
        sa.ForeignKeyConstraint(["escalated_to"], ["holders.id"], name=op.f("fk_drafts_escalated_to_holders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
        sa.UniqueConstraint("seat_id", "idem_key", name="uq_drafts_idem"),
    )
    op.create_index(op.f("ix_drafts_seat_id"), "drafts", ["seat_id"])
    op.create_index(op.f("ix_drafts_subject"), "drafts", ["subject"])
    op.create_index("ix_drafts_status_expires", "drafts", ["status", "expires_at"])

    op.create_table(
        "draft_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("edited_body", sa.Text(), nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.CheckConstraint("verdict IN ('approve', 'reject')", name=op.f("ck_draft_decisions_verdict")),
        sa.CheckConstraint("verdict <> 'reject' OR reason IS NOT NULL", name=op.f("ck_draft_decisions_reject_has_reason")),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_draft_decisions_draft_id_drafts")),
        sa.ForeignKeyConstraint(["holder_id"], ["holders.id"], name=op.f("fk_draft_decisions_holder_id_holders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_decisions")),
        sa.UniqueConstraint("draft_id", "holder_id", name="uq_draft_decisions_once"),
    )
    op.create_index(op.f("ix_draft_decisions_draft_id"), "draft_decisions", ["draft_id"])

    op.create_table(
        "draft_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_draft_messages_draft_id_drafts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_messages")),
        sa.UniqueConstraint("channel", "ts", name="uq_draft_messages_channel_ts"),
    )
    op.create_index(op.f("ix_draft_messages_draft_id"), "draft_messages", ["draft_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.CheckConstraint("kind IN ('approval_post', 'approval_update', 'notify', 'deliver')", name=op.f("ck_outbox_kind")),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name=op.f("ck_outbox_status")),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"], name=op.f("fk_outbox_draft_id_drafts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index(op.f("ix_outbox_draft_id"), "outbox", ["draft_id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])

    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"""
            CREATE TRIGGER drafts_approved_needs_approvals BEFORE UPDATE OF status ON drafts
            WHEN NEW.status = 'approved' AND ({APPROVALS}) < NEW.required
            BEGIN SELECT RAISE(ABORT, '{NOT_APPROVED}'); END""")
        op.execute(f"""
            CREATE TRIGGER drafts_insert_not_approved BEFORE INSERT ON drafts
            WHEN NEW.status = 'approved'
            BEGIN SELECT RAISE(ABORT, '{NOT_APPROVED}'); END""")
        op.execute(f"""
            CREATE TRIGGER outbox_deliver_approved BEFORE INSERT ON outbox
            WHEN NEW.kind = 'deliver' AND coalesce(({DRAFT_STATUS}), '') <> 'approved'
            BEGIN SELECT RAISE(ABORT, '{NOT_DELIVERABLE}'); END""")
        return
    op.execute(f"""
        CREATE FUNCTION otp_drafts_approved_needs_approvals() RETURNS trigger AS $$
        BEGIN
            IF NEW.status = 'approved' AND ({APPROVALS}) < NEW.required THEN
                RAISE EXCEPTION '{NOT_APPROVED}' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER drafts_approved_needs_approvals BEFORE INSERT OR UPDATE OF status ON drafts
        FOR EACH ROW EXECUTE FUNCTION otp_drafts_approved_needs_approvals()""")
    op.execute(f"""
        CREATE FUNCTION otp_outbox_deliver_approved() RETURNS trigger AS $$
        BEGIN
            IF NEW.kind = 'deliver' AND coalesce(({DRAFT_STATUS}), '') <> 'approved' THEN
                RAISE EXCEPTION '{NOT_DELIVERABLE}' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER outbox_deliver_approved BEFORE INSERT ON outbox
        FOR EACH ROW EXECUTE FUNCTION otp_outbox_deliver_approved()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("drafts_approved_needs_approvals", "drafts_insert_not_approved", "outbox_deliver_approved"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS outbox_deliver_approved ON outbox")
        op.execute("DROP TRIGGER IF EXISTS drafts_approved_needs_approvals ON drafts")
        op.execute("DROP FUNCTION IF EXISTS otp_outbox_deliver_approved()")
        op.execute("DROP FUNCTION IF EXISTS otp_drafts_approved_needs_approvals()")
    for table in ("outbox", "draft_messages", "draft_decisions", "drafts", "flags"):
        op.drop_table(table)
    with op.batch_alter_table("approval_routes") as batch:
        for column in ("expires_after", "escalate_after", "remind_after"):
            batch.drop_column(column)
