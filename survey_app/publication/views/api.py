"""The published results as JSON, read-only and without a key (described in the OpenAPI document at
``/api/v1/openapi.json``): the rounds, a round's ranking (a national round's value and series), a unit's
scorecard, and every round's values in long format, filtered and a page at a time (the open data's rows)."""

from __future__ import annotations

import re

from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _

from survey_app.core.errors import ServiceError, api_error
from survey_app.core.security import public
from survey_app.publication import methodology as method
from survey_app.publication import open_data
from survey_app.publication import operations as publication
from survey_app.publication.blueprint import results_api as blueprint
from survey_app.publication.views import results
from survey_app.publication.views.open_data import published_with_runs, round_table


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
    if evaluation_round.level == method.NATIONAL:
        # the country is one unit: its value and its series across the years, not a one-row ranking; a later
        # year's publication extends the series
        return jsonify(
            results.published_cached(
                run, ("api-national", method.national_key()), lambda: _national(evaluation_round, run)
            )
        )
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


def _national(evaluation_round, run) -> dict:
    """A national round's document: the country's index and pillar (or main-index) values, and its series."""
    series = method.national_series(evaluation_round)
    current = next((row for row in series["rows"] if row["code"] == evaluation_round.code), None)
    table = round_table(run)
    if current is None or table.empty:
        abort(404)  # a published national round is in its own series and has its row: not found otherwise
    # the open data's first row is the country's whole index, with its names in both languages
    country = table.iloc[0]
    return {
        "round": _round_entry(evaluation_round),
        "country": {
            "unit": country["unit"],
            "name": {"vi": country["unit_name_vi"], "en": country["unit_name_en"]},
            "index": current["index"],
            "values": current["values"],
        },
        "series": [
            {"round": row["code"], "year": row["year"], "index": row["index"], "values": row["values"]}
            for row in series["rows"]
        ],
    }


#: the query parameters of the values endpoint; any other is refused, so that a misspelt filter is not ignored
VALUE_PARAMETERS = ("year", "level", "round", "unit", "node", "kind", "page", "per_page")


def _whole_number(name: str, low: int, high: int | None = None) -> int | None:
    """A query parameter that must be a whole number in [low, high]; None when absent.

    :raises ValueError: with the translated message for the client
    """
    given = request.args.get(name)
    if given is None:
        return None
    # written in ASCII digits only: int() alone would also take " 5", "1_000" and digits of other scripts (and
    # refuses a number of more than 4,300 digits)
    try:
        number = int(given) if re.fullmatch(r"-?[0-9]+", given) else None
    except ValueError:
        number = None
    if number is None:
        raise ValueError(_("The parameter %(name)s must be a whole number.", name=name))
    if number < low or (high is not None and number > high):
        if high is None:
            raise ValueError(_("The parameter %(name)s must be at least %(low)s.", name=name, low=low))
        raise ValueError(
            _("The parameter %(name)s must be between %(low)s and %(high)s.", name=name, low=low, high=high)
        )
    return number


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    given = request.args.get(name)
    if given is not None and given not in allowed:
        raise ValueError(
            _("The parameter %(name)s must be one of: %(allowed)s.", name=name, allowed=", ".join(allowed))
        )
    return given


def _value_query() -> open_data.ValueQuery:
    """The values endpoint's query from the request's parameters.

    :raises ValueError: with the translated message for the client
    """
    unknown = sorted(set(request.args) - set(VALUE_PARAMETERS))
    if unknown:
        raise ValueError(
            _(
                "Unknown parameter: %(names)s. The parameters are %(allowed)s.",
                names=", ".join(unknown),
                allowed=", ".join(VALUE_PARAMETERS),
            )
        )
    return open_data.ValueQuery(
        year=_whole_number("year", 0),
        level=_choice("level", open_data.LEVELS),
        round=request.args.get("round") or None,
        unit=request.args.get("unit") or None,
        node=request.args.get("node") or None,
        kind=_choice("kind", open_data.NODE_KINDS),
        page=_whole_number("page", 1) or 1,
        per_page=_whole_number("per_page", 1, open_data.MAX_PER_PAGE) or open_data.DEFAULT_PER_PAGE,
    )


@blueprint.get("/v1/results/values")
@public
@results.limited
def result_values():
    """Every published round's values, one item per round, unit and node, filtered and a page at a time."""
    try:
        query = _value_query()
    except ValueError as error:
        return api_error(400, str(error))
    tables = [round_table(run) for found, run in published_with_runs() if query.wants(found)]
    page = open_data.page_of(open_data.filtered(tables, query), query)

    def link(number: int) -> str:
        arguments = {name: value for name, value in request.args.items() if name != "page"}
        return url_for("results_api.result_values", **arguments, page=number, _external=True)

    page["links"] = {
        "self": link(query.page),
        "first": link(1),
        "last": link(page["pages"]),
        "prev": link(min(query.page - 1, page["pages"])) if query.page > 1 else None,
        "next": link(query.page + 1) if query.page < page["pages"] else None,
    }
    return jsonify(page)
