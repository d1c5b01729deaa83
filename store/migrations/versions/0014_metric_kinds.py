"""metrics: a kind, a display unit and a currency; org.currency

A metric's `unit` was one of number, percent, currency, minutes, yesno. It becomes a kind
(number, percent, currency, duration, yesno, score), a free display unit (`days`, `calls`,
`NPS`) and, for money, an ISO currency code. Existing rows keep their meaning and their
values: `minutes` is a duration shown in minutes (durations are stored in minutes),
`currency` is money in USD (what the scorecard showed, `$`), the others keep their name as
their kind and have no display unit. `org.currency` (default USD) is what a money metric
without a currency of its own is in.

SQLite cannot drop a CHECK constraint in place: the table is rebuilt, with foreign keys off
for the rebuild (dropping the old table would otherwise cascade to every recorded value)
and the trigger on metric_values that reads metrics set aside meanwhile.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = "kind IN ('number', 'percent', 'currency', 'duration', 'yesno', 'score')"
CURRENCY = "(kind = 'currency') = (currency IS NOT NULL)"
DURATION = "kind <> 'duration' OR unit IN ('seconds', 'minutes', 'hours', 'days', 'weeks')"
OLD_UNITS = "unit IN ('number', 'percent', 'currency', 'minutes', 'yesno')"


_saved_triggers: list[str] = []


def _rebuilding(start: bool) -> None:
    """SQLite: foreign keys off around the rebuild of metrics (a pragma it changes only
    outside a transaction: the migration's is ended, and begun again), and the triggers of
    other tables that read metrics set aside (SQLite refuses to rename the rebuilt table
    while a trigger names a table that is, for that moment, missing)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if start:
        _saved_triggers[:] = [sql for name, sql in bind.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> 'metrics' "
            "AND sql LIKE '%metrics%'").fetchall()]
        for name, in bind.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> 'metrics' "
                "AND sql LIKE '%metrics%'").fetchall():
            bind.exec_driver_sql(f'DROP TRIGGER "{name}"')
    else:
        for sql in _saved_triggers:
            bind.exec_driver_sql(sql)
        problems = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        assert not problems, f"the rebuild of metrics left dangling references: {problems[:5]}"
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql(f"PRAGMA foreign_keys = {'OFF' if start else 'ON'}")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    with op.batch_alter_table("org") as batch:
        batch.add_column(sa.Column("currency", sa.String(3), nullable=False, server_default="USD"))
    with op.batch_alter_table("metrics") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(3), nullable=True))
    op.execute("UPDATE metrics SET kind = CASE unit WHEN 'minutes' THEN 'duration' ELSE unit END")
    op.execute("UPDATE metrics SET currency = 'USD' WHERE unit = 'currency'")
    _rebuilding(True)
    with op.batch_alter_table("metrics") as batch:
        batch.drop_constraint(op.f("ck_metrics_unit"), type_="check")
        batch.alter_column("unit", existing_type=sa.String(8), type_=sa.String(32), nullable=True)
        batch.alter_column("kind", existing_type=sa.String(8), nullable=False)
        batch.create_check_constraint("kind", KINDS)
        batch.create_check_constraint("currency", CURRENCY)
        batch.create_check_constraint("duration_unit", DURATION)
    op.execute("UPDATE metrics SET unit = NULL WHERE unit <> 'minutes'")
    _rebuilding(False)


def downgrade() -> None:
    _rebuilding(True)
    op.execute("UPDATE metrics SET unit = CASE kind WHEN 'duration' THEN 'minutes' WHEN 'score' THEN 'number' "
               "ELSE kind END")
    # A duration shown in hours or days was stored in minutes all along: as `minutes` it reads the same.
    with op.batch_alter_table("metrics") as batch:
        batch.drop_constraint(op.f("ck_metrics_duration_unit"), type_="check")
        batch.drop_constraint(op.f("ck_metrics_currency"), type_="check")
        batch.drop_constraint(op.f("ck_metrics_kind"), type_="check")
        batch.alter_column("unit", existing_type=sa.String(32), type_=sa.String(8), nullable=False)
        batch.drop_column("currency")
        batch.drop_column("kind")
        batch.create_check_constraint("unit", OLD_UNITS)
    _rebuilding(False)
    with op.batch_alter_table("org") as batch:
        batch.drop_column("currency")
