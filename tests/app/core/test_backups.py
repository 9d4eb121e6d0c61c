"""Backup and restore (pg_dump/pg_restore, README "Backups"): a restore into a fresh database brings back every
table's rows, the responses and expert forms to the byte (checksums) and the evidence files."""

import io
import json
import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey_app.core import backups
from survey_app.core.app import create_app
from survey_app.core.extensions import db
from survey_app.scoring import channel_inputs, evidence
from survey_app.survey import operations as collection
from tests.conftest import CITIZEN_ANSWERS, expert_panel, pdf_document


@pytest.fixture
def pg_tools(monkeypatch):
    folder = os.environ.get("TEST_PG_BIN")
    if folder:
        monkeypatch.setenv("PG_BIN", folder)


@pytest.fixture
def fresh_database(database_url):
    """An empty PostgreSQL database beside the test one, dropped afterwards."""
    name = f"dti_restore_{uuid.uuid4().hex[:8]}"
    server = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture
def filled(app, survey):
    """Responses with Vietnamese and formula-like answers, a panel with a submitted expert form, a self-assessed
    value with its evidence document."""
    for index, unit in enumerate(survey.units):
        collection.submit(
            survey.invited, unit, CITIZEN_ANSWERS | {"province": f"Hà Nội =1+{index} <b>"}, f"b-{index}", source="api"
        )
    evaluation, _, _ = expert_panel(survey.framework)
    assessment = channel_inputs.report_value(
        evaluation, survey.units[0], "AW.1", "có", evidence="", explanation="x", actor=None
    )
    evidence.attach(assessment, io.BytesIO(pdf_document()), "qd.pdf", actor=None)
    db.session.commit()
    return evaluation


def test_a_backup_restored_into_a_fresh_database_has_every_row_and_the_same_checksums(
    app, filled, fresh_database, pg_tools, tmp_path
):
    before = backups.fingerprint()
    assert before["counts"]["responses"] == 3 and before["counts"]["evidence_documents"] == 1
    result = app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["fingerprint"] == before

    restored_app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database,
            "SECRET_KEY": "x",
            "TESTING": True,
            "EVIDENCE_FOLDER": str(tmp_path / "restored-evidence"),
        }
    )
    with restored_app.app_context():
        result = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup")])
        assert result.exit_code == 0, result.output
        after = backups.fingerprint()
        db.session.remove()
        db.engine.dispose()
    assert after == before
    # the evidence file came back with the database, not through a folder
    assert after["counts"]["stored_files"] == 1
    assert not (tmp_path / "backup" / "evidence.tar").exists()


def test_a_restore_refuses_a_database_that_is_not_empty_and_names_a_mismatch(
    app, filled, fresh_database, pg_tools, tmp_path
):
    assert backups.create(tmp_path / "backup")["fingerprint"]["counts"]["responses"] == 3
    refused = app.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup")])
    assert refused.exit_code == 1 and "khôi phục vào một cơ sở dữ liệu mới, trống" in refused.output

    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["fingerprint"]["responses_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest))
    restored_app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database,
            "SECRET_KEY": "x",
            "TESTING": True,
            "EVIDENCE_FOLDER": str(tmp_path / "restored-evidence"),
        }
    )
    with restored_app.app_context():
        result = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup")])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1 and "responses_sha256" in result.output


def test_backups_need_postgresql(tmp_path):
    demo = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite'}", "SECRET_KEY": "x"})
    with demo.app_context():
        result = demo.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b")])
    assert result.exit_code == 1 and "PostgreSQL" in result.output
