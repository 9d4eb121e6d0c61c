"""Scoring a round (``/scoring``): the self-assessment template and uploads, values entered by form, the
appraisal, cyberspace values, runs with their exclusions and rules, rankings and each unit's explanation."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from analysis import self_assessed_criteria
from survey_app.core import jobs, stored_files
from survey_app.core.downloads import pdf_file, table_file
from survey_app.core.errors import ServiceError, or_404
from survey_app.core.extensions import db
from survey_app.core.i18n import (
    current_language,
    describe_error,
    describe_row_problem,
    moment,
)
from survey_app.core.security import OFFICERS, STAFF, allow
from survey_app.experts import operations as experts
from survey_app.frameworks.operations import framework_of
from survey_app.publication import audit_reports
from survey_app.publication import operations as publication
from survey_app.reporting import appraisals as unit_replies
from survey_app.rounds.models import EvaluationRound
from survey_app.rounds.operations import get_round
from survey_app.scoring import channel_inputs, evidence, index_audit
from survey_app.scoring import jobs as scoring_jobs
from survey_app.scoring import operations as scoring
from survey_app.scoring.blueprint import blueprint
from survey_app.scoring.forms import AppraiseForm, EvidenceForm, InputUploadForm, PublishForm, ReportValueForm, RunForm
from survey_app.scoring.models import EvidenceDocument, ScoringRun, SelfAssessment


def _unit(evaluation_round: EvaluationRound, unit_code: str):
    unit = next((u for u in experts.round_units(evaluation_round) if u.code == unit_code), None)
    if unit is None:
        abort(404)
    return unit


def _codes(text: str | None) -> list[str]:
    return [code for code in (text or "").replace(";", ",").replace(" ", ",").split(",") if code]


@blueprint.get("/")
@allow(*STAFF)
def index():
    rounds = list(db.session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc())))
    return render_template("scoring/index.html", rounds=rounds, runs={r.id: scoring.runs(r) for r in rounds})


def _upload_form(evaluation_round: EvaluationRound, prefix: str) -> InputUploadForm:
    form = InputUploadForm(prefix=prefix)
    form.unit.choices = [("", "—")] + [(u.code, f"{u.code} · {u.name}") for u in experts.round_units(evaluation_round)]
    return form


def _run_form(evaluation_round: EvaluationRound, proposed: list[str] = ()) -> RunForm:
    """The run form; ``proposed``: the criteria proposed for exclusion, which the officer may keep instead."""
    form = RunForm()
    framework = framework_of(evaluation_round.framework)
    language = current_language()
    form.excluded.choices = [
        (node.code, f"{node.code} · {node.name.in_language(language)}") for node in framework.leaves() if node.scored
    ]
    form.kept.choices = [choice for choice in form.excluded.choices if choice[0] in proposed]
    if request.method == "GET":
        form.excluded.data = form.kept.data = []
        form.normalisation.data = framework.normalisation
        form.exclusion.data = framework.exclusion
    return form


@blueprint.get("/<round_code>")
@allow(*STAFF)
def show(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    proposed = scoring.proposed_exclusions(evaluation_round)
    return render_template(
        "scoring/round.html",
        evaluation_round=evaluation_round,
        summary=scoring.input_summary(evaluation_round),
        units=experts.round_units(evaluation_round),
        proposed=proposed.to_dict("records"),
        upload=_upload_form(evaluation_round, "self"),
        cyberspace=_upload_form(evaluation_round, "cyber"),
        form=_run_form(evaluation_round, list(proposed["node"])),
        runs=scoring.runs(evaluation_round),
    )


@blueprint.get("/<round_code>/template.<fmt>")
@allow(*STAFF)
def template(round_code: str, fmt: str):
    evaluation_round = or_404(get_round(round_code))
    unit_code = request.args.get("unit")
    unit = _unit(evaluation_round, unit_code) if unit_code else None
    table = channel_inputs.template(evaluation_round, unit, current_language())
    stem = f"{round_code}-self-assessment" + (f"-{unit.code}" if unit else "")
    return table_file(table, stem, fmt, sheet="self-assessment")


def _upload(round_code: str, prefix: str, store):
    """An all-or-nothing input upload: ``store(round, data, filename, unit)`` makes the report shown."""
    evaluation_round = or_404(get_round(round_code))
    form = _upload_form(evaluation_round, prefix)
    back = url_for("scoring.show", round_code=round_code)
    if not form.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(back)
    unit = _unit(evaluation_round, form.unit.data) if form.unit.data else None
    try:
        report = store(evaluation_round, form.file.data.read(), form.file.data.filename or "", unit)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(back)
    return render_template(
        "row_report.html", report=report, describe=describe_row_problem, back_url=back, back_label=_("Back to scoring")
    ), 400 if report.rejected else 200


@blueprint.post("/<round_code>/self-assessment")
@allow(*OFFICERS)
def upload_self_assessment(round_code: str):
    return _upload(
        round_code,
        "self",
        lambda evaluation_round, data, name, unit: channel_inputs.import_self_assessment(
            evaluation_round, data, name, unit=unit, actor=g.user
        ),
    )


@blueprint.post("/<round_code>/cyberspace")
@allow(*OFFICERS)
def upload_cyberspace(round_code: str):
    return _upload(
        round_code,
        "cyber",
        lambda evaluation_round, data, name, unit: channel_inputs.import_cyberspace(
            evaluation_round, data, name, actor=g.user
        ),
    )


# --- one unit's self-assessment and its appraisal --------------------------------------------------------


def _unit_page(evaluation_round, unit, form: ReportValueForm, status: int = 200):
    framework = framework_of(evaluation_round.framework)
    reported = {row.criterion: row for row in channel_inputs.assessments(evaluation_round, unit)}
    return render_template(
        "scoring/unit.html",
        evaluation_round=evaluation_round,
        unit=unit,
        criteria=self_assessed_criteria(framework),
        reported=reported,
        # the unit's answer to each appraisal, shown beside it
        replies=unit_replies.replies_to(reported.values()),
        form=form,
        appraise=AppraiseForm(),
        language=current_language(),
        evidence_megabytes=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
    ), status


def _report_form(evaluation_round) -> ReportValueForm:
    form = ReportValueForm()
    language = current_language()
    form.criterion.choices = [
        (node.code, f"{node.code} · {node.name.in_language(language)}")
        for node in self_assessed_criteria(framework_of(evaluation_round.framework))
    ]
    return form


@blueprint.get("/<round_code>/units/<unit_code>")
@allow(*STAFF)
def unit(round_code: str, unit_code: str):
    evaluation_round = or_404(get_round(round_code))
    form = _report_form(evaluation_round)
    if request.args.get("criterion"):
        form.criterion.data = request.args["criterion"]
    return _unit_page(evaluation_round, _unit(evaluation_round, unit_code), form)


@blueprint.post("/<round_code>/units/<unit_code>")
@allow(*OFFICERS)
def report_value(round_code: str, unit_code: str):
    evaluation_round = or_404(get_round(round_code))
    found = _unit(evaluation_round, unit_code)
    form = _report_form(evaluation_round)
    if form.validate_on_submit():
        document = form.document.data
        reference = form.evidence.data or (evidence.clean_name(document.filename) if document else "")
        try:
            stored = channel_inputs.report_value(
                evaluation_round,
                found,
                form.criterion.data,
                form.value.data,
                evidence=reference,
                explanation=form.explanation.data or "",
                actor=g.user,
            )
        except ServiceError as error:
            form.value.errors = [describe_error(error)]
            return _unit_page(evaluation_round, found, form, 400)
        try:
            if document:
                evidence.attach(stored, document.stream, document.filename, actor=g.user)
        except ServiceError as error:
            form.document.errors = [describe_error(error)]
        else:
            flash(_("Value of %(criterion)s stored.", criterion=form.criterion.data), "success")
            return redirect(url_for("scoring.unit", round_code=round_code, unit_code=unit_code))
    return _unit_page(evaluation_round, found, form, 400)


def _assessment_page(assessment: SelfAssessment) -> str:
    """The unit page an action on one of its self-assessed values returns to."""
    evaluation_round = db.session.get(EvaluationRound, assessment.round_id)
    return url_for("scoring.unit", round_code=evaluation_round.code, unit_code=assessment.unit.code)


@blueprint.post("/assessments/<int:assessment_id>/appraise")
@allow(*OFFICERS)
def appraise(assessment_id: int):
    assessment = db.get_or_404(SelfAssessment, assessment_id)
    back = _assessment_page(assessment)
    form = AppraiseForm()
    if not form.validate_on_submit():
        flash(_("Enter the points as a number, or leave them empty to accept."), "error")
        return redirect(back)
    try:
        channel_inputs.appraise(assessment, form.points.data, form.reason.data or "", actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(back)
    flash(_("Appraisal of %(criterion)s stored.", criterion=assessment.criterion), "success")
    return redirect(back)


@blueprint.post("/assessments/<int:assessment_id>/evidence")
@allow(*OFFICERS)
def attach_evidence(assessment_id: int):
    assessment = db.get_or_404(SelfAssessment, assessment_id)
    back = _assessment_page(assessment)
    form = EvidenceForm()
    if not form.validate_on_submit():
        flash(_("Choose a PDF file."), "error")
        return redirect(back)
    try:
        evidence.attach(assessment, form.document.data.stream, form.document.data.filename, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(back)
    flash(_("Evidence document of %(criterion)s stored.", criterion=assessment.criterion), "success")
    return redirect(back)


@blueprint.get("/evidence/<int:document_id>")
@allow(*STAFF)
def evidence_document(document_id: int):
    document = db.get_or_404(EvidenceDocument, document_id)
    try:
        stored = evidence.file_of(document)
    except ServiceError:
        abort(404)
    # always a download, never shown inline: a document is the unit's, not the service's, content
    return stored_files.send(stored, document.original_name)


@blueprint.post("/evidence/<int:document_id>/delete")
@allow(*OFFICERS)
def remove_evidence(document_id: int):
    document = db.get_or_404(EvidenceDocument, document_id)
    back = _assessment_page(db.session.get(SelfAssessment, document.assessment_id))
    try:
        evidence.remove(document, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(back)
    flash(_("Evidence document removed."), "success")
    return redirect(back)


# --- runs -------------------------------------------------------------------------------------------------


@blueprint.post("/<round_code>/runs")
@allow(*OFFICERS)
def run(round_code: str):
    evaluation_round = or_404(get_round(round_code))
    form = _run_form(evaluation_round)
    if not form.validate_on_submit():
        flash(_("The form has errors."), "error")
        return redirect(url_for("scoring.show", round_code=round_code))
    rules = {
        "peer_maximum": {"units": _codes(form.peer_units.data), "criteria": _codes(form.peer_criteria.data)},
        "full_marks": {"units": _codes(form.full_units.data), "criteria": _codes(form.full_criteria.data)},
    }
    rules = {name: rule for name, rule in rules.items() if rule["units"] or rule["criteria"]}
    try:
        job = scoring_jobs.start_run(
            evaluation_round,
            excluded=form.excluded.data or [],
            kept=form.kept.data or [],
            rules=rules,
            normalisation=form.normalisation.data,
            exclusion=form.exclusion.data,
            note=form.note.data or "",
            actor=g.user,
        )
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("scoring.show", round_code=round_code))
    return redirect(url_for("main.job_page", job_id=job.id))


def _run(run_id: int) -> ScoringRun:
    return db.get_or_404(ScoringRun, run_id)


@blueprint.get("/runs/<int:run_id>")
@allow(*STAFF)
def show_run(run_id: int):
    found = _run(run_id)
    language = current_language()
    columns = [(node.code, node.name.in_language(language)) for node in scoring.ranking_nodes(found)]
    table = scoring.ranking(found)
    names = dict(zip(table["unit"], table["name"]))
    found_sensitivity = scoring.sensitivity_of(found)
    moving = found_sensitivity.summary[found_sensitivity.summary["spread"] > 0]
    return render_template(
        "scoring/run.html",
        run=found,
        evaluation_round=found.evaluation_round,
        table=table.to_dict("records"),
        columns=columns,
        replicates=scoring.REPLICATES,
        close=scoring.not_meaningfully_ahead(found),
        scenarios=len(found_sensitivity.scenarios),
        moving=[{"unit": code, "name": names.get(code, code), **row} for code, row in moving.to_dict("index").items()],
        decisions=publication.exclusion_decisions(found),
        exclusion_reading=scoring.exclusion_reading(found),
    )


def _publish_page(found: ScoringRun, form: PublishForm, status: int = 200):
    decisions = publication.exclusion_decisions(found)
    return render_template(
        "scoring/publish.html",
        run=found,
        evaluation_round=found.evaluation_round,
        form=form,
        decisions=decisions,
        undecided=[entry["node"] for entry in decisions if entry["decision"] is None],
        units=len(found.index),
    ), status


@blueprint.route("/runs/<int:run_id>/publish", methods=["GET", "POST"])
@allow(*OFFICERS)
def publish(run_id: int):
    """What publishing the run makes public and freezes, with a form to confirm it; publishing cannot be undone."""
    found = _run(run_id)
    form = PublishForm()
    if not form.validate_on_submit():
        return _publish_page(found, form, 400 if form.is_submitted() else 200)
    try:
        publication.publish(found, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return _publish_page(found, form, 400)
    flash(
        _(
            "Run %(number)s is published: its results are on the public site and the round's inputs are frozen.",
            number=found.number,
        ),
        "success",
    )
    return redirect(url_for("scoring.show_run", run_id=run_id))


@blueprint.get("/runs/<int:run_id>/ranking.<fmt>")
@allow(*STAFF)
def export_run(run_id: int, fmt: str):
    found = _run(run_id)
    table = scoring.ranking(found)
    return table_file(table, f"{found.evaluation_round.code}-run-{found.number}-ranking", fmt, sheet="ranking")


@blueprint.get("/runs/<int:run_id>/units/<unit_code>")
@allow(*STAFF)
def explain(run_id: int, unit_code: str):
    found = _run(run_id)
    try:
        explained = scoring.explanation(found, unit_code)
    except ServiceError:
        abort(404)
    unit = _unit(found.evaluation_round, unit_code)
    language = current_language()
    names = {node["code"]: node["name"].get(language) or node["name"]["vi"] for node in explained["nodes"]}
    return render_template("scoring/explain.html", run=found, unit=unit, explained=explained, names=names)


@blueprint.get("/runs/<int:run_id>/units/<unit_code>.json")
@allow(*STAFF)
def explain_json(run_id: int, unit_code: str):
    found = _run(run_id)
    try:
        explained = scoring.explanation(found, unit_code)
    except ServiceError:
        abort(404)
    return jsonify({"round": found.evaluation_round.code, "run": found.number, **explained})


# --- the statistical audit of a run -----------------------------------------------------------------------


def _audit_names(found: ScoringRun) -> tuple[dict[str, str], dict[str, str]]:
    """The round's unit names and the framework's node names in the reader's language, by code."""
    language = current_language()
    framework = framework_of(found.evaluation_round.framework)
    nodes = {node.code: node.name.in_language(language) for node, _parent in framework.walk()}
    return {code: unit.name for code, unit in channel_inputs.units_by_code(found.evaluation_round).items()}, nodes


@blueprint.get("/runs/<int:run_id>/audit")
@allow(*STAFF)
def audit(run_id: int):
    found = _run(run_id)
    stored = index_audit.audit_of(found)
    unit_names, node_names = _audit_names(found)
    findings = index_audit.findings(stored.result) if stored else None
    return render_template(
        "scoring/audit.html",
        job=None if stored else jobs.latest(index_audit.audit_subject(found), index_audit.AUDIT_JOB),
        run=found,
        evaluation_round=found.evaluation_round,
        stored=stored,
        document=stored.result if stored else None,
        findings=findings,
        advice=index_audit.advice(findings, unit_names) if findings else [],
        unit_names=unit_names,
        node_names=node_names,
        audit_label=index_audit.audit_label,
        levels_label=index_audit.levels_label,
    )


@blueprint.post("/runs/<int:run_id>/audit")
@allow(*OFFICERS)
def start_audit(run_id: int):
    found = _run(run_id)
    job = index_audit.start_index_audit(found, g.user)
    if job is None:
        flash(_("The audit of run %(number)s is stored.", number=found.number), "success")
        return redirect(url_for("scoring.audit", run_id=run_id))
    return redirect(url_for("main.job_page", job_id=job.id))


@blueprint.get("/runs/<int:run_id>/audit.pdf")
@allow(*STAFF)
def audit_report(run_id: int):
    found = _run(run_id)
    stored = index_audit.audit_of(found)
    if stored is None:  # the report of an audit not made yet: its page, which offers to make it
        flash(_("This run has no audit yet."), "error")
        return redirect(url_for("scoring.audit", run_id=run_id))
    unit_names, node_names = _audit_names(found)
    findings = index_audit.findings(stored.result)
    round_name = found.evaluation_round.name(current_language())
    data = audit_reports.index_audit_report(
        title=_("Statistical audit of run %(number)s · %(round)s", number=found.number, round=round_name),
        document=stored.result,
        findings=findings,
        advice=index_audit.advice(findings, unit_names),
        unit_names=unit_names,
        node_names=node_names,
        describe=index_audit.audit_label,
        created=stored.created_at,
        footer=_("Audit computed %(when)s", when=moment(stored.created_at)),
    )
    return pdf_file(data, f"{found.evaluation_round.code}-run-{found.number}-audit")
