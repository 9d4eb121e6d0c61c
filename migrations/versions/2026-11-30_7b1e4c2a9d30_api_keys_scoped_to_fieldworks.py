"""API keys are scoped to the fieldworks they were issued for. A live key keeps what it could reach before,
every fieldwork of the day, so no partner stops working on upgrade; the keys page shows each key's scope, and
an administrator replaces a key by a narrower one.

Revision ID: 7b1e4c2a9d30
Revises: 316afbc20e9f
Create Date: 2026-11-30 01:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b1e4c2a9d30'
down_revision = '316afbc20e9f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_key_fieldworks',
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('fieldwork_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_fieldworks_api_key_id_api_keys'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['fieldwork_id'], ['fieldworks.id'],
                                name=op.f('fk_api_key_fieldworks_fieldwork_id_fieldworks'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('api_key_id', 'fieldwork_id', name=op.f('pk_api_key_fieldworks')),
    )
    op.execute("INSERT INTO api_key_fieldworks (api_key_id, fieldwork_id) "
               "SELECT api_keys.id, fieldworks.id FROM api_keys CROSS JOIN fieldworks "
               "WHERE api_keys.revoked_at IS NULL")


def downgrade():
    op.drop_table('api_key_fieldworks')
