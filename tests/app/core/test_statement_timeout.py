"""No request runs for ever: on PostgreSQL a request's statement past REQUEST_STATEMENT_TIMEOUT_SECONDS is
cancelled by the database, and a request busy past REQUEST_TIMEOUT_SECONDS is stopped by the watchdog; both are
answered 503, pointing to the background jobs. A job's transaction has no limit."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from survey_app.core import jobs
from survey_app.core.app import create_app
from survey_app.core.extensions import db
from survey_app.core.security import public


@jobs.job_kind("tests.slow_statement", title="slow", roles=())
def _slow_statement(context, *, seconds):
    db.session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": seconds})
    return {"slept": seconds}


@pytest.fixture
def limited(app, database_url, tmp_path):
    limited = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "REQUEST_STATEMENT_TIMEOUT_SECONDS": 0.2,
        }
    )

    @public
    def slow():
        db.session.execute(text("SELECT pg_sleep(2)"))
        return "finished"

    limited.add_url_rule("/slow", "slow", slow)
    yield limited
    with limited.app_context():
        limited.extensions["jobs"].stop()
        for engine in db.engines.values():
            engine.dispose()


def test_a_statement_past_the_limit_answers_503_pointing_to_the_jobs(limited):
    client = limited.test_client()
    response = client.get("/slow?lang=en")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "Background jobs (/jobs)" in response.get_data(as_text=True)
    vietnamese = client.get("/slow?lang=vi").get_data(as_text=True)
    assert "Công việc chạy nền (/jobs)" in vietnamese


def test_a_jobs_transaction_has_no_limit(limited):
    with limited.app_context():
        job = jobs.enqueue("tests.slow_statement", subject="x", params={"seconds": 0.5})
        db.session.commit()
        limited.extensions["jobs"].wait()
        db.session.expire_all()
        done = db.session.get(jobs.Job, job.id)
        assert (done.state, done.result) == ("done", {"slept": 0.5})


def test_a_request_busy_past_its_time_is_stopped_with_a_503_and_the_next_one_is_served(database_url):
    """Not the SQL: Python busy (as a weighting done inside a request would be) is stopped all the same."""
    import time

    busy = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "SECRET_KEY": "k", "REQUEST_TIMEOUT_SECONDS": 0.5}
    )

    @public
    def spin():
        until = time.monotonic() + 10
        while time.monotonic() < until:
            pass
        return "finished"

    @public
    def quick():
        return "quick"

    busy.add_url_rule("/spin", "spin", spin)
    busy.add_url_rule("/quick", "quick", quick)
    client = busy.test_client()
    started = time.monotonic()
    response = client.get("/spin?lang=en")
    assert response.status_code == 503 and time.monotonic() - started < 3
    assert "Background jobs (/jobs)" in response.get_data(as_text=True)
    time.sleep(1.0)  # a watch that ended never fires later
    assert client.get("/quick").get_data(as_text=True) == "quick"
    with busy.app_context():
        for engine in db.engines.values():
            engine.dispose()
