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
    pass


def downgrade():
    pass
