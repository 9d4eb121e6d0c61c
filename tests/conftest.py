"""Fixtures: a real PostgreSQL database (started by `make test`), migrated from empty once per run, emptied
after every test; the app, its client and CLI runner; factories that return callables."""
from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from survey_app import create_app
from survey_app.extensions import db, limiter

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit("TEST_DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL",
                    returncode=4)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "test"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return url


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an application context of its own, as in production:
    nothing in ``g`` or in the database session leaks from the test, or from one request to the next."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SERVER_NAME": "localhost",
    })
    app.test_client_class = IsolatedClient
    limiter.reset()
    with app.app_context():
        yield app
        db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app):
    """Make a staff account: ``create_user(role, email=None)``."""
    from survey_app.services import accounts

    counter = iter(range(1, 10_000))

    def make(role="administrator", email=None, password=PASSWORD):
        user = accounts.create_user(email or f"user{next(counter)}@example.gov.vn", "Test User", role, password)
        db.session.commit()
        return user

    return make


def csrf_token(client, path="/") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def login(client):
    """Log the client in as a user: ``login(user)``."""

    def do(user, password=PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password,
                                               "csrf_token": csrf_token(client, "/login")})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do
