"""PostgreSQL: check "a retired seat takes no new values" once per statement, not per row

A batch of 1,000 values is one INSERT; the row trigger of 0002 ran a PL/pgSQL function
and a look-up for each of its rows, about a third of the insert. A statement trigger sees
the inserted rows as a transition table and checks them in one join. SQLite has no
statement triggers and keeps its row trigger (a cheap one there).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER metric_values_not_retired ON metric_values")
    op.execute("DROP FUNCTION otp_metric_values_not_retired()")
    op.execute("""
        CREATE FUNCTION otp_metric_values_not_retired() RETURNS trigger AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM inserted v JOIN metrics m ON m.id = v.metric_id JOIN seats s ON s.id = m.seat_id
                       WHERE s.status = 'retired') THEN
                RAISE EXCEPTION 'a retired seat takes no new values' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER metric_values_not_retired AFTER INSERT ON metric_values
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION otp_metric_values_not_retired()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER metric_values_not_retired ON metric_values")
    op.execute("DROP FUNCTION otp_metric_values_not_retired()")
    op.execute("""
        CREATE FUNCTION otp_metric_values_not_retired() RETURNS trigger AS $$
        BEGIN
            IF (SELECT s.status FROM metrics m JOIN seats s ON s.id = m.seat_id WHERE m.id = NEW.metric_id) = 'retired' THEN
                RAISE EXCEPTION 'a retired seat takes no new values' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER metric_values_not_retired BEFORE INSERT ON metric_values
        FOR EACH ROW EXECUTE FUNCTION otp_metric_values_not_retired()""")
