"""weighting run weights packed: a run's (response, weight) pairs move from a row each (weighting_run_weights)
to one binary column of the run, read only when asked for (deferred), so that storing a national run's
million weights takes a fraction of a second instead of the rows' keys and index checks (about 20 s)

Revision ID: e1a0b5c0f009
Revises: e1a0b5c0f008
Create Date: 2026-11-30 12:30:00

"""

from alembic import op
import sqlalchemy as sa
import numpy as np

# revision identifiers, used by Alembic.
revision = 'e1a0b5c0f009'
down_revision = 'e1a0b5c0f008'
branch_labels = None
depends_on = None

#: the packed form as this revision writes it (sampling.models.WEIGHT_RECORD at the time)
RECORD = np.dtype([("response", "<i8"), ("weight", "<f8")])


def upgrade():
    with op.batch_alter_table('weighting_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weights', sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # stored as is: random doubles do not compress, and trying costs seconds on a million
        op.execute("ALTER TABLE weighting_runs ALTER COLUMN weights SET STORAGE EXTERNAL")
    runs = sa.table('weighting_runs', sa.column('id', sa.Integer), sa.column('weights', sa.LargeBinary))
    for (run_id,) in bind.execute(sa.text("SELECT id FROM weighting_runs")).all():
        rows = bind.execute(
            sa.text("SELECT response_id, weight FROM weighting_run_weights WHERE run_id = :run ORDER BY response_id"),
            {"run": run_id},
        ).all()
        packed = np.array([tuple(row) for row in rows], dtype=RECORD).tobytes()
        bind.execute(runs.update().where(runs.c.id == run_id).values(weights=packed))

    with op.batch_alter_table('weighting_run_weights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weighting_run_weights_response_id'))
    op.drop_table('weighting_run_weights')


def downgrade():
    op.create_table(
        'weighting_run_weights',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('weight', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ['response_id'],
            ['responses.id'],
            name=op.f('fk_weighting_run_weights_response_id_responses'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['run_id'],
            ['weighting_runs.id'],
            name=op.f('fk_weighting_run_weights_run_id_weighting_runs'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('run_id', 'response_id', name=op.f('pk_weighting_run_weights')),
    )
    with op.batch_alter_table('weighting_run_weights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weighting_run_weights_response_id'), ['response_id'], unique=False)

    bind = op.get_bind()
    existing = {response_id for (response_id,) in bind.execute(sa.text("SELECT id FROM responses"))}
    rows = sa.table('weighting_run_weights', sa.column('run_id'), sa.column('response_id'), sa.column('weight'))
    for run_id, packed in bind.execute(sa.text("SELECT id, weights FROM weighting_runs")).all():
        pairs = np.frombuffer(packed or b"", dtype=RECORD)
        # a response erased since has no row (the rows' key would refuse it)
        values = [
            {"run_id": run_id, "response_id": int(response), "weight": float(weight)}
            for response, weight in pairs.tolist()
            if response in existing
        ]
        if values:
            bind.execute(rows.insert(), values)

    with op.batch_alter_table('weighting_runs', schema=None) as batch_op:
        batch_op.drop_column('weights')
