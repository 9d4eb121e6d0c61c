"""Open data on the public results site (``/results/data/``): every published round's results in long format as
CSV and Excel at stable addresses, the Frictionless data package that describes them, and a page listing the
files. The same rows, filtered and paginated, are in the API (``/api/v1/results/values``, see api.py)."""

from __future__ import annotations

import pandas as pd
from flask import jsonify, render_template, url_for

from survey_app.core.downloads import TABLE_FORMATS, table_file
from survey_app.core.security import public
from survey_app.publication import open_data
from survey_app.publication import operations as publication
from survey_app.publication.blueprint import results as blueprint
from survey_app.publication.views import results
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import ScoringRun


def round_table(run: ScoringRun) -> pd.DataFrame:
    """The run's open-data table, made once per published run (see ``results.published_cached``): it names
    units and nodes in both languages, so one table serves every visitor."""
    return results.published_cached(run, ("open-data",), lambda: open_data.round_table(run), per_language=False)


def published_with_runs() -> list[tuple[EvaluationRound, ScoringRun]]:
    return [(found, run) for found in publication.published_rounds() if (run := scoring.published_run(found))]


@blueprint.get("/data/")
@public
@results.limited
def open_data_page():
    return render_template(
        "results/open_data.html",
        rounds=publication.published_rounds(),
        formats=list(TABLE_FORMATS),
        license=open_data.LICENSE,
        fields=open_data.FIELDS,
        max_per_page=open_data.MAX_PER_PAGE,
    )


@blueprint.get("/data/datapackage.json")
@public
@results.limited
def data_package():
    rounds = [
        (found, url_for("results.round_data", round_code=found.code, fmt="csv", _external=True))
        for found, _ in published_with_runs()
    ]
    package = open_data.data_package(rounds, url_for("results.open_data_page", _external=True))
    return jsonify(package)


@blueprint.get("/data/<round_code>.<any(csv, xlsx):fmt>")
@public
@results.limited
def round_data(round_code: str, fmt: str):
    """A round's results in long format: one row per unit and node."""
    _, run = results.published(round_code)
    table = round_table(run)
    if fmt == "xlsx":
        table = open_data.spreadsheet_table(table)
    return table_file(table, f"dti-{round_code}", fmt, sheet="results")
