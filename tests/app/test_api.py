"""The JSON API: API keys, idempotent submissions (also 50 at once), 409, named errors, OpenAPI."""
from concurrent.futures import ThreadPoolExecutor

from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response
from survey_app.services import collection
from tests.conftest import CITIZEN_ANSWERS


def _key(create_user):
    _, key = collection.create_api_key("CATI team", actor=create_user("administrator"))
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def _body(survey, submission_id="s-1", **changes):
    return {"submission_id": submission_id, "unit": survey.units[0].code, "answers": CITIZEN_ANSWERS, **changes}


def _count():
    return db.session.scalar(select(func.count()).select_from(Response))


def test_a_submission_sent_twice_answers_the_same_and_stores_one(client, survey, create_user):
    headers = _key(create_user)
    first = client.post("/api/v1/fieldworks/invited/responses", json=_body(survey), headers=headers)
    second = client.post("/api/v1/fieldworks/invited/responses", json=_body(survey), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert _count() == 1


def test_fifty_at_once_store_one(app, survey, create_user):
    headers = _key(create_user)
    body = _body(survey, "same")

    def send(_):
        return app.test_client().post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(send, range(50)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.get_data() for a in answers}) == 1
    assert _count() == 1


def test_a_different_payload_under_the_same_identifier_is_409(client, survey, create_user):
    headers = _key(create_user)
    client.post("/api/v1/fieldworks/invited/responses", json=_body(survey), headers=headers)
    changed = _body(survey, answers=CITIZEN_ANSWERS | {"q_aw3": "no"})
    response = client.post("/api/v1/fieldworks/invited/responses", json=changed, headers=headers)
    assert response.status_code == 409 and response.get_json()["error"]["reason"] == "submission_conflict"
    assert _count() == 1


def test_bad_answers_and_fields_are_named_and_nothing_stored(client, survey, create_user):
    headers = _key(create_user)
    bad = _body(survey, answers=CITIZEN_ANSWERS | {"q_dg4": "11", "age": "old"})
    response = client.post("/api/v1/fieldworks/invited/responses", json=bad, headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["answers"]) == {"q_dg4", "age"}
    malformed = client.post("/api/v1/fieldworks/invited/responses", json={"unit": 5}, headers=headers)
    assert malformed.status_code == 422
    assert set(malformed.get_json()["error"]["fields"]) == {"unit", "answers", "submission_id"}
    not_json = client.post("/api/v1/fieldworks/invited/responses", data="[1, 2", headers=headers,
                           content_type="application/json")
    assert not_json.status_code == 400
    assert _count() == 0


def test_a_missing_or_revoked_key_is_refused(client, survey, create_user):
    assert client.post("/api/v1/fieldworks/invited/responses", json=_body(survey)).status_code == 401
    record, key = collection.create_api_key("old", actor=create_user("administrator"))
    collection.revoke_api_key(record, actor=create_user("administrator"))
    db.session.commit()
    response = client.post("/api/v1/fieldworks/invited/responses", json=_body(survey),
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401 and response.is_json


def test_openapi_document_is_valid(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(document)
    assert "Submission" in document["components"]["schemas"]


def test_control_characters_in_a_text_answer_are_refused_by_name_and_a_nul_anywhere_is_400(client, survey,
                                                                                           create_user):
    headers = _key(create_user)
    body = _body(survey, "ctl-1", answers={**CITIZEN_ANSWERS, "province": "Hà\x0bNội"})
    refused = client.post("/api/v1/fieldworks/invited/responses", json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["answers"] == {
        "province": "Câu trả lời có ký tự điều khiển không nhìn thấy; vui lòng nhập lại."}
    body = _body(survey, "nul-1", answers={**CITIZEN_ANSWERS, "province": "Hà\x00Nội"})
    assert client.post("/api/v1/fieldworks/invited/responses", json=body, headers=headers).status_code == 400
    assert _count() == 0
