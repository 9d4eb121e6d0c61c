"""The published results as JSON, read-only and without a key (described in the OpenAPI document at
``/api/v1/openapi.json``)."""

from __future__ import annotations

from flask import jsonify

from survey_app.core.errors import ServiceError, api_error
from survey_app.core.security import public
from survey_app.publication import operations as publication
from survey_app.publication.blueprint import results_api as blueprint
from survey_app.publication.views import results


def _round_entry(evaluation_round) -> dict:
    return {
        "code": evaluation_round.code,
        "year": evaluation_round.year,
        "level": evaluation_round.level,
        "name": {"vi": evaluation_round.name_vi, "en": evaluation_round.name_en},
        "published_at": evaluation_round.published_at.isoformat(),
    }


@blueprint.get("/v1/results")
@public
@results.limited
def result_rounds():
    return jsonify(rounds=[_round_entry(r) for r in publication.published_rounds()])


@blueprint.get("/v1/results/<round_code>")
@public
@results.limited
def result_ranking(round_code: str):
    evaluation_round, run = results.published(round_code)
    return jsonify(
        results.published_cached(
            run,
            ("api-ranking",),
            lambda: {"round": _round_entry(evaluation_round), "units": results.ranking_rows(evaluation_round, run)[0]},
        )
    )


@blueprint.get("/v1/results/<round_code>/units/<unit_code>")
@public
@results.limited
def result_unit(round_code: str, unit_code: str):
    evaluation_round, run = results.published(round_code)
    try:
        document = results.published_cached(
            run,
            ("api-unit", unit_code),
            lambda: {"round": _round_entry(evaluation_round), **publication.scorecard(run, unit_code)},
        )
    except ServiceError:
        return api_error(404, "No such unit in this round's results")
    return jsonify(document)
