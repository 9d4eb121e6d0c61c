"""export files: a large export written by a background job is kept in the database as chunks of bytes
(export_files, export_file_chunks) until it expires; and an index of the responses by duration, along which
the fieldwork's median duration is read half-way instead of sorting every duration (ix_responses_duration)

Revision ID: e1a0b5c0f005
Revises: e1a0b5c0f004
Create Date: 2026-11-30 09:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f005'
down_revision = 'e1a0b5c0f004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('fieldwork_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fieldwork_id'], ['fieldworks.id'], name=op.f('fk_export_files_fieldwork_id_fieldworks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_export_files_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_files')),
    sa.UniqueConstraint('job_id', name=op.f('uq_export_files_job_id'))
    )
    with op.batch_alter_table('export_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_files_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_files_fieldwork_id'), ['fieldwork_id'], unique=False)

    op.create_table('export_file_chunks',
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['export_files.id'], name=op.f('fk_export_file_chunks_file_id_export_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_id', 'number', name=op.f('pk_export_file_chunks'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        # the chunks are written once and read once or twice: PostgreSQL's compression of each (pglz) would
        # cost the export job more time than the space it saves for the days a file is kept
        op.execute("ALTER TABLE export_file_chunks ALTER COLUMN data SET STORAGE EXTERNAL")

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_duration', ['fieldwork_id', 'duration_seconds'], unique=False)


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_duration')

    op.drop_table('export_file_chunks')
    with op.batch_alter_table('export_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_files_fieldwork_id'))
        batch_op.drop_index(batch_op.f('ix_export_files_expires_at'))

    op.drop_table('export_files')
