"""The submission API's schemas: what a submission must hold (validated on load), and the receipt and error it
answers with; the OpenAPI document at ``/api/v1/openapi.json`` is built from them."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates

#: the longest submission identifier, unit code and question code a submission may hold
SUBMISSION_ID_MAX, UNIT_CODE_MAX, QUESTION_CODE_MAX = 64, 32, 64
DURATION_MAX_SECONDS = 86400 * 30


class SubmissionSchema(Schema):
    submission_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=SUBMISSION_ID_MAX),
        metadata={
            "description": "The client's identifier of this submission; a UUID is "
            "recommended. Sending it again is safe."
        },
    )
    unit = fields.String(
        required=True,
        validate=validate.Length(min=1, max=UNIT_CODE_MAX),
        metadata={"description": "The code of the unit the respondent answers for (e.g. HNI)."},
    )
    answers = fields.Dict(
        required=True,
        metadata={
            "description": "Answers by question code: a choice's value, a list of values "
            "for multiple choice, a number, or text."
        },
    )
    started_at = fields.AwareDateTime(load_default=None, allow_none=True)
    duration_seconds = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=DURATION_MAX_SECONDS)
    )

    @validates("answers")
    def _question_codes(self, answers: dict, **_kwargs) -> None:
        # one pass over the codes: a keys field would deserialise each code on its own, five times the cost
        for code in answers:
            QUESTION_CODE(code)


QUESTION_CODE = validate.Length(max=QUESTION_CODE_MAX)


#: one instance for every request: loading keeps no state on the schema
SUBMISSION = SubmissionSchema()

_FIELDS = frozenset(SUBMISSION.fields)


def load_submission(payload: dict) -> dict[str, Any]:
    """A submission's fields as ``SUBMISSION.load`` gives them (:raises ValidationError: as it does).

    The submission every interviewing tool sends, the three required fields plainly valid and the optional
    ones absent, empty or a duration in range, is read here in a few steps; anything else, and every error, is
    the schema's. (Marshmallow's field by field machinery was a tenth of the submission API's CPU.)
    tests/app/survey/test_api.py holds both to the same answers."""
    submission_id, unit, answers = payload.get("submission_id"), payload.get("unit"), payload.get("answers")
    duration = payload.get("duration_seconds")
    if (
        payload.keys() <= _FIELDS
        and submission_id.__class__ is str
        and 0 < len(submission_id) <= SUBMISSION_ID_MAX
        and unit.__class__ is str
        and 0 < len(unit) <= UNIT_CODE_MAX
        and answers.__class__ is dict
        and all(len(code) <= QUESTION_CODE_MAX for code in answers)
        and payload.get("started_at") is None
        and (duration is None or (duration.__class__ in (int, float) and 0 <= duration <= DURATION_MAX_SECONDS))
    ):
        return {
            "submission_id": submission_id,
            "unit": unit,
            "answers": dict(answers),
            "started_at": None,
            "duration_seconds": None if duration is None else float(duration),
        }
    return SUBMISSION.load(payload)


class ReceiptSchema(Schema):
    receipt = fields.String(metadata={"description": "A reference to quote; reveals nothing of the response."})
    submitted_at = fields.AwareDateTime()


class ErrorSchema(Schema):
    error = fields.Dict(
        metadata={
            "description": "code (HTTP status), title, message, and for invalid answers "
            "or fields the problem of each, by name"
        }
    )
