"""A database that is away or refuses writes gets a translated 503 (page or JSON) with Retry-After, never a
500, and the service recovers by itself when the database returns. These use real PostgreSQL failures: a
server that does not answer, and a role whose write permission is withdrawn."""

import socket

import pytest
from sqlalchemy import text

from survey_app.core.app import create_app
from survey_app.core.extensions import db
from survey_app.core.i18n import LANGUAGE_KEY
from tests.conftest import CITIZEN_ANSWERS


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def away_app(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/gone",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        }
    )
    yield app


def test_a_database_that_does_not_answer_gives_503_page_and_json(away_app):
    client = away_app.test_client()
    response = client.get("/api/health")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["message"] == "Dịch vụ tạm thời gián đoạn. Vui lòng thử lại sau ít phút."
    page = client.get("/results/")
    assert page.status_code == 503 and "Dịch vụ tạm thời gián đoạn" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        session[LANGUAGE_KEY] = "en"
    english = client.get("/results/")
    assert english.status_code == 503 and "temporarily unavailable" in english.get_data(as_text=True)


def test_writes_refused_by_the_database_give_503_and_store_nothing_then_recover(app, survey, client, database_url):
    from survey_app.survey import operations as collection
    from survey_app.survey.models import Response

    _, key = collection.create_api_key("field team", [survey.invited], actor=None)
    db.session.commit()
    with db.engine.begin() as connection:
        connection.execute(text("DROP ROLE IF EXISTS dti_writer"))
        connection.execute(text("CREATE ROLE dti_writer LOGIN"))
        connection.execute(text("GRANT USAGE ON SCHEMA public TO dti_writer"))
        connection.execute(text("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO dti_writer"))
        connection.execute(text("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO dti_writer"))
        connection.execute(text("REVOKE INSERT ON responses FROM dti_writer"))
    writer = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url.replace("postgres@", "dti_writer@"), "SECRET_KEY": "test-secret"}
    )
    headers = {"Authorization": f"Bearer {key}"}
    body = {"submission_id": "held-1", "unit": survey.units[0].code, "answers": CITIZEN_ANSWERS}
    try:
        with writer.app_context():
            refused = writer.test_client().post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)
            assert refused.status_code == 503 and "tạm thời gián đoạn" in refused.get_json()["error"]["message"]
            with db.engine.begin() as connection:
                assert connection.execute(text("SELECT count(*) FROM responses")).scalar() == 0
            with app.app_context(), db.engine.begin() as connection:
                connection.execute(text("GRANT INSERT ON responses TO dti_writer"))
            # the same submission, retried once writes are back, is stored once
            accepted = writer.test_client().post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)
            assert accepted.status_code == 201
            again = writer.test_client().post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)
            assert again.status_code in (200, 201)
            db.session.remove()
            db.engine.dispose()
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("REASSIGN OWNED BY dti_writer TO postgres"))
            connection.execute(text("DROP OWNED BY dti_writer"))
            connection.execute(text("DROP ROLE dti_writer"))
    assert db.session.query(Response).filter_by(submission_id="held-1").count() == 1
