"""The weekly review's thread replies and DMs go through the outbox: the kind `review`

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-07
"""

from alembic import op

revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("approval_post", "approval_update", "notify", "deliver", "bus_mirror", "webhook")
KINDS_AFTER = (*KINDS_BEFORE, "review")
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
    _outbox_kinds(KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'review'")
    _outbox_kinds(KINDS_BEFORE)
