"""The submission API's schemas: what a submission must hold (validated on load), and the receipt and error it
answers with; the OpenAPI document at ``/api/v1/openapi.json`` is built from them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate, validates


class SubmissionSchema(Schema):
    submission_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "The client's identifier of this submission; a UUID is "
            "recommended. Sending it again is safe."
        },
    )
    unit = fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
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
    duration_seconds = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=86400 * 30))

    @validates("answers")
    def _question_codes(self, answers: dict, **_kwargs) -> None:
        # one pass over the codes: a keys field would deserialise each code on its own, five times the cost
        for code in answers:
            QUESTION_CODE(code)


QUESTION_CODE = validate.Length(max=64)


#: one instance for every request: loading keeps no state on the schema
SUBMISSION = SubmissionSchema()


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
