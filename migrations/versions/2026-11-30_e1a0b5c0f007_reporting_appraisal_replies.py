"""reporting: a unit's one reply to the appraisal of each self-assessed value (appraisal_replies) and the day
the round's appraisal closes to replies (appraisal_windows)

Revision ID: e1a0b5c0f007
Revises: e1a0b5c0f006
Create Date: 2026-11-30 10:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f007'
down_revision = 'e1a0b5c0f006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('appraisal_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('appraised_points', sa.Float(), nullable=False),
    sa.Column('appraisal_reason', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('replied_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['self_assessments.id'], name=op.f('fk_appraisal_replies_assessment_id_self_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['replied_by_id'], ['users.id'], name=op.f('fk_appraisal_replies_replied_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appraisal_replies')),
    sa.UniqueConstraint('assessment_id', name=op.f('uq_appraisal_replies_assessment_id'))
    )
    op.create_table('appraisal_windows',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['evaluation_rounds.id'], name=op.f('fk_appraisal_windows_round_id_evaluation_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_appraisal_windows_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_appraisal_windows'))
    )


def downgrade():
    op.drop_table('appraisal_windows')
    op.drop_table('appraisal_replies')
