"""org.imported_digest and org.imported_etag: the chart file last imported, and the chart it made

An unchanged re-import of a big chart file (parse, validate, read the stored chart back,
diff) costs seconds for nothing. With the digest of the file last imported and the etag
the chart had right after, `otp chart import` of the same file answers "no changes" at
once while the chart is still the one that import left (every chart change renews the
etag); after any other change it imports as before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain nullable columns: no table rebuild on SQLite (its triggers refer to `org`'s neighbours).
    op.add_column("org", sa.Column("imported_digest", sa.String(64), nullable=True))
    op.add_column("org", sa.Column("imported_etag", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("org") as batch:
        batch.drop_column("imported_etag")
        batch.drop_column("imported_digest")
