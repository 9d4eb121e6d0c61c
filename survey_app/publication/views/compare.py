"""Two public pages beside the ranking: two to four units of a round side by side (``/results/<round>/compare``,
chosen by a plain GET form) and one unit's results across the published years of its level
(``/results/series/<level>/<unit>``), each with a chart drawn on the server and no script."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from survey_app.core.i18n import current_language
from survey_app.core.security import public
from survey_app.publication import compare as comparing
from survey_app.publication import methodology as method
from survey_app.publication import operations as publication
from survey_app.publication import series as across_years
from survey_app.publication.blueprint import results as blueprint
from survey_app.publication.views.results import limited, published, published_cached

#: what a comparison that cannot be made tells the visitor, by ``compare.ChoiceProblem`` code
_PROBLEMS = {
    "too_few": _l("Choose at least %(fewest)s different units to compare (you chose %(count)s)."),
    "too_many": _l("Choose at most %(most)s units to compare (you chose %(count)s)."),
    "unknown_unit": _l("This round has no published result for a unit with the code “%(unit)s”."),
}
#: more values of ``unit`` than this in one address are not read (a comparison takes at most four)
_READ_AT_MOST = 20


@blueprint.get("/<round_code>/compare")
@public
@limited
def compare(round_code: str):
    evaluation_round, run = published(round_code)
    if evaluation_round.level == method.NATIONAL:
        abort(404)  # the country alone: nothing to compare it with
    names = {unit.code: unit.name for unit in evaluation_round.unit_list.units if unit.code in run.index}
    asked = request.args.getlist("unit")[:_READ_AT_MOST]
    view = {
        "evaluation_round": evaluation_round,
        "run": run,
        "names": names,
        "asked": asked,
        "fewest": comparing.FEWEST,
        "most": comparing.MOST,
        "found": None,
        "problem": None,
    }
    if "unit" not in request.args:
        # the form not yet sent: the form alone, its first unit chosen when a scorecard's link names it (``start``)
        start = request.args.get("start", "")
        view["asked"] = [start] if start in names else []
        return render_template("results/compare.html", **view)
    try:
        codes = comparing.chosen_units(asked, list(names))
    except comparing.ChoiceProblem as problem:
        view["problem"] = _PROBLEMS[problem.code] % problem.params
        return render_template("results/compare.html", **view), 400
    # each unit's card is kept per run, never the combinations people ask for (they would crowd the cache out)
    cards = {
        code: published_cached(run, ("card", code), lambda code=code: publication.scorecard(run, code))
        for code in codes
    }
    language = current_language()
    view["found"] = comparing.comparison(cards, names)
    view["node_names"] = {
        node["code"]: node["name"].get(language) or node["name"]["vi"] for node in view["found"]["nodes"]
    }
    return render_template("results/compare.html", **view)


@blueprint.get("/series/<level>/<unit_code>")
@public
@limited
def series(level: str, unit_code: str):
    rounds = across_years.level_rounds(level)
    anchored = across_years.anchor(rounds, unit_code)
    if anchored is None:
        message = _("No published round of this level has a unit with the code “%(unit)s”.", unit=unit_code[:32])
        return render_template("errors/error.html", code=404, title=_("Page not found"), message=message), 404
    newest_run = rounds[-1][1]

    def content():
        found = across_years.unit_series(level, unit_code)
        language = current_language()
        columns = [
            (column["code"], column["name"].get(language) or column["name"]["vi"]) for column in found["columns"]
        ]
        return render_template(
            "results/_series.html",
            found=found,
            columns=columns,
            charts=across_years.charts(found),
        )

    # a later publication extends the series: the level's published rounds are part of the key
    page = published_cached(newest_run, ("series", level, unit_code, across_years.version_key(rounds)), content)
    return render_template("results/series.html", unit=anchored[1], content=Markup(page))
