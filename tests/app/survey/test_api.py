"""The JSON API: API keys, idempotent submissions (also 50 at once), 409, named errors, OpenAPI."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Response
from tests.conftest import CITIZEN_ANSWERS, csrf_token


def _key(create_user, survey):
    _, key = collection.create_api_key("CATI team", [survey.invited, survey.open], actor=create_user("administrator"))
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def _body(survey, submission_id="s-1", **changes):
    return {"submission_id": submission_id, "unit": survey.units[0].code, "answers": CITIZEN_ANSWERS, **changes}


def _count():
    return db.session.scalar(select(func.count()).select_from(Response))


def test_a_submission_sent_twice_answers_the_same_and_stores_one(client, survey, create_user):
    headers = _key(create_user, survey)
    first = client.post("/api/v1/fieldworks/invited/responses", json=_body(survey), headers=headers)
    second = client.post("/api/v1/fieldworks/invited/responses", json=_body(survey), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert _count() == 1


def test_fifty_at_once_store_one(app, survey, create_user):
    headers = _key(create_user, survey)
    body = _body(survey, "same")

    def send(_):
        return app.test_client().post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(send, range(50)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.get_data() for a in answers}) == 1
    assert _count() == 1


def test_a_different_payload_under_the_same_identifier_is_409(client, survey, create_user):
    headers = _key(create_user, survey)
    client.post("/api/v1/fieldworks/invited/responses", json=_body(survey), headers=headers)
    changed = _body(survey, answers=CITIZEN_ANSWERS | {"q_aw3": "no"})
    response = client.post("/api/v1/fieldworks/invited/responses", json=changed, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["reason"] == "submission_conflict"
    assert _count() == 1


def test_bad_answers_and_fields_are_named_and_nothing_stored(client, survey, create_user):
    headers = _key(create_user, survey)
    bad = _body(survey, answers=CITIZEN_ANSWERS | {"q_dg4": "11", "age": "old"})
    response = client.post("/api/v1/fieldworks/invited/responses", json=bad, headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["answers"]) == {"q_dg4", "age"}
    malformed = client.post("/api/v1/fieldworks/invited/responses", json={"unit": 5}, headers=headers)
    assert malformed.status_code == 422
    assert set(malformed.get_json()["error"]["fields"]) == {"unit", "answers", "submission_id"}
    not_json = client.post(
        "/api/v1/fieldworks/invited/responses", data="[1, 2", headers=headers, content_type="application/json"
    )
    assert not_json.status_code == 400
    assert _count() == 0


def test_a_missing_or_revoked_key_is_refused(client, survey, create_user):
    assert client.post("/api/v1/fieldworks/invited/responses", json=_body(survey)).status_code == 401
    record, key = collection.create_api_key("old", [survey.invited], actor=create_user("administrator"))
    collection.revoke_api_key(record, actor=create_user("administrator"))
    db.session.commit()
    response = client.post(
        "/api/v1/fieldworks/invited/responses", json=_body(survey), headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 401 and response.is_json


def test_a_staff_session_neither_admits_nor_shapes_an_api_request(client, survey, create_user, login):
    """A key's request is the key's: an administrator's cookie does not stand in for a key, no staff member is
    looked up for it and its answer neither renews the staff session nor is kept by a cache."""
    login(create_user("administrator"))
    assert client.post("/api/v1/fieldworks/invited/responses", json=_body(survey)).status_code == 401
    response = client.post(
        "/api/v1/fieldworks/invited/responses", json=_body(survey), headers=_key(create_user, survey)
    )
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff" and response.headers["Cache-Control"] == "no-store"


def test_openapi_document_is_valid(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(document)
    assert "Submission" in document["components"]["schemas"]


def test_control_characters_in_a_text_answer_are_refused_by_name_and_a_nul_anywhere_is_400(client, survey, create_user):
    headers = _key(create_user, survey)
    body = _body(survey, "ctl-1", answers={**CITIZEN_ANSWERS, "comments": "Hà\x0bNội"})
    refused = client.post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["answers"] == {
        "comments": "Câu trả lời có ký tự điều khiển không nhìn thấy; vui lòng nhập lại."
    }
    body = _body(survey, "nul-1", answers={**CITIZEN_ANSWERS, "comments": "Hà\x00Nội"})
    assert client.post("/api/v1/fieldworks/invited/responses", json=body, headers=headers).status_code == 400
    assert _count() == 0


# --- the one-statement path (collection.submit_with_key) and what it must not get wrong ------------------

URL = "/api/v1/fieldworks/invited/responses"


def test_a_new_response_is_stored_as_the_general_path_stores_it(client, survey, create_user):
    from questionnaires import document_hash

    response = client.post(URL, json=_body(survey, "one"), headers=_key(create_user, survey))
    assert response.status_code == 201 and "Set-Cookie" not in response.headers
    stored = db.session.scalar(select(Response))
    answers = dict(CITIZEN_ANSWERS)
    assert (stored.fieldwork_id, stored.questionnaire_id, stored.unit_id) == (
        survey.invited.id,
        survey.questionnaire.id,
        survey.units[0].id,
    )
    assert (stored.submission_id, stored.source, stored.stratum, stored.excluded) == ("one", "api", None, False)
    assert stored.answers == answers and stored.flags == []
    assert stored.payload_hash == document_hash({"unit": survey.units[0].code, "answers": answers})
    assert stored.submitted_at.tzinfo is not None
    body = response.get_json()
    assert body["receipt"] == collection.receipt(stored)
    assert body["submitted_at"] == stored.submitted_at.astimezone(timezone.utc).isoformat()


def test_a_receipt_does_not_depend_on_the_time_zone_the_database_answers_in():
    instant = datetime(2026, 11, 24, 8, 0, 1, 123456, tzinfo=timezone.utc)
    in_hanoi = instant.astimezone(timezone(timedelta(hours=7)))
    assert collection.receipt(collection.StoredResponse(7, "s", instant)) == collection.receipt(
        collection.StoredResponse(7, "s", in_hanoi)
    )


def test_a_key_revoked_after_it_was_used_stores_nothing_more_at_once(client, survey, create_user):
    admin = create_user("administrator")
    record, key = collection.create_api_key("CATI team", [survey.invited], actor=admin)
    db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post(URL, json=_body(survey, "before"), headers=headers).status_code == 201
    collection.revoke_api_key(db.session.get(type(record), record.id), actor=admin)
    db.session.commit()
    # the key is still in this process's cache of live keys: the insert itself refuses it
    after = client.post(URL, json=_body(survey, "after"), headers=headers)
    assert after.status_code == 401 and after.is_json
    assert client.post(URL, json=_body(survey, "before"), headers=headers).status_code == 401
    assert _count() == 1


def test_a_fieldwork_closed_after_its_first_submissions_refuses_new_ones_and_replays_old_ones(
    client, survey, create_user
):
    from survey_app.survey.models import Fieldwork, FieldworkStatus

    headers = _key(create_user, survey)
    first = client.post(URL, json=_body(survey, "early"), headers=headers)
    assert first.status_code == 201
    collection.set_status(
        db.session.get(Fieldwork, survey.invited.id), FieldworkStatus.CLOSED, actor=create_user("administrator")
    )
    db.session.commit()
    late = client.post(URL, json=_body(survey, "late"), headers=headers)
    assert late.status_code == 410 and late.get_json()["error"]["reason"] == "fieldwork_closed"
    again = client.post(URL, json=_body(survey, "early"), headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert _count() == 1


def test_a_unit_outside_the_fieldwork_is_named_and_nothing_stored(client, survey, create_user):
    response = client.post(URL, json=_body(survey, unit="ZZZ"), headers=_key(create_user, survey))
    assert response.status_code == 422 and response.get_json()["error"]["reason"] == "unit_not_in_fieldwork"
    assert _count() == 0


def test_fieldworks_with_quotas_spend_a_place_per_new_response_through_the_api(client, survey, create_user):
    from survey_app.survey.models import Quota

    collection.set_quotas(
        survey.open, f"unit,urban,sex,target\n{survey.units[0].code},rural,female,1\n".encode(), actor=None
    )
    db.session.commit()
    headers = _key(create_user, survey)
    url = "/api/v1/fieldworks/open/responses"
    first = client.post(url, json=_body(survey, "q-1"), headers=headers)
    repeat = client.post(url, json=_body(survey, "q-1"), headers=headers)
    full = client.post(url, json=_body(survey, "q-2"), headers=headers)
    assert (first.status_code, repeat.status_code, full.status_code) == (201, 201, 409)
    assert full.get_json()["error"]["reason"] == "quota_full"
    assert db.session.scalar(select(Quota.filled)) == 1 and _count() == 1


def test_a_driver_error_on_the_fast_path_is_run_again_through_sqlalchemy(client, survey, create_user, monkeypatch):
    from sqlalchemy import text

    from survey_app.core.config import SUBMISSIONS_BIND

    headers = _key(create_user, survey)
    assert client.post(URL, json=_body(survey, "before"), headers=headers).status_code == 201
    # the server ends the connection the first submission left in the pool, as a restart would
    pooled = db.engines[SUBMISSIONS_BIND].raw_connection()
    backend = pooled.driver_connection.info.backend_pid
    pooled.close()
    assert db.session.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": backend})
    failed = []
    scalar = collection.CompiledOnce.scalar

    def watched(self, engine, values):
        try:
            return scalar(self, engine, values)
        except self.driver_error as error:
            failed.append(error)
            raise

    monkeypatch.setattr(collection.CompiledOnce, "scalar", watched)
    response = client.post(URL, json=_body(survey, "retried"), headers=headers)
    assert response.status_code == 201
    assert len(failed) == 1  # the fast path met the dead connection and raised the driver's error
    assert db.session.scalar(select(func.count()).where(Response.submission_id == "retried")) == 1
    # the dead connection went with its kept cursor: the next submission has a live one
    assert client.post(URL, json=_body(survey, "after"), headers=headers).status_code == 201
    assert len(failed) == 1 and _count() == 3


def test_the_api_limit_counts_per_key_and_says_when_to_come_back(app, client, survey, create_user):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    first, second = _key(create_user, survey), _key(create_user, survey)
    answers = [client.post(URL, json=_body(survey, f"r-{i}"), headers=first) for i in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].is_json and 0 < int(answers[2].headers["Retry-After"]) <= 60
    assert client.post(URL, json=_body(survey, "other-key"), headers=second).status_code == 201
    assert _count() == 3


def test_a_key_submits_only_to_the_fieldworks_it_was_issued_for(client, survey, create_user):
    _, key = collection.create_api_key("CATI team", [survey.invited], actor=create_user("administrator"))
    db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    elsewhere = client.post("/api/v1/fieldworks/open/responses", json=_body(survey, "x"), headers=headers)
    assert elsewhere.status_code == 403
    assert elsewhere.get_json()["error"]["reason"] == "api_key_not_for_fieldwork"
    assert "open" in elsewhere.get_json()["error"]["message"]
    assert _count() == 0
    assert client.post(URL, json=_body(survey, "x"), headers=headers).status_code == 201
    assert _count() == 1


def test_administrators_issue_keys_for_chosen_fieldworks_and_none_without(client, survey, create_user, login):
    from survey_app.survey.models import ApiKey

    login(create_user("administrator"))
    token = csrf_token(client, "/api-keys/")
    refused = client.post("/api-keys/", data={"csrf_token": token, "name": "CATI"})
    assert refused.status_code == 200 and "Hãy chọn ít nhất một đợt khảo sát" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ApiKey.id))) == 0
    created = client.post("/api-keys/", data={"csrf_token": token, "name": "CATI", "fieldworks": [survey.open.id]})
    key = created.get_data(as_text=True).split("<code>dti_")[1].split("</code>")[0]
    key = "dti_" + key
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post(URL, json=_body(survey, "y"), headers=headers).status_code == 403
    assert [f.code for f in db.session.scalar(select(ApiKey)).fieldworks] == ["open"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"submission_id": "s", "unit": "HNI", "answers": {"q_aw3": "\\ud800"}}',  # a lone surrogate
        b'{"submission_id": "\\udfff", "unit": "HNI", "answers": {}}',
        b'{"submission_id": "s", "unit": "HNI", "answers": {"\\udbff": "yes"}}',
        b'{"submission_id": "s", "unit": "HNI", "answers": ' + b'[' * 100_000 + b']' * 100_000 + b'}',  # deep
        b'{"a": ' * 50_000 + b'1' + b'}' * 50_000,
    ],
)
def test_unstorable_text_and_deep_nesting_are_refused_with_400(client, survey, create_user, body):
    response = client.post(URL, data=body, content_type="application/json", headers=_key(create_user, survey))
    assert response.status_code == 400 and response.is_json
    assert _count() == 0


def test_a_surrogate_pair_is_a_character_and_stored(client, survey, create_user):
    # an emoji sent as its escaped UTF-16 pair is valid JSON text, not a lone surrogate
    body = _body(survey, "emoji")
    raw = json.dumps(body).replace('"emoji"', '"emoji \\ud83d\\ude00"').encode()
    response = client.post(URL, data=raw, content_type="application/json", headers=_key(create_user, survey))
    assert response.status_code == 201
    assert db.session.scalar(select(Response.submission_id)) == "emoji \U0001f600"


_VALID = {"submission_id": "s-1", "unit": "01", "answers": {"q1": "yes", "q2": 3}}


@pytest.mark.parametrize(
    "payload",
    [
        _VALID,
        {**_VALID, "duration_seconds": 95},
        {**_VALID, "duration_seconds": 95.5, "started_at": None},
        {**_VALID, "duration_seconds": 0},
        {**_VALID, "duration_seconds": 86400 * 30},
        {**_VALID, "submission_id": "x" * 64, "unit": "u" * 32, "answers": {"q" * 64: 1}},
        {**_VALID, "answers": {}},
        {**_VALID, "started_at": "2026-11-30T08:00:00+07:00"},
        {**_VALID, "duration_seconds": -1},
        {**_VALID, "duration_seconds": 86400 * 30 + 1},
        {**_VALID, "duration_seconds": True},
        {**_VALID, "duration_seconds": "95"},
        {**_VALID, "submission_id": ""},
        {**_VALID, "submission_id": "x" * 65},
        {**_VALID, "submission_id": 7},
        {**_VALID, "unit": "u" * 33},
        {**_VALID, "unit": None},
        {**_VALID, "answers": ["yes"]},
        {**_VALID, "answers": {"q" * 65: 1}},
        {**_VALID, "extra": 1},
        {"unit": "01", "answers": {}},
        {},
    ],
)
def test_a_submission_is_read_as_its_schema_reads_it(payload):
    """load_submission reads the usual submission itself: it must answer as SUBMISSION.load, errors included."""
    from marshmallow import ValidationError

    from survey_app.survey.schemas import SUBMISSION, load_submission

    try:
        expected = SUBMISSION.load(payload)
    except ValidationError as error:
        with pytest.raises(ValidationError) as raised:
            load_submission(payload)
        assert raised.value.messages == error.messages
    else:
        loaded = load_submission(payload)
        assert loaded == expected
        assert [type(value) for value in loaded.values()] == [type(expected[key]) for key in loaded]


def test_the_kept_cursor_finishes_each_statement_on_sqlite(tmp_path):
    """The fast path keeps a cursor per connection: on SQLite an unfinished INSERT … RETURNING would keep the
    database locked for every other connection."""
    import sqlite3

    from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, insert

    path = tmp_path / "kept.sqlite"
    engine = create_engine(f"sqlite:///{path}", isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("v", String))
    table.metadata.create_all(engine)
    statement = collection.CompiledOnce(insert(table).values(v=bindparam("v")).returning(table.c.id), engine.dialect)
    assert [statement.scalar(engine, {"v": value}) for value in "abc"] == [1, 2, 3]
    other = sqlite3.connect(path, timeout=0)
    other.execute("INSERT INTO t (v) VALUES ('d')")  # "database is locked" if a statement were left open
    other.commit()
    assert other.execute("SELECT count(*) FROM t").fetchone() == (4,)
    other.close()

    # a statement cut short by anything (the request's time limit, raised in its thread) takes its connection
    # and cursor with it: the next statement has fresh ones
    class CutShort:
        def execute(self, *args):
            raise RuntimeError("cut short")

    pooled = engine.raw_connection()
    pooled.info[collection.CompiledOnce.CURSOR] = CutShort()
    pooled.close()
    with pytest.raises(RuntimeError):
        statement.scalar(engine, {"v": "e"})
    assert statement.scalar(engine, {"v": "f"}) == 5  # "e" was never stored
    engine.dispose()


def test_the_fast_path_sends_what_sqlalchemy_would_send(app):
    """On PostgreSQL the insert's SQL is worked out once: it and the parameters equal the expanded state's."""
    from survey_app.core.config import SUBMISSIONS_BIND
    from survey_app.survey.operations.api_submissions import _INSERT_CHECKED

    engine = db.engines[SUBMISSIONS_BIND]
    statement = collection.CompiledOnce(_INSERT_CHECKED[engine.dialect.name], engine.dialect)
    assert statement.fixed_sql is not None
    values = dict(
        fieldwork_id=1, code="c", questionnaire_id=2, unit_id=3, api_key_id=4, submission_id="s", payload_hash="h",
        source="api", answers={"q1": "yes", "q2": 3.0}, started_at=None, duration_seconds=12.5, flags=["speeding"],
        submitted_at=datetime(2026, 11, 30, 8, tzinfo=timezone.utc),
    )  # fmt: skip
    sql, parameters = statement.parameters(values)
    state = statement.compiled.construct_expanded_state(values)
    assert sql == state.statement
    assert set(parameters) == set(state.parameters)
    for name, value in state.parameters.items():
        processor = statement.processors.get(name)
        expected = processor(value) if processor else value
        assert str(parameters[name]) == str(expected), name
