"""Invariants that span rows, held by the database too

A retired seat takes no new values, and an agent's supervisor is a human. The domain
layer checks both first (with friendly messages); these triggers stop any other writer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RETIRED = "SELECT s.status FROM metrics m JOIN seats s ON s.id = m.seat_id WHERE m.id = NEW.metric_id"
SUPERVISOR_KIND = "SELECT kind FROM holders WHERE id = NEW.supervisor_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"""
            CREATE TRIGGER metric_values_not_retired BEFORE INSERT ON metric_values
            WHEN ({RETIRED}) = 'retired'
            BEGIN SELECT RAISE(ABORT, 'a retired seat takes no new values'); END""")
        for event in ("INSERT", "UPDATE OF supervisor_id"):
            name = "holders_supervisor_human_" + event.split()[0].lower()
            op.execute(f"""
                CREATE TRIGGER {name} BEFORE {event} ON holders
                WHEN NEW.supervisor_id IS NOT NULL AND ({SUPERVISOR_KIND}) <> 'human'
                BEGIN SELECT RAISE(ABORT, 'a supervisor must be a human'); END""")
        return
    op.execute(f"""
        CREATE FUNCTION otp_metric_values_not_retired() RETURNS trigger AS $$
        BEGIN
            IF ({RETIRED}) = 'retired' THEN
                RAISE EXCEPTION 'a retired seat takes no new values' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER metric_values_not_retired BEFORE INSERT ON metric_values
        FOR EACH ROW EXECUTE FUNCTION otp_metric_values_not_retired()""")
    op.execute(f"""
        CREATE FUNCTION otp_holders_supervisor_human() RETURNS trigger AS $$
        BEGIN
            IF NEW.supervisor_id IS NOT NULL AND ({SUPERVISOR_KIND}) <> 'human' THEN
                RAISE EXCEPTION 'a supervisor must be a human' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    op.execute("""
        CREATE TRIGGER holders_supervisor_human BEFORE INSERT OR UPDATE OF supervisor_id ON holders
        FOR EACH ROW EXECUTE FUNCTION otp_holders_supervisor_human()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("metric_values_not_retired", "holders_supervisor_human_insert", "holders_supervisor_human_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    op.execute("DROP TRIGGER IF EXISTS metric_values_not_retired ON metric_values")
    op.execute("DROP TRIGGER IF EXISTS holders_supervisor_human ON holders")
    op.execute("DROP FUNCTION IF EXISTS otp_metric_values_not_retired()")
    op.execute("DROP FUNCTION IF EXISTS otp_holders_supervisor_human()")
