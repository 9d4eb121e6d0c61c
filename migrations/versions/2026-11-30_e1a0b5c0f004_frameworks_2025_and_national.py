"""frameworks of 2025 and the national level (placeholder: filled by the framework work)

Revision ID: e1a0b5c0f004
Revises: e1a0b5c0f003
Create Date: 2026-11-30 09:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f004'
down_revision = 'e1a0b5c0f003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
