"""Sample design and weighting: plans from a population frame (shown, downloaded, saved), invitees drawn from
a list frame into a fieldwork's invitations, and weighting runs of a fieldwork's responses with their
diagnostics and estimates."""

from __future__ import annotations

import math

import pandas as pd
from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from sampling import SamplingError
from survey_app.core import jobs
from survey_app.core.downloads import table_file
from survey_app.core.errors import ServiceError, or_404, owned_or_404
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, describe_error, describe_refusal, describe_sampling_error, number
from survey_app.core.security import ANALYSTS, DESIGNERS, allow
from survey_app.sampling import jobs as weighting_jobs
from survey_app.sampling import operations as sampling_service
from survey_app.sampling.blueprint import blueprint, weighting
from survey_app.sampling.forms import DrawForm, SamplePlanForm, WeightingForm, split_columns
from survey_app.sampling.models import SamplePlan, WeightingRun
from survey_app.survey import operations as collection
from survey_app.survey.models import FieldworkMode

# --- sample plans ---------------------------------------------------------------------------------------


@blueprint.route("/plan", methods=["GET", "POST"])
@allow(*DESIGNERS)
def plan():
    form = SamplePlanForm()
    result, problem = None, None
    if form.validate_on_submit():
        upload = form.file.data
        data, filename = upload.read(), upload.filename or "frame.csv"
        try:
            result = sampling_service.sample_plan(
                data,
                filename,
                split_columns(form.strata.data),
                form.count.data.strip(),
                form.method.data,
                total=form.total.data,
                margin=float(form.margin.data) if form.margin.data is not None else None,
                power=float(form.power.data if form.power.data is not None else 0.5),
                minimum=form.minimum.data or 0,
                maximum=form.maximum.data,
                deff=float(form.deff.data or 1),
                response_rate=float(form.response_rate.data or 1),
                unit=(form.unit.data or "").strip() or None,
                sd_column=(form.sd_column.data or "").strip() or None,
                sd_kind=form.sd_kind.data,
            )
        except SamplingError as error:
            problem = describe_sampling_error(error)
        action = request.form.get("action")
        if result is not None and action == "download":
            return _csv(result.table(), "sample-plan.csv")
        if result is not None and action == "save":
            if not (form.name.data or "").strip():
                form.name.errors.append(_("Enter a name to save the plan."))
            else:
                stored = sampling_service.save_plan(result, form.name.data.strip(), data, filename, actor=g.user)
                return redirect(url_for("sampling.show_plan", plan_id=stored.id))
    status = 400 if problem or form.errors else 200
    return render_template("sampling/plan.html", form=form, plan=result, problem=problem), status


@blueprint.get("/plans")
@allow(*DESIGNERS)
def plans():
    listed = db.session.scalars(select(SamplePlan).order_by(SamplePlan.id.desc())).all()
    return render_template("sampling/plans.html", plans=listed)


@blueprint.get("/plans/<int:plan_id>")
@allow(*DESIGNERS)
def show_plan(plan_id: int):
    stored = db.get_or_404(SamplePlan, plan_id)
    return render_template("sampling/show_plan.html", stored=stored, plan=sampling_service.stored_plan(stored))


@blueprint.get("/plans/<int:plan_id>.csv")
@allow(*DESIGNERS)
def plan_csv(plan_id: int):
    stored = db.get_or_404(SamplePlan, plan_id)
    return _csv(sampling_service.stored_plan(stored).table(), f"sample-plan-{plan_id}.csv")


#: the sampling library's codes that survey_app.core.messages does not name yet (they belong in SAMPLING_MESSAGES)
def _csv(table: pd.DataFrame, filename: str) -> Response:
    return table_file(table, filename.removesuffix(".csv"))


# --- drawing invitees -----------------------------------------------------------------------------------


@weighting.route("/<fieldwork_code>/draw", methods=["GET", "POST"])
@allow(*DESIGNERS)
def draw(fieldwork_code: str):
    """Draw invitees from a list frame by a saved plan; the answer is the CSV of their personal links, the
    only time the tokens are shown."""
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    if fieldwork.mode != FieldworkMode.INVITATION:
        abort(404)
    form = DrawForm()
    form.plan_id.choices = [
        (p.id, f"{p.name} ({number(p.total)})")
        for p in db.session.scalars(select(SamplePlan).order_by(SamplePlan.id.desc()))
    ]
    problems = []
    if form.validate_on_submit():
        stored = db.get_or_404(SamplePlan, form.plan_id.data)
        upload = form.file.data
        try:
            drawn = sampling_service.draw_invitations(
                fieldwork,
                upload.read(),
                upload.filename or "list.csv",
                strata=stored.parameters["strata"],
                unit=form.unit.data.strip(),
                sizes=sampling_service.plan_sizes(stored),
                method=form.method.data,
                size=(form.size.data or "").strip() or None,
                seed=form.seed.data,
                actor=g.user,
            )
        except SamplingError as error:
            problems = [describe_sampling_error(error)]
        except ServiceError as error:
            problems = describe_refusal(error)
        else:
            return _csv(_links(drawn), f"{fieldwork_code}-drawn-invitations.csv")
    status = 400 if problems or form.errors else 200
    return render_template("sampling/draw.html", fieldwork=fieldwork, form=form, problems=problems), status


def _links(drawn) -> pd.DataFrame:
    table = drawn.selected.reset_index(drop=True).copy()
    table["link"] = [url_for("respond.entry", kind="i", key=one.token, _external=True) for one in drawn.issued]
    return table


# --- weighting ------------------------------------------------------------------------------------------


def _margin_choices(fieldwork) -> list[tuple[str, str]]:
    """The background questions with choices: the variables a population is counted by."""
    language = current_language()
    return [
        (q.code, f"{q.code}: {q.text.in_language(language)}")
        for q in fieldwork.questionnaire.questionnaire.questions()
        if q.background and q.choices
    ]


@weighting.route("/<fieldwork_code>/weighting", methods=["GET", "POST"])
@allow(*ANALYSTS)
def weighting_runs(fieldwork_code: str):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    form = WeightingForm()
    form.margins.choices = _margin_choices(fieldwork)
    problem = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = weighting_jobs.start_weighting(
                fieldwork,
                upload.read(),
                upload.filename or "population.csv",
                margins=form.margins.data or [],
                method=form.method.data,
                count=form.count.data.strip(),
                lower=float(form.lower.data) if form.lower.data is not None else None,
                upper=float(form.upper.data) if form.upper.data is not None else None,
                actor=g.user,
            )
        except SamplingError as error:
            problem = describe_sampling_error(error)
        except ServiceError as error:
            problem = describe_error(error)
        else:
            return redirect(url_for("main.job_page", job_id=job.id))
    runs = db.session.scalars(
        select(WeightingRun).where(WeightingRun.fieldwork_id == fieldwork.id).order_by(WeightingRun.id.desc())
    ).all()
    status = 400 if problem or form.errors else 200
    job = jobs.latest(weighting_jobs.subject(fieldwork), weighting_jobs.WEIGHTING)
    return render_template(
        "sampling/weighting.html", fieldwork=fieldwork, form=form, runs=runs, problem=problem, job=job
    ), status


@weighting.get("/<fieldwork_code>/weighting/<int:run_id>")
@allow(*ANALYSTS)
def show_run(fieldwork_code: str, run_id: int):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    run = owned_or_404(WeightingRun, run_id, fieldwork_id=fieldwork.id)
    units = {unit.code: unit for unit in fieldwork.units}
    return render_template(
        "sampling/run.html",
        fieldwork=fieldwork,
        run=run,
        units=units,
        histogram=_histogram_chart(run.histogram),
        isnan=_missing,
    )


@weighting.get("/<fieldwork_code>/weighting/<int:run_id>.csv")
@allow(*ANALYSTS)
def run_csv(fieldwork_code: str, run_id: int):
    run = owned_or_404(WeightingRun, run_id, fieldwork_id=or_404(collection.get_fieldwork(fieldwork_code)).id)
    return _csv(sampling_service.run_estimates(run), f"{fieldwork_code}-estimates-{run_id}.csv")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


#: the chart's font size (app.css: ``.bars text``) and a width per character, in ems, above the average of any
#: label's digits, separators and signs in the usual sans-serif fonts (DejaVu Sans's digits, the widest, take
#: 0.64): what lays the labels out so that they never overlap
CHART_FONT, CHART_CHARACTER = 12, 0.7
#: the narrowest bar, and the space kept between two labels
CHART_BAR, CHART_GAP = 40, 8


def _histogram_chart(bins: list[dict]) -> dict:
    """Bars of an SVG chart in viewBox units (the page's CSP allows no inline style, so sizes are attributes).

    A bar's range and its count are centred on it, in the visitor's notation; every bar is as wide as the
    widest label needs, so that no two labels overlap however long the numbers are.
    """
    tallest = max((b["count"] for b in bins), default=0) or 1
    height = 120
    labels = [
        f"≥ {number(one['low'])}" if one["high"] is None else f"{number(one['low'])}–{number(one['high'])}"
        for one in bins
    ]
    counts = [number(one["count"]) for one in bins]
    width = math.ceil(max([CHART_BAR] + [len(text) * CHART_FONT * CHART_CHARACTER for text in labels + counts]))
    pitch = width + CHART_GAP
    bars = []
    for index, (one, label, count) in enumerate(zip(bins, labels, counts)):
        bar = height * one["count"] / tallest
        bars.append(
            {
                "x": index * pitch,
                "y": height - bar,
                "width": width,
                "height": bar,
                "middle": index * pitch + width / 2,
                "count": count,
                "label": label,
            }
        )
    return {"bars": bars, "width": len(bins) * pitch, "height": height}
