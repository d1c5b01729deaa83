"""org.decimal_mark: how the org writes decimals, so a lone `1,250` is read one way

Without it, a value whose only separator could be a thousands separator or a decimal mark
(`1,250`, `1.250`) is refused as ambiguous; with it, the org's mark decides.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("org") as batch:
        batch.add_column(sa.Column("decimal_mark", sa.String(1), nullable=True))
        batch.create_check_constraint("decimal_mark", "decimal_mark IN ('.', ',')")


def downgrade() -> None:
    with op.batch_alter_table("org") as batch:
        batch.drop_constraint("ck_org_decimal_mark", type_="check")
        batch.drop_column("decimal_mark")
