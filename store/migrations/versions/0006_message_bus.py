"""The message bus: seat-to-seat messages, and their mirror in a coordination channel

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
KINDS_BEFORE = ("approval_post", "approval_update", "notify", "deliver")
KINDS_AFTER = (*KINDS_BEFORE, "bus_mirror")
# Recreating a SQLite table drops its triggers; 0004's trigger on the outbox is restored.
DELIVER_TRIGGER = """
    CREATE TRIGGER outbox_deliver_approved BEFORE INSERT ON outbox
    WHEN NEW.kind = 'deliver' AND coalesce((SELECT status FROM drafts WHERE id = NEW.draft_id), '') <> 'approved'
    BEGIN SELECT RAISE(ABORT, 'only an approved draft can be delivered'); END"""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _outbox_kinds(kinds: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("outbox", recreate="always" if sqlite else "never") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_kind"), _in("kind", kinds))
    if sqlite:
        op.execute(DELIVER_TRIGGER)


def upgrade() -> None:
    with op.batch_alter_table("org") as batch:
        batch.add_column(sa.Column("coordination_channel", sa.String(64), nullable=True))
    _outbox_kinds(KINDS_AFTER)

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_seat_id", sa.String(64), nullable=False),
        sa.Column("to_seat_id", sa.String(64), nullable=False),
        sa.Column("performative", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("in_reply_to", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("deadline", TS, nullable=True),
        sa.Column("idem_key", sa.String(200), nullable=True),
        sa.Column("sent_by", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("read_at", TS, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.CheckConstraint("performative IN ('REQUEST', 'INFORM', 'PROPOSAL', 'RESPONSE')",
                           name=op.f("ck_messages_performative")),
        sa.CheckConstraint("status IN ('unread', 'read', 'answered')", name=op.f("ck_messages_status")),
        sa.CheckConstraint("deadline IS NULL OR performative = 'REQUEST'", name=op.f("ck_messages_deadline_on_request")),
        sa.CheckConstraint("performative <> 'RESPONSE' OR in_reply_to IS NOT NULL",
                           name=op.f("ck_messages_response_replies")),
        sa.CheckConstraint("(in_reply_to IS NULL) = (thread_id IS NULL)", name=op.f("ck_messages_reply_has_thread")),
        sa.CheckConstraint("from_seat_id <> to_seat_id", name=op.f("ck_messages_not_to_self")),
        sa.CheckConstraint("status = 'unread' OR read_at IS NOT NULL", name=op.f("ck_messages_read_has_time")),
        sa.CheckConstraint("status <> 'answered' OR answered_at IS NOT NULL",
                           name=op.f("ck_messages_answered_has_time")),
        sa.ForeignKeyConstraint(["from_seat_id"], ["seats.id"], name=op.f("fk_messages_from_seat_id_seats")),
        sa.ForeignKeyConstraint(["to_seat_id"], ["seats.id"], name=op.f("fk_messages_to_seat_id_seats")),
        sa.ForeignKeyConstraint(["in_reply_to"], ["messages.id"], name=op.f("fk_messages_in_reply_to_messages")),
        sa.ForeignKeyConstraint(["thread_id"], ["messages.id"], name=op.f("fk_messages_thread_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("from_seat_id", "idem_key", name="uq_messages_idem"),
    )
    op.create_index(op.f("ix_messages_from_seat_id"), "messages", ["from_seat_id"])
    op.create_index(op.f("ix_messages_in_reply_to"), "messages", ["in_reply_to"])
    op.create_index(op.f("ix_messages_thread_id"), "messages", ["thread_id"])
    op.create_index("ix_messages_inbox", "messages", ["to_seat_id", "status", "id"])
    op.create_index("ix_messages_deadline", "messages", ["deadline"])


def downgrade() -> None:
    op.drop_table("messages")
    op.execute("DELETE FROM outbox WHERE kind = 'bus_mirror'")
    _outbox_kinds(KINDS_BEFORE)
    with op.batch_alter_table("org") as batch:
        batch.drop_column("coordination_channel")
