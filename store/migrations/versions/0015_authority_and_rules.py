"""seats.authority and the rules table: what an agent may do alone, and the org's operating rules

`authority` is the authority level an imported OTP file gave the seat (view-only,
recommend, execute-with-approval, autonomous, or OOS's advisory / supervised /
semi_autonomous); the gate refuses drafts from a view-only or advisory seat. `rules` are
the claims of an OOS file (rule, why, failure mode, confidence, evidence, scope), kept
with the chart and changed only by a chart import.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

AUTHORITY = ("'view-only', 'advisory', 'recommend', 'supervised', 'execute-with-approval', "
             "'semi_autonomous', 'autonomous'")


def upgrade() -> None:
    # Not a batch: rebuilding `seats` on SQLite would break the triggers that refer to it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE seats ADD COLUMN authority VARCHAR(24) "
                   f"CONSTRAINT ck_seats_authority CHECK (authority IN ({AUTHORITY}))")
    else:
        op.add_column("seats", sa.Column("authority", sa.String(24), nullable=True))
        op.create_check_constraint(op.f("ck_seats_authority"), "seats", f"authority IN ({AUTHORITY})")
    op.create_table(
        "rules",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("section", sa.String(100), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("failure_mode", sa.Text(), nullable=True),
        sa.Column("confidence", sa.String(8), nullable=True),
        sa.Column("confidence_score", sa.Float(), nullable=True),
        sa.Column("evidence", sa.String(32), nullable=True),
        sa.Column("evidence_reference", sa.Text(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("seats", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("confidence IN ('HIGH', 'MEDIUM', 'LOW')", name=op.f("ck_rules_confidence")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rules")),
    )


def downgrade() -> None:
    op.drop_table("rules")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE seats DROP COLUMN authority")
    else:
        op.drop_constraint(op.f("ck_seats_authority"), "seats", type_="check")
        op.drop_column("seats", "authority")
