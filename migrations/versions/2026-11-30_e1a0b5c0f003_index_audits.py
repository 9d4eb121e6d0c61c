"""index audits of scoring runs: one statistical audit (data checks, structure, scenarios, global uncertainty and
sensitivity) stored per run as a JSON document

Revision ID: e1a0b5c0f003
Revises: e1a0b5c0f002
Create Date: 2026-11-30 09:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f003'
down_revision = 'e1a0b5c0f002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'index_audits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('base_samples', sa.Integer(), nullable=False),
        sa.Column('seed', sa.Integer(), nullable=False),
        sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_index_audits_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['run_id'], ['scoring_runs.id'], name=op.f('fk_index_audits_run_id_scoring_runs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_index_audits')),
        sa.UniqueConstraint('run_id', name=op.f('uq_index_audits_run_id')),
    )


def downgrade():
    op.drop_table('index_audits')
