"""A property test of the submission API generated from its own OpenAPI description (Schemathesis' strategy
for the operation's body; hypothesis-jsonschema does not run on this Hypothesis), with what generators of valid
JSON never send: lone UTF-16 surrogates, nesting deeper than the parser goes, numbers too large for a float
or an integer, NaN and Infinity, and answers shaped like the demo questionnaire's with one thing wrong.
Whatever arrives, the API answers below 500, in JSON, and a refused submission stores nothing.

Bodies are sent as raw bytes, so that what ``json.dumps`` would never write (``1e999``, ``NaN``, a
5,000-digit integer) reaches the service as a client could send it."""

from __future__ import annotations

import json
import math

import pytest
import schemathesis
from hypothesis import event, given
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from sqlalchemy import func, select

from questionnaires.questions import QuestionType
from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Response
from tests.conftest import CITIZEN_ANSWERS

URL = "/api/v1/fieldworks/invited/responses"


#: any JSON value, as an answer could be
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def key(app, survey):
    _, key = collection.create_api_key("properties", [survey.invited], actor=None)
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def submissions(app):
    """Bodies of the submission operation, generated from the OpenAPI description the service serves."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    [operation] = [result.ok() for result in schema.get_all_operations() if result.ok().method.upper() == "POST"]
    return operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(lambda case: case.body)


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


#: raw JSON values a client can send that no JSON library writes
HOSTILE_VALUES = st.sampled_from(
    [
        '"\\ud800"',
        '"a\\udfffb"',
        '"\\udbff\\udbff"',
        '"\\u0000"',
        "1e999",
        "-1e999",
        "NaN",
        "Infinity",
        "-Infinity",
        "9" * 5000,
        "1" + "0" * 400,
        "1e-400",
        "-0",
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        '"' + "ệ" * 100_000 + '"',
        "[]",
        "{}",
        "true",
        "null",
    ]
)


def _with_hostile(body: dict, data, questions: list[str], typed: list[str]) -> bytes:
    """The body as JSON text with one value somewhere replaced by a hostile one (``questions``: the codes an
    answer may be given to; ``typed``: those answered in free text, where most hostile text lands)."""
    where = data.draw(
        st.sampled_from(
            ["typed_answer"] * 4
            + ["answer", "new_answer", "submission_id", "unit", "duration_seconds", "started_at", "answer_key", "whole"]
        ),
        label="where",
    )
    hostile = data.draw(HOSTILE_VALUES, label="hostile")
    marker = "\u2603HOSTILE\u2603"
    body = json.loads(json.dumps(body))
    answers = body.setdefault("answers", {}) if isinstance(body.get("answers"), dict) else {}
    if where == "typed_answer":
        answers[data.draw(st.sampled_from(typed), label="question")] = marker
    elif where == "answer" and answers:
        answers[data.draw(st.sampled_from(sorted(answers)), label="question")] = marker
    elif where == "answer_key":
        answers[marker] = "yes"
    elif where == "whole":
        return hostile.encode()
    elif where == "new_answer" or not answers:
        answers[data.draw(st.sampled_from(questions), label="question")] = marker
    else:
        body[where] = marker
    text = json.dumps(body, ensure_ascii=False)
    if where == "answer_key":
        return text.replace(
            json.dumps(marker, ensure_ascii=False), hostile if hostile.startswith('"') else json.dumps(hostile)
        ).encode("utf-8", "surrogatepass")
    return text.replace(json.dumps(marker, ensure_ascii=False), hostile).encode("utf-8", "surrogatepass")


def _realistic(data, survey_units) -> dict:
    """A submission to the demo questionnaire, mostly valid: answers a respondent could give, with at most one
    changed to any JSON value."""
    answers = dict(CITIZEN_ANSWERS)
    if data.draw(st.booleans(), label="change an answer"):
        question = data.draw(st.sampled_from(sorted(answers)), label="changed")
        answers[question] = data.draw(JSON_VALUES, label="to")
    return {"submission_id": data.draw(st.uuids(), label="id").hex, "unit": survey_units[0].code, "answers": answers}


@given(data=st.data())
def test_any_body_gets_an_answer_below_500_and_a_refusal_stores_nothing(client, survey, key, submissions, data):
    kind = data.draw(st.sampled_from(["schema", "realistic", "hostile", "hostile realistic"]), label="kind")
    if kind == "schema":
        raw = json.dumps(data.draw(submissions, label="body")).encode()
    elif kind == "realistic":
        raw = json.dumps(_realistic(data, survey.units), ensure_ascii=False).encode()
    else:
        base = data.draw(submissions, label="body") if kind == "hostile" else _realistic(data, survey.units)
        questions = survey.questionnaire.questionnaire.questions()
        raw = _with_hostile(
            base, data, [q.code for q in questions], [q.code for q in questions if q.type is QuestionType.TEXT]
        )
    before = _stored()
    response = client.post(URL, data=raw, content_type="application/json", headers=key)
    event(f"{kind} → {response.status_code}")
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    assert response.is_json and "Traceback" not in response.get_data(as_text=True)
    if response.status_code == 201:
        assert _stored() in (before, before + 1)
        stored = db.session.scalar(select(Response).order_by(Response.id.desc()))
        for value in stored.answers.values():
            assert not (isinstance(value, float) and not math.isfinite(value))
    else:
        assert response.status_code in (400, 409, 413, 422), response.status_code
        assert response.get_json()["error"]["message"]
        assert _stored() == before
    db.session.rollback()


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000])
def test_numbers_json_cannot_hold_are_refused_before_anything_reads_them(client, survey, key, number):
    body = json.dumps(
        {"submission_id": "n", "unit": survey.units[0].code, "answers": CITIZEN_ANSWERS | {"q_dg4": "X"}}
    ).replace('"X"', number)
    response = client.post(URL, data=body, content_type="application/json", headers=key)
    assert response.status_code == 400 and _stored() == 0
