"""The migrations run from empty on SQLite and PostgreSQL, and match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from survey_app.core.app import create_app
from survey_app.core.extensions import db


def _differences(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_postgresql_schema_matches_the_models(app):
    # the session fixture migrated this database from empty
    assert _differences(db.engine) == []
    assert "alembic_version" in inspect(db.engine).get_table_names()


def test_migrations_run_from_empty_on_sqlite(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "TESTING": True})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {table.name for table in db.metadata.sorted_tables} <= tables
        assert _differences(db.engine) == []
        db.engine.dispose()
