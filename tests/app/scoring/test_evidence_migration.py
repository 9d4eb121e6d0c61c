"""The upgrade that moves evidence files into the database: every document's file from EVIDENCE_FOLDER becomes a
stored file (one per distinct content), a document whose file is missing keeps none and is counted, and a
downgrade writes the files back where the code before it reads them."""

import hashlib
from datetime import datetime, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from survey_app.core import stored_files
from survey_app.core.app import create_app
from survey_app.core.extensions import db
from tests.conftest import pdf_document

BEFORE = "e1a0b5c0f007"
UPLOADED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """An empty database of each kind the service runs on (on PostgreSQL, one of its own beside the tests')."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    tests = make_url(request.getfixturevalue("database_url"))
    server = create_engine(tests, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS evidence_migration"))
        connection.execute(text("CREATE DATABASE evidence_migration"))
    yield tests.set(database="evidence_migration").render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text("DROP DATABASE evidence_migration WITH (FORCE)"))
    server.dispose()


def test_the_upgrade_copies_the_folders_files_in_and_the_downgrade_writes_them_back(tmp_path, empty_database):
    folder = tmp_path / "evidence"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "TESTING": True,
            "EVIDENCE_FOLDER": str(folder),
        }
    )
    signed_off, other = pdf_document("QĐ 1"), pdf_document("KH 2")
    (folder / "reporting").mkdir(parents=True)
    (folder / ("a" * 32)).write_bytes(signed_off)  # scoring's copy of the report's document below
    (folder / ("b" * 32)).write_bytes(other)
    (folder / "reporting" / ("c" * 32)).write_bytes(signed_off)
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # documents alone, without their values and reports
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            for number, name in enumerate(("a" * 32, "b" * 32, "d" * 32), start=1):  # "d…" is not in the folder
                connection.execute(
                    text(
                        "INSERT INTO evidence_documents (id, assessment_id, stored_name, original_name, size, sha256,"
                        " signed, uploaded_at) VALUES (:id, 1, :name, 'x.pdf', 1, 'x', :signed, :uploaded)"
                    ),
                    {"id": number, "name": name, "signed": False, "uploaded": UPLOADED},
                )
            connection.execute(
                text(
                    "INSERT INTO report_documents (id, entry_id, stored_name, original_name, size, sha256,"
                    " uploaded_at) VALUES (1, 1, :name, 'x.pdf', 1, 'x', :uploaded)"
                ),
                {"name": "c" * 32, "uploaded": UPLOADED},
            )
        upgrade()
        with db.engine.connect() as connection:
            files = {sha: (file_id, bytes(content)) for file_id, sha, content in connection.execute(
                text("SELECT id, sha256, content FROM stored_files ORDER BY id")
            )}  # fmt: skip
            evidence = dict(connection.execute(text("SELECT stored_name, file_id FROM evidence_documents")).all())
            reporting = connection.scalar(text("SELECT file_id FROM report_documents"))
            if connection.dialect.name == "postgresql":  # kept uncompressed, so a download reads a piece alone
                storage = connection.scalar(
                    text(
                        "SELECT attstorage FROM pg_attribute"
                        " WHERE attrelid = 'stored_files'::regclass AND attname = 'content'"
                    )
                )
                assert storage == "e"
        # two distinct contents: two files, the report's document and its signed-off copy naming the same
        assert set(files) == {hashlib.sha256(signed_off).hexdigest(), hashlib.sha256(other).hexdigest()}
        assert files[hashlib.sha256(signed_off).hexdigest()] == (evidence["a" * 32], signed_off)
        assert files[hashlib.sha256(other).hexdigest()] == (evidence["b" * 32], other)
        assert reporting == evidence["a" * 32] and evidence["d" * 32] is None
        # 2 files of len(signed_off) + len(other) bytes; 1 document (the missing "d…") without a file
        assert stored_files.census() == (2, len(signed_off) + len(other), 1)
        db.session.remove()

        for path in [*folder.iterdir(), *(folder / "reporting").iterdir()]:
            if path.is_file():
                path.unlink()
        downgrade(revision=BEFORE)
        assert (folder / ("a" * 32)).read_bytes() == signed_off and (folder / ("b" * 32)).read_bytes() == other
        assert (folder / "reporting" / ("c" * 32)).read_bytes() == signed_off
        assert not (folder / ("d" * 32)).exists()
        db.engine.dispose()
