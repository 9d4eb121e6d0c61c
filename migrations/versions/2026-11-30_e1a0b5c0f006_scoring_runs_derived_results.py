"""scoring runs' derived results: the rank simulation and the sensitivity run, computed once by the run's job
and kept with the run (scoring_runs.derived)

Revision ID: e1a0b5c0f006
Revises: e1a0b5c0f005
Create Date: 2026-11-30 09:55:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f006'
down_revision = 'e1a0b5c0f005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('scoring_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('derived', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                      nullable=True)
        )


def downgrade():
    with op.batch_alter_table('scoring_runs', schema=None) as batch_op:
        batch_op.drop_column('derived')
