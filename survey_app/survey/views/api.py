"""The JSON API: health and response submission for telephone-interview tools and partners,
described (with the published results of ``survey_app.publication``) as OpenAPI at /api/v1/openapi.json.
Errors under /api/ answer in JSON (``survey_app.core.errors``).

A submission is idempotent on its ``submission_id``: sent again with the same content it answers exactly
as the first time (201, same body); with other content it is refused with 409.
"""

from __future__ import annotations

from datetime import timezone

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import abort, current_app, g, jsonify, request
from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import text

from survey_app.core.errors import ServiceError, api_error
from survey_app.core.extensions import db
from survey_app.core.i18n import describe_answer_problems, describe_error
from survey_app.core.security import api_key, public, spend_rate_limit
from survey_app.publication import open_data
from survey_app.survey import operations as collection
from survey_app.survey.blueprint import api as blueprint
from survey_app.survey.schemas import ErrorSchema, ReceiptSchema, SubmissionSchema, load_submission

#: service errors and their HTTP status
STATUS = {
    "submission_conflict": 409,
    "fieldwork_closed": 410,
    "quota_full": 409,
    "not_in_quota": 422,
    "invalid_answers": 422,
    "unit_not_in_fieldwork": 422,
    "bad_submission_id": 422,
}


@blueprint.get("/health")
@public
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")


@blueprint.post("/v1/fieldworks/<code>/responses")
@api_key
def submit_response(code: str):
    spend_rate_limit(current_app.config["API_RATE_LIMIT"], "api-key", str(g.api_key.id))
    target = collection.submission_target(code)
    if target is None:
        return api_error(404, _("The page you asked for does not exist or has moved."))
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return api_error(400, _("The body must be a JSON object."))
    try:
        submission = load_submission(payload)
    except ValidationError as error:
        return api_error(422, _("Some fields are missing or not valid."), fields=error.messages)
    try:
        outcome = collection.submit_with_key(
            target,
            submission["unit"],
            submission["answers"],
            submission["submission_id"],
            api_key=g.api_key,
            started_at=submission["started_at"],
            duration_seconds=submission["duration_seconds"],
        )
    except ServiceError as error:
        if error.code == "api_key_revoked":
            abort(401)
        if error.code == "api_key_not_for_fieldwork":
            return api_error(403, describe_error(error), reason=error.code)
        if error.code == "fieldwork_gone":
            return api_error(404, _("The page you asked for does not exist or has moved."))
        details = {}
        if error.code == "invalid_answers":
            details["answers"] = describe_answer_problems(error.params["problems"], target.questionnaire.questions())
        return api_error(STATUS.get(error.code, 400), describe_error(error), reason=error.code, **details)
    collection.note_key_use(g.api_key)
    response = outcome.response
    return jsonify(
        receipt=collection.receipt(response), submitted_at=response.submitted_at.astimezone(timezone.utc).isoformat()
    ), 201


@blueprint.get("/v1/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())


def openapi_document() -> dict:
    """The API's OpenAPI 3 description, built from the marshmallow schemas it validates with."""
    spec = APISpec(
        title="DTI survey API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Submit survey responses collected by telephone interviews or partners."},
    )
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Submission", schema=SubmissionSchema)
    spec.components.schema("Receipt", schema=ReceiptSchema)
    spec.components.schema("Error", schema=ErrorSchema)
    error = {"content": {"application/json": {"schema": "Error"}}}
    spec.path(
        path="/api/v1/fieldworks/{code}/responses",
        operations={
            "post": {
                "summary": "Submit one complete response",
                "security": [{"apiKey": []}],
                "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": "Submission"}}},
                "responses": {
                    "201": {
                        "description": "Stored (or stored before under the same identifier and content)",
                        "content": {"application/json": {"schema": "Receipt"}},
                    },
                    "400": {"description": "The body is not a JSON object", **error},
                    "401": {"description": "Missing or unknown API key", **error},
                    "403": {"description": "The key was not issued for this fieldwork", **error},
                    "404": {"description": "No such fieldwork", **error},
                    "409": {
                        "description": "Another payload under this identifier, or the quota stratum is full",
                        **error,
                    },
                    "410": {"description": "The fieldwork is closed", **error},
                    "422": {"description": "Invalid fields or answers, each named", **error},
                    "429": {"description": "Too many requests", **error},
                },
            }
        },
    )
    not_found = {"description": "No published results for this round (or unit)", **error}
    spec.path(
        path="/api/v1/results",
        operations={
            "get": {"summary": "The rounds with published results", "responses": {"200": {"description": "OK"}}}
        },
    )
    round_parameter = {"name": "round_code", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(
        path="/api/v1/results/{round_code}",
        operations={
            "get": {
                "summary": "A round's published ranking: every unit's index, rank, their simulated 95% intervals, and "
                "pillar and main-index values; for the national level, the country's value and its series across the "
                "years, without a rank",
                "parameters": [round_parameter],
                "responses": {
                    "200": {"description": "OK"},
                    "404": not_found,
                    "429": {"description": "Too many requests"},
                },
            }
        },
    )
    spec.path(
        path="/api/v1/results/{round_code}/units/{unit_code}",
        operations={
            "get": {
                "summary": "A unit's scorecard: every node's points, value and rank, where each criterion's points "
                "come from, last year's index, strongest and weakest main indices",
                "parameters": [
                    round_parameter,
                    {"name": "unit_code", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "OK"},
                    "404": not_found,
                    "429": {"description": "Too many requests"},
                },
            }
        },
    )
    for path, operations in open_data.openapi_paths().items():
        spec.path(path=path, operations=operations)
    spec.path(
        path="/api/health",
        operations={"get": {"summary": "Liveness and database check", "responses": {"200": {"description": "OK"}}}},
    )
    return spec.to_dict()
