"""Hearings: the record of a decision to retire or keep a seat, and where its capabilities went

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hearings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("held_by", sa.String(200), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=True),
        sa.Column("moves", sa.JSON(), nullable=False),
        sa.Column("manager_id", sa.String(64), nullable=True),
        sa.Column("reports", sa.JSON(), nullable=False),
        sa.CheckConstraint("decision IN ('retire', 'keep')", name=op.f("ck_hearings_decision")),
        sa.ForeignKeyConstraint(["seat_id"], ["seats.id"], name=op.f("fk_hearings_seat_id_seats")),
        sa.ForeignKeyConstraint(["holder_id"], ["holders.id"], name=op.f("fk_hearings_holder_id_holders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearings")),
    )
    op.create_index(op.f("ix_hearings_seat_id"), "hearings", ["seat_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hearings_seat_id"), table_name="hearings")
    op.drop_table("hearings")
