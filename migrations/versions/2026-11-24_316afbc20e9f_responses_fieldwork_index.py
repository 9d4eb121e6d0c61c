"""Responses lose their index on fieldwork_id: the unique (fieldwork_id, submission_id) index serves lookups by
fieldwork, and every submission maintained both.

Revision ID: 316afbc20e9f
Revises: 5f0a2d16cc11
Create Date: 2026-11-24 08:08:51.830387

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '316afbc20e9f'
down_revision = '5f0a2d16cc11'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responses_fieldwork_id'))


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_fieldwork_id'), ['fieldwork_id'], unique=False)
