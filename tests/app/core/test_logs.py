"""Logs carry no passwords, link tokens or answers; each login, failed login and denied access is one audit event,
in the database and as one JSON line in the log."""

import json
import logging
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from survey_app.core.extensions import db
from survey_app.core.logs import redact
from survey_app.survey import operations as collection
from tests.app.core.test_production import ROOT, _free_port, wait_until_serving
from tests.conftest import CITIZEN_ANSWERS

PASSWORD = "correct-horse-battery-42"
ANSWER = "Thôn Bí Mật 7731"


def test_redact_hides_link_secrets_and_keeps_the_rest():
    assert redact('"GET /i/AbC123-x_y HTTP/1.1"') == '"GET /i/… HTTP/1.1"'
    assert redact("/r/RESUME7/2/save") == "/r/…/2/save"
    assert redact("http://host/e/tok?x=1") == "http://host/e/…?x=1"
    assert redact("/login?next=/x&token=abc&code=9") == "/login?next=/x&token=…&code=…"
    assert redact("/results/province-2022/units/01") == "/results/province-2022/units/01"
    assert redact("/scoring/evidence/3") == "/scoring/evidence/3"


def _request(base, path, data=None, headers=None, method=None):
    request = urllib.request.Request(base + path, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_gunicorn_and_app_logs_keep_out_passwords_tokens_and_answers(app, database_url, survey, create_user, tmp_path):
    create_user("viewer", email="viewer@example.vn", password=PASSWORD)
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    _, api_key = collection.create_api_key("logs", [survey.invited], actor=None)
    db.session.commit()

    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
        "SECRET_KEY": "production-test-secret-key",
        "INSTANCE_PATH": str(tmp_path),
        "SESSION_COOKIE_SECURE": "0",
        "HSTS": "0",
    }
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(server, port, log_path.read_text)

        assert _request(base, f"/i/{issued.token}")[0] in (200, 302)
        assert _request(base, "/i/guessed-token-XYZ987")[0] == 404
        assert _request(base, "/e/expert-secret-QRS654")[0] == 404
        # a failed login (the password is in the body) and a right one
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(base + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        for password in ("wrong-" + PASSWORD, PASSWORD):
            body = urllib.parse.urlencode(
                {"csrf_token": token, "email": "viewer@example.vn", "password": password}
            ).encode()
            opener.open(urllib.request.Request(base + "/login", data=body), timeout=10).read()
        try:
            opener.open(base + "/users/", timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 403
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        answer = json.dumps(
            {"submission_id": "log-1", "unit": survey.units[0].code, "answers": {**CITIZEN_ANSWERS, "comments": ANSWER}}
        ).encode()
        assert _request(base, "/api/v1/fieldworks/invited/responses", answer, headers)[0] == 201
        refused = json.dumps(
            {"submission_id": "log-2", "unit": survey.units[0].code, "answers": {"q_dg4": ANSWER}}
        ).encode()
        assert _request(base, "/api/v1/fieldworks/invited/responses", refused, headers)[0] == 422
    finally:
        server.terminate()
        server.wait(timeout=10)

    written = log_path.read_text()
    assert "GET /i/… HTTP" in written  # the access log is on, with the secret cut out
    for secret in (issued.token, "guessed-token-XYZ987", "expert-secret-QRS654", PASSWORD, ANSWER, api_key):
        assert secret not in written, secret
    audit = [json.loads(line[line.index("{") :]) for line in written.splitlines() if '{"audit"' in line]
    actions = [event["audit"] for event in audit]
    assert actions.count("auth.login_failed") == 1 and actions.count("auth.login") == 1
    assert actions.count("access.denied") == 1
    assert {event["actor"] for event in audit if event["audit"].startswith(("auth.", "access."))} == {
        "viewer@example.vn"
    }


def test_a_database_error_is_logged_without_the_values_it_quotes(app, caplog):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from survey_app.core.errors import database_error_response

    with app.test_request_context("/api/v1/fieldworks/x/responses", method="POST"):
        try:
            db.session.execute(text("SELECT CAST(:answer AS integer)"), {"answer": ANSWER})
        except DBAPIError as error:
            assert ANSWER in str(error.orig)  # PostgreSQL quotes the value in its message...
            with caplog.at_level(logging.ERROR, logger="survey_app"):
                assert database_error_response(error).status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "InvalidTextRepresentation (SQLSTATE 22P02)" in logged
    assert ANSWER not in logged  # ...which the log leaves out, parameters included
