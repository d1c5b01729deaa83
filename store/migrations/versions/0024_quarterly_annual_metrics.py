"""metrics.cadence: quarterly and annual too

A metric may be reported each quarter (a period named `2026-Q4`, starting on its first day)
or each year (`2026`, starting on 1 January), besides each week and each month. The CHECK
on `cadence` takes the two new words, and the column grows to hold `quarterly`.

SQLite cannot change a CHECK constraint in place: the table is rebuilt, with foreign keys
off for the rebuild (dropping the old table would otherwise reach every recorded value and
issue that refers to a metric) and the trigger on metric_values that reads metrics set
aside meanwhile. A downgrade refuses while a quarterly or annual metric exists: it would
have no cadence to become.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

NEW = "cadence IN ('weekly', 'monthly', 'quarterly', 'annual')"
OLD = "cadence IN ('weekly', 'monthly')"

_set_aside: list[str] = []


def _around_rebuild(start: bool) -> None:
    """SQLite only: the triggers of other tables that name metrics are dropped before the
    rebuild (SQLite will not rename the new table into place while a trigger names a table
    that is, for that moment, missing) and made again after it; foreign keys are off
    meanwhile (a pragma SQLite changes only between transactions)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name <> 'metrics' AND sql LIKE '%metrics%'"
    if start:
        found = bind.exec_driver_sql(query).fetchall()
        _set_aside[:] = [sql for _, sql in found]
        for name, _ in found:
            bind.exec_driver_sql(f'DROP TRIGGER "{name}"')
    else:
        for sql in _set_aside:
            bind.exec_driver_sql(sql)
        dangling = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        assert not dangling, f"the rebuild of metrics left dangling references: {dangling[:5]}"
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql(f"PRAGMA foreign_keys = {'OFF' if start else 'ON'}")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def _cadence(check: str, length: int, was: int) -> None:
    _around_rebuild(True)
    with op.batch_alter_table("metrics") as batch:
        batch.drop_constraint(op.f("ck_metrics_cadence"), type_="check")
        batch.alter_column("cadence", existing_type=sa.String(was), type_=sa.String(length), existing_nullable=False)
        batch.create_check_constraint("cadence", check)
    _around_rebuild(False)


def upgrade() -> None:
    _cadence(NEW, 12, 8)


def downgrade() -> None:
    left = op.get_bind().execute(sa.text("SELECT id FROM metrics WHERE NOT (" + OLD + ")")).scalars().all()
    if left:
        raise RuntimeError(
            f"metrics {', '.join(left[:10])} are quarterly or annual; change them in the chart file before downgrading"
        )
    _cadence(OLD, 8, 12)
