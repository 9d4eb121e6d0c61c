"""unit accounts and the units' reporting (placeholder: filled by the unit accounts work)

Revision ID: e1a0b5c0f002
Revises: e1a0b5c0f001
Create Date: 2026-11-30 09:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f002'
down_revision = 'e1a0b5c0f001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_pending_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('totp_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_unit_id_units'), 'units', ['unit_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('account_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_invitations_token_hash'))
    )
    with op.batch_alter_table('account_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('reporting_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_rounds.id'], name=op.f('fk_reporting_periods_round_id_evaluation_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporting_periods')),
    sa.UniqueConstraint('round_id', 'code', name=op.f('uq_reporting_periods_round_id_code'))
    )
    with op.batch_alter_table('reporting_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reporting_periods_round_id'), ['round_id'], unique=False)

    op.create_table('unit_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('return_comment', sa.Text(), nullable=False),
    sa.Column('reopen_reason', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_off_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['period_id'], ['reporting_periods.id'], name=op.f('fk_unit_reports_period_id_reporting_periods'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_off_by_id'], ['users.id'], name=op.f('fk_unit_reports_signed_off_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_reports_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_reports')),
    sa.UniqueConstraint('period_id', 'unit_id', name=op.f('uq_unit_reports_period_id_unit_id'))
    )
    with op.batch_alter_table('unit_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_reports_period_id'), ['period_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_reports_unit_id'), ['unit_id'], unique=False)

    op.create_table('report_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=64), nullable=False),
    sa.Column('value_text', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('points', sa.Float(), nullable=True),
    sa.Column('evidence', sa.String(length=1000), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['unit_reports.id'], name=op.f('fk_report_entries_report_id_unit_reports'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_report_entries_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_entries')),
    sa.UniqueConstraint('report_id', 'criterion', name=op.f('uq_report_entries_report_id_criterion'))
    )
    with op.batch_alter_table('report_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_entries_report_id'), ['report_id'], unique=False)

    op.create_table('report_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['report_entries.id'], name=op.f('fk_report_documents_entry_id_report_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_report_documents_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_documents')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_report_documents_stored_name'))
    )
    with op.batch_alter_table('report_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_documents_entry_id'), ['entry_id'], unique=False)


def downgrade():
    op.drop_table('report_documents')
    op.drop_table('report_entries')
    op.drop_table('unit_reports')
    op.drop_table('reporting_periods')
    op.drop_table('account_invitations')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_column('second_factor_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_unit_id_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))
        for column in ('totp_locked_until', 'totp_failures', 'totp_last_step', 'totp_pending_secret',
                       'totp_secret', 'unit_id'):
            batch_op.drop_column(column)
