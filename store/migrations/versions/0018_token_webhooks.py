"""A webhook per API token: every decision on its agent's drafts, signed, through the outbox

`api_tokens` gains the webhook's URL, its signing secret and when it was set (both or
neither: a webhook is never sent unsigned). The secret is stored as it is: an HMAC
signature is computed from the secret itself at every send, so a hash would not do.
The outbox gains the kind `webhook`.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("approval_post", "approval_update", "notify", "deliver", "bus_mirror")
KINDS_AFTER = (*KINDS_BEFORE, "webhook")
# Recreating a SQLite table drops its triggers; 0004's trigger on the outbox is restored.
DELIVER_TRIGGER = """
    CREATE TRIGGER outbox_deliver_approved BEFORE INSERT ON outbox
    WHEN NEW.kind = 'deliver' AND coalesce((SELECT status FROM drafts WHERE id = NEW.draft_id), '') <> 'approved'
    BEGIN SELECT RAISE(ABORT, 'only an approved draft can be delivered'); END"""
SIGNED = "(webhook_url IS NULL) = (webhook_secret IS NULL)"


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
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(64), nullable=True))
        batch.add_column(sa.Column("webhook_set_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(op.f("ck_api_tokens_webhook_signed"), SIGNED)
    _outbox_kinds(KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'webhook'")
    _outbox_kinds(KINDS_BEFORE)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_constraint(op.f("ck_api_tokens_webhook_signed"), type_="check")
        batch.drop_column("webhook_set_at")
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
