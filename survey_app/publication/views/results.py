"""The public results site (``/results``), no login: the published rounds, each round's ranking with search and
sort, each unit's scorecard with its explanation, charts drawn on the server (no script needed), and the ranking
as CSV or Excel, and PDF reports per unit and per level. The same data as JSON are under ``/api/v1/results``
(see api.py)."""

from __future__ import annotations

from typing import Any, Callable

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from sampling import plain_text as _plain
from survey_app.core.cache import Cache
from survey_app.core.downloads import pdf_file, table_file
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db, limiter
from survey_app.core.i18n import current_language, moment
from survey_app.core.security import public
from survey_app.publication import methodology as method
from survey_app.publication import methodology_reports, reports, targets
from survey_app.publication import operations as publication
from survey_app.publication.blueprint import results as blueprint
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import index_audit
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import ScoringRun


def public_limit() -> str:
    return current_app.config["PUBLIC_RATE_LIMIT"]


limited = limiter.limit(public_limit)


def published(round_code: str) -> tuple[EvaluationRound, ScoringRun]:
    """A round with published results and its published run; any other is not found."""
    found = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == round_code))
    run = scoring.published_run(found) if found is not None else None
    if run is None:
        abort(404)
    return found, run


#: rendered page contents and JSON documents of published runs; a run's results never change once published,
#: so an entry lives until it is the least recently used of the full cache
CACHE_ENTRIES = 512
_PUBLISHED_CACHE: Cache[Any] = Cache(CACHE_ENTRIES)


def published_cached(run: ScoringRun, key: tuple, make: Callable[[], Any], *, per_language: bool = True) -> Any:
    """``make()``, made once per published run, language and ``key`` in this process (once for every language
    when ``per_language`` is False: what holds both languages itself). Only what every visitor sees goes in: a
    page's content, never its frame (which shows who is logged in) nor a form's token."""
    language = current_language() if per_language else None
    return _PUBLISHED_CACHE.get_or_make((run.id, run.published_at, language, *key), make)


def ranking_rows(evaluation_round: EvaluationRound, run: ScoringRun) -> tuple[list[dict], list[tuple[str, str]]]:
    """The ranking with last year's index beside each unit, and the pillar and main-index columns."""
    table = scoring.ranking(run)
    previous = publication.previous_values(evaluation_round)
    table["previous"] = [previous.get(code, {}).get("index") for code in table["unit"]]
    language = current_language()
    columns = [(node.code, node.name.in_language(language)) for node in scoring.ranking_nodes(run)]
    return table.to_dict("records"), columns


@blueprint.get("/")
@public
@limited
def index():
    rounds = publication.published_rounds()
    # the country's value stands beside the rankings of the other levels, not as a one-row ranking
    country = {
        found.code: next(iter(run.index.values()), None)
        for found in rounds
        if found.level == method.NATIONAL and (run := scoring.published_run(found)) is not None
    }
    return render_template("results/index.html", rounds=rounds, country=country)


@blueprint.get("/<round_code>")
@public
@limited
def ranking(round_code: str):
    evaluation_round, run = published(round_code)
    if evaluation_round.level == method.NATIONAL:
        return _national(evaluation_round, run)
    query = (request.args.get("q") or "").strip()[:100]
    sort = request.args.get("sort", "rank")
    descending = request.args.get("order") == "desc"
    group = request.args.get("group") or None

    columns = published_cached(run, ("columns",), lambda: [code for code, _ in ranking_rows(evaluation_round, run)[1]])
    if sort not in {"rank", "name", "index", *columns}:
        sort = "rank"

    groups = published_cached(run, ("groups",), lambda: _groups(ranking_rows(evaluation_round, run)[0]))
    if group not in groups:
        group = None

    def content():
        return render_template(
            "results/_ranking.html", **_ranking_view(evaluation_round, run, query, sort, descending, group, groups)
        )

    if query:  # a search is rendered for itself: what people type must not fill the cache
        page = content()
    else:
        # strategic targets are reported, and the run audited, after publication: their versions are part of the key
        key = ("ranking", sort, descending, group, targets.version(), index_audit.audit_version(run))
        page = published_cached(run, key, content)
    return render_template("results/ranking.html", evaluation_round=evaluation_round, content=Markup(page))


def _groups(rows: list[dict]) -> list[str]:
    """The ranking groups of a round's units, in a fixed order (units providing online services first)."""
    return sorted({row["group"] for row in rows if row.get("group")})[::-1]


def _ranking_view(
    evaluation_round: EvaluationRound,
    run: ScoringRun,
    query: str,
    sort: str,
    descending: bool,
    group: str | None = None,
    groups: list[str] = (),
) -> dict:
    rows, columns = ranking_rows(evaluation_round, run)
    if group:
        # a group's own ranking: its units, ordered by their rank within it
        rows = [row for row in rows if row.get("group") == group]
        for row in rows:
            row["rank"] = row["group_rank"]
    if query:
        wanted = _plain(query)
        rows = [row for row in rows if wanted in _plain(row["name"]) or wanted == row["unit"].lower()]
    keys = {"rank", "name", "index"} | {code for code, _ in columns}
    if sort not in keys:
        sort = "rank"
    if sort == "name":
        rows.sort(key=lambda row: _plain(row["name"]), reverse=descending)
    elif sort == "rank":
        rows.sort(key=lambda row: (row["rank"], row["unit"]), reverse=descending)
    else:
        # a value column reads best first unless asked otherwise
        rows.sort(key=lambda row: row[sort], reverse=not descending)
    top = max((row["index"] for row in rows), default=0) or 1
    return {
        "evaluation_round": evaluation_round,
        "run": run,
        "rows": rows,
        "columns": columns,
        "query": query,
        "sort": sort,
        "descending": descending,
        "top": top,
        "close": scoring.not_meaningfully_ahead(run),
        "progress": targets.year_progress(evaluation_round.year),
        "mergers": publication.merger_series(run),
        "group": group,
        "groups": list(groups),
        "robustness": index_audit.robustness(run),
        "audit_label": index_audit.audit_label,
    }


@blueprint.get("/<round_code>/ranking.<fmt>")
@public
@limited
def export(round_code: str, fmt: str):
    evaluation_round, run = published(round_code)
    if fmt == "pdf" and evaluation_round.level == method.NATIONAL:
        series, nodes = _national_content(evaluation_round, run)
        data = methodology_reports.national_report(
            round_name=evaluation_round.name(current_language()),
            series=series,
            year=evaluation_round.year,
            nodes=nodes,
            published=run.published_at,
            footer=_footer(run),
        )
        return pdf_file(data, f"dti-{round_code}-national")
    if fmt == "pdf":
        rows, columns = ranking_rows(evaluation_round, run)
        data = reports.level_report(
            round_name=evaluation_round.name(current_language()),
            rows=rows,
            columns=columns,
            published=run.published_at,
            footer=_footer(run),
        )
        return pdf_file(data, f"dti-{round_code}-ranking")
    return table_file(scoring.ranking(run), f"dti-{round_code}-ranking", fmt, sheet="ranking")


def _footer(run: ScoringRun) -> str:
    version = run.versions["framework"]
    return _(
        "Published %(when)s · run %(number)s · framework %(code)s v%(version)s",
        when=moment(run.published_at),
        number=run.number,
        code=version["code"],
        version=version["version"],
    )


@blueprint.get("/<round_code>/units/<unit_code>", defaults={"fmt": "html"})
@blueprint.get("/<round_code>/units/<unit_code>.<any(pdf):fmt>")
@public
@limited
def scorecard(round_code: str, unit_code: str, fmt: str):
    evaluation_round, run = published(round_code)
    unit = next((u for u in evaluation_round.unit_list.units if u.code == unit_code), None)
    if unit is None:
        abort(404)

    def content():
        card = publication.scorecard(run, unit_code)
        language = current_language()
        names = {node["code"]: node["name"].get(language) or node["name"]["vi"] for node in card["nodes"]}
        if fmt == "pdf":
            return reports.unit_report(
                round_name=evaluation_round.name(language),
                unit_name=unit.name,
                card=card,
                names=names,
                published=run.published_at,
                footer=_footer(run),
            )
        profile = [node for node in card["nodes"] if node["kind"] == "main_index" and node.get("value") is not None]
        return render_template(
            "results/_scorecard.html",
            evaluation_round=evaluation_round,
            run=run,
            unit=unit,
            card=card,
            names=names,
            profile=profile,
        )

    try:
        made = published_cached(run, ("scorecard", unit_code, fmt), content)
    except ServiceError:
        abort(404)
    if fmt == "pdf":
        return pdf_file(made, f"dti-{round_code}-{unit_code}")
    return render_template("results/scorecard.html", evaluation_round=evaluation_round, unit=unit, content=Markup(made))


def _national_content(evaluation_round: EvaluationRound, run: ScoringRun) -> tuple[dict, list[dict]]:
    """The national index's series up to the round's year, and the round's pillars or main indices."""
    series = method.national_series(evaluation_round)
    current = next(row for row in series["rows"] if row["code"] == evaluation_round.code)
    nodes = [
        {"code": node.code, "name": method.bilingual(node.name), "points": node.points}
        for node in scoring.ranking_nodes(run)
        if node.code in current["values"]
    ]
    return series, nodes


def _national(evaluation_round: EvaluationRound, run: ScoringRun):
    """The national level's page: the country's value, its pillars or main indices, and its series across the
    published years (a chart and the same numbers as a table)."""

    def content():
        series, nodes = _national_content(evaluation_round, run)
        current = next(row for row in series["rows"] if row["code"] == evaluation_round.code)
        return render_template(
            "results/_national.html",
            evaluation_round=evaluation_round,
            run=run,
            series=series,
            current=current,
            nodes=nodes,
            points=[(row["year"], row["index"]) for row in series["rows"]],
        )

    # a later year's publication extends the series shown with every earlier year
    page = published_cached(run, ("national", method.national_key()), content)
    return render_template("results/ranking.html", evaluation_round=evaluation_round, content=Markup(page))


@blueprint.get("/<round_code>/methodology", defaults={"fmt": "html"})
@blueprint.get("/<round_code>/methodology.<any(pdf):fmt>")
@public
@limited
def methodology(round_code: str, fmt: str):
    """How the round's published results were made, generated from its run, as a page or a PDF."""
    evaluation_round, run = published(round_code)

    def content():
        found = method.methodology(run)
        if fmt == "pdf":
            return methodology_reports.methodology_report(
                round_name=evaluation_round.name(current_language()), method=found, footer=_footer(run)
            )
        return render_template("results/_methodology.html", evaluation_round=evaluation_round, method=found)

    made = published_cached(run, ("methodology", fmt), content)
    if fmt == "pdf":
        return pdf_file(made, f"dti-{round_code}-methodology")
    return render_template("results/methodology.html", evaluation_round=evaluation_round, content=Markup(made))
