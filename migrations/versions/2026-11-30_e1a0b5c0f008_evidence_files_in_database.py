"""evidence files stored in the database: stored_files, named by evidence_documents.file_id and
report_documents.file_id; the files of EVIDENCE_FOLDER are copied in (a document whose file is missing keeps
file_id NULL, which `flask doctor` reports), and a downgrade writes them back

Revision ID: e1a0b5c0f008
Revises: e1a0b5c0f007
Create Date: 2026-11-30 12:10:00

"""
import hashlib
from pathlib import Path

from alembic import op
import sqlalchemy as sa
from flask import current_app

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f008'
down_revision = 'e1a0b5c0f007'
branch_labels = None
depends_on = None

#: the tables that name files, and where their files were kept inside EVIDENCE_FOLDER
DOCUMENTS = {'evidence_documents': '.', 'report_documents': 'reporting'}

# a table with its primary key, so that an insert gives back the new file's id on SQLite as on PostgreSQL
STORED_FILES = sa.Table(
    'stored_files',
    sa.MetaData(),
    sa.Column('id', sa.Integer(), primary_key=True),
    sa.Column('sha256', sa.String()),
    sa.Column('size', sa.Integer()),
    sa.Column('content_type', sa.String()),
    sa.Column('created_at'),
    sa.Column('content', sa.LargeBinary()),
)


def _documents(name):
    return sa.table(
        name, sa.column('id'), sa.column('stored_name'), sa.column('uploaded_at'), sa.column('file_id')
    )


def upgrade():
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        # PDFs are compressed already; uncompressed TOAST lets a download read one piece without the rest
        op.execute('ALTER TABLE stored_files ALTER COLUMN content SET STORAGE EXTERNAL')
    for table in DOCUMENTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_file_id'), ['file_id'], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_file_id_stored_files'), 'stored_files', ['file_id'], ['id'], ondelete='RESTRICT'
            )
    _copy_files_in()


def _copy_files_in():
    """Every document's file from EVIDENCE_FOLDER into stored_files, one row per distinct content (a report's
    document and the evidence signed off from it were two copies of the same bytes). The folder is left as it
    was: delete it once `flask doctor` finds every document's file in the database and a backup is made."""
    folder = Path(current_app.config['EVIDENCE_FOLDER'])
    bind = op.get_bind()
    by_sha256 = {}
    for name, subfolder in DOCUMENTS.items():
        documents = _documents(name)
        rows = bind.execute(
            sa.select(documents.c.id, documents.c.stored_name, documents.c.uploaded_at).order_by(documents.c.id)
        ).all()
        for document_id, stored_name, uploaded_at in rows:
            path = folder / subfolder / stored_name
            if not path.is_file():
                continue
            content = path.read_bytes()
            sha256 = hashlib.sha256(content).hexdigest()
            if sha256 not in by_sha256:
                inserted = bind.execute(
                    sa.insert(STORED_FILES).values(
                        sha256=sha256,
                        size=len(content),
                        content_type='application/pdf',
                        created_at=uploaded_at,
                        content=content,
                    )
                )
                by_sha256[sha256] = inserted.inserted_primary_key[0]
            bind.execute(sa.update(documents).where(documents.c.id == document_id).values(file_id=by_sha256[sha256]))


def _write_files_out():
    """Every document's stored file back into EVIDENCE_FOLDER under its stored name, as the code before this
    revision reads them."""
    folder = Path(current_app.config['EVIDENCE_FOLDER'])
    bind = op.get_bind()
    for name, subfolder in DOCUMENTS.items():
        documents = _documents(name)
        target = folder / subfolder
        target.mkdir(parents=True, exist_ok=True)
        rows = bind.execute(
            sa.select(documents.c.id, documents.c.stored_name).where(documents.c.file_id.is_not(None))
        ).all()
        for document_id, stored_name in rows:
            path = target / stored_name
            if path.exists():
                continue
            content = bind.scalar(
                sa.select(STORED_FILES.c.content)
                .join(documents, documents.c.file_id == STORED_FILES.c.id)
                .where(documents.c.id == document_id)
            )
            partial = path.with_suffix('.part')
            partial.write_bytes(bytes(content))
            partial.replace(path)


def downgrade():
    _write_files_out()
    for table in DOCUMENTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_file_id_stored_files'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_file_id'))
            batch_op.drop_column('file_id')
    op.drop_table('stored_files')
