"""weighting run weights as rows: a run's weights move from a JSON document on the run to a row per response
(weighting_run_weights), so that reading a run parses none of them; and an index of the responses that the
fieldwork dashboard's and review's counts read alone (ix_responses_review)

Revision ID: 352c1bca32f1
Revises: 9a4f9b1b71b3
Create Date: 2026-11-30 06:51:30.358666

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '352c1bca32f1'
down_revision = '9a4f9b1b71b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('weighting_run_weights',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_weighting_run_weights_response_id_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['weighting_runs.id'], name=op.f('fk_weighting_run_weights_run_id_weighting_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'response_id', name=op.f('pk_weighting_run_weights'))
    )
    with op.batch_alter_table('weighting_run_weights', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weighting_run_weights_response_id'), ['response_id'], unique=False)

    # the stored {response id: weight} of every run, a row each; a response erased since has no row
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "INSERT INTO weighting_run_weights (run_id, response_id, weight) "
            "SELECT runs.id, stored.key::integer, stored.value::double precision "
            "FROM weighting_runs AS runs, jsonb_each_text(runs.weights) AS stored "
            "WHERE EXISTS (SELECT 1 FROM responses WHERE responses.id = stored.key::integer)"
        )
    else:
        op.execute(
            "INSERT INTO weighting_run_weights (run_id, response_id, weight) "
            "SELECT runs.id, CAST(stored.key AS INTEGER), CAST(stored.value AS REAL) "
            "FROM weighting_runs AS runs, json_each(runs.weights) AS stored "
            "WHERE EXISTS (SELECT 1 FROM responses WHERE responses.id = CAST(stored.key AS INTEGER))"
        )

    with op.batch_alter_table('weighting_runs', schema=None) as batch_op:
        batch_op.drop_column('weights')

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_review', ['fieldwork_id', 'unit_id', 'duration_seconds'], unique=False, postgresql_include=['excluded', 'flags'])


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_review', postgresql_include=['excluded', 'flags'])

    with op.batch_alter_table('weighting_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weights', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))

    # the rows back into each run's {response id: weight}
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "UPDATE weighting_runs SET weights = COALESCE((SELECT jsonb_object_agg(rows.response_id::text, rows.weight) "
            "FROM weighting_run_weights AS rows WHERE rows.run_id = weighting_runs.id), '{}'::jsonb)"
        )
    else:
        op.execute(
            "UPDATE weighting_runs SET weights = COALESCE((SELECT json_group_object(CAST(rows.response_id AS TEXT), rows.weight) "
            "FROM weighting_run_weights AS rows WHERE rows.run_id = weighting_runs.id), '{}')"
        )
    with op.batch_alter_table('weighting_runs', schema=None) as batch_op:
        batch_op.alter_column('weights', existing_type=sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False)

    with op.batch_alter_table('weighting_run_weights', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weighting_run_weights_response_id'))

    op.drop_table('weighting_run_weights')
