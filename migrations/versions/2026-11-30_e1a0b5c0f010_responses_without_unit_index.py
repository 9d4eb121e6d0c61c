"""responses without their index by unit alone: every query by unit is within a fieldwork, which
ix_responses_review serves, and the service never deletes a unit; one index fewer to write per submission

Revision ID: e1a0b5c0f010
Revises: e1a0b5c0f009
Create Date: 2026-11-30 18:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f010'
down_revision = 'e1a0b5c0f009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_unit_id')


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_unit_id', ['unit_id'], unique=False)
