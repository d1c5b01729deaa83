"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seats', sa.JSON(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('approvers', sa.JSON(), nullable=False),
    sa.Column('usergroup', sa.String(length=64), nullable=True),
    sa.Column('required', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('required >= 1', name=op.f('ck_approval_routes_required')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_routes'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_log_hash'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_subject'), ['subject'], unique=False)

    op.create_table('holders',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('slack_user', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('supervisor_id', sa.String(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind = 'human' OR supervisor_id IS NOT NULL", name=op.f('ck_holders_agent_has_supervisor')),
    sa.CheckConstraint("kind IN ('human', 'agent')", name=op.f('ck_holders_kind')),
    sa.CheckConstraint('supervisor_id IS NULL OR supervisor_id <> id', name=op.f('ck_holders_not_own_supervisor')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['holders.id'], name=op.f('fk_holders_supervisor_id_holders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holders')),
    sa.UniqueConstraint('email', name=op.f('uq_holders_email')),
    sa.UniqueConstraint('slack_user', name=op.f('uq_holders_slack_user'))
    )
    op.create_table('org',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('etag', sa.String(length=32), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_org_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org'))
    )
    op.create_table('policies',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('hold_kind', sa.String(length=100), nullable=True),
    sa.Column('while_flag', sa.String(length=100), nullable=True),
    sa.Column('winner', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_policies'))
    )
    op.create_table('schedules',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('post', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('cron', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_schedules'))
    )
    op.create_table('seats',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('holder_id', sa.String(length=64), nullable=True),
    sa.Column('reports_to_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('customer_facing', sa.Boolean(), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('accountabilities', sa.JSON(), nullable=False),
    sa.Column('does_not_own', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("status <> 'active' OR holder_id IS NOT NULL", name=op.f('ck_seats_active_has_holder')),
    sa.CheckConstraint("status IN ('active', 'vacant', 'planned', 'retired')", name=op.f('ck_seats_status')),
    sa.CheckConstraint("status NOT IN ('vacant', 'retired') OR holder_id IS NULL", name=op.f('ck_seats_vacant_has_no_holder')),
    sa.CheckConstraint('reports_to_id IS NULL OR reports_to_id <> id', name=op.f('ck_seats_not_own_manager')),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_seats_holder_id_holders')),
    sa.ForeignKeyConstraint(['reports_to_id'], ['seats.id'], name=op.f('fk_seats_reports_to_id_seats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seats'))
    )
    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seats_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seats_reports_to_id'), ['reports_to_id'], unique=False)

    op.create_table('metrics',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('seat_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('goal_op', sa.String(length=4), nullable=False),
    sa.Column('goal_value', sa.Float(), nullable=False),
    sa.Column('goal_high', sa.Float(), nullable=True),
    sa.Column('cadence', sa.String(length=8), nullable=False),
    sa.Column('aggregation', sa.String(length=4), nullable=False),
    sa.Column('formula', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("aggregation IN ('last', 'sum', 'avg', 'min', 'max')", name=op.f('ck_metrics_aggregation')),
    sa.CheckConstraint("cadence IN ('weekly', 'monthly')", name=op.f('ck_metrics_cadence')),
    sa.CheckConstraint("goal_op IN ('>=', '<=', '==', '>', '<', 'in', 'out')", name=op.f('ck_metrics_goal_op')),
    sa.CheckConstraint("goal_op NOT IN ('in', 'out') OR (goal_high IS NOT NULL AND goal_high >= goal_value)", name=op.f('ck_metrics_range')),
    sa.CheckConstraint("unit IN ('number', 'percent', 'currency', 'minutes', 'yesno')", name=op.f('ck_metrics_unit')),
    sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_metrics_seat_id_seats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics'))
    )
    with op.batch_alter_table('metrics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metrics_seat_id'), ['seat_id'], unique=False)

    op.create_table('seat_holdings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.String(length=64), nullable=False),
    sa.Column('holder_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_seat_holdings_holder_id_holders')),
    sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_seat_holdings_seat_id_seats')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_holdings'))
    )
    with op.batch_alter_table('seat_holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_holdings_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_holdings_seat_id'), ['seat_id'], unique=False)
        batch_op.create_index('uq_seat_holdings_open', ['seat_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('seat_owns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('normalized', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_seat_owns_seat_id_seats'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_owns')),
    sa.UniqueConstraint('normalized', name=op.f('uq_seat_owns_normalized'))
    )
    with op.batch_alter_table('seat_owns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_owns_seat_id'), ['seat_id'], unique=False)

    op.create_table('metric_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('is_correction', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('entered_by', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('idem_key', sa.String(length=200), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("source IN ('api', 'manual', 'import')", name=op.f('ck_metric_values_source')),
    sa.ForeignKeyConstraint(['metric_id'], ['metrics.id'], name=op.f('fk_metric_values_metric_id_metrics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_values')),
    sa.UniqueConstraint('metric_id', 'period_start', 'idem_key', name='uq_metric_values_idem')
    )
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.create_index('ix_metric_values_metric_period', ['metric_id', 'period_start'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('metric_values', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_values_metric_period')

    op.drop_table('metric_values')
    with op.batch_alter_table('seat_owns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_owns_seat_id'))

    op.drop_table('seat_owns')
    with op.batch_alter_table('seat_holdings', schema=None) as batch_op:
        batch_op.drop_index('uq_seat_holdings_open', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_seat_holdings_seat_id'))
        batch_op.drop_index(batch_op.f('ix_seat_holdings_holder_id'))

    op.drop_table('seat_holdings')
    with op.batch_alter_table('metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metrics_seat_id'))

    op.drop_table('metrics')
    with op.batch_alter_table('seats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seats_reports_to_id'))
        batch_op.drop_index(batch_op.f('ix_seats_holder_id'))

    op.drop_table('seats')
    op.drop_table('schedules')
    op.drop_table('policies')
    op.drop_table('org')
    op.drop_table('holders')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_subject'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    op.drop_table('approval_routes')
