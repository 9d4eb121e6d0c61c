"""The units' reporting forms (``/reporting``) and the officers' view of a round's reporting.

A unit's account reaches only its own unit's reports (another unit's answers 403); staff read every unit's, and
only an appraiser (an officer) reopens a signed-off report."""

from __future__ import annotations

from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.accounts import second_factor
from survey_app.accounts.models import UnitRole
from survey_app.accounts.unit_accounts import UNIT_ROLES, is_unit_account
from survey_app.core import mail, stored_files
from survey_app.core.app import keep_changes
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import describe_error
from survey_app.core.security import OFFICERS, SESSION_KEY, STAFF, allow, public
from survey_app.reporting import appraisals, documents, reminders, results
from survey_app.reporting import operations as reporting
from survey_app.reporting.blueprint import reporting as blueprint
from survey_app.reporting.forms import ClosingForm, DocumentForm, PeriodForm, ReopenForm, ReplyForm, ReturnForm
from survey_app.reporting.models import ReportDocument, ReportEntry, ReportStatus, UnitReport
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import Unit

EVERYONE = (*STAFF, *UNIT_ROLES)
_REPORT = "/<round_code>/<period_code>/<unit_code>"


def _round(round_code: str) -> EvaluationRound:
    evaluation_round = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == round_code))
    if evaluation_round is None:
        abort(404)
    return evaluation_round


def _unit(evaluation_round: EvaluationRound, unit_code: str) -> Unit:
    """A unit of the round's list; another unit's is refused to a unit account (403)."""
    unit = db.session.scalar(
        select(Unit).where(Unit.unit_list_id == evaluation_round.unit_list_id, Unit.code == unit_code)
    )
    if unit is None:
        abort(404)
    if is_unit_account(g.user) and g.user.unit_id != unit.id:
        abort(403)
    return unit


def _place(round_code: str, period_code: str, unit_code: str):
    """The round, period and unit of a report address; another unit's is refused to a unit account (403)."""
    evaluation_round = _round(round_code)
    unit = _unit(evaluation_round, unit_code)
    period = reporting.period_of(evaluation_round, period_code)
    if period is None:
        abort(404)
    return evaluation_round, period, unit


def _back(round_code: str, period_code: str, unit_code: str):
    return redirect(url_for("reporting.report", round_code=round_code, period_code=period_code, unit_code=unit_code))


@blueprint.get("/report.js")
@public
def script():
    """The form's script (points shown as one types): a file of this site, as the CSP allows, never inline."""
    return send_from_directory(Path(__file__).parent / "static", "report.js", mimetype="text/javascript")


@blueprint.get("/")
@allow(*EVERYONE)
def home():
    """A unit's rounds with where its report stands in each period; for staff, the rounds' reporting."""
    if is_unit_account(g.user):
        unit = g.user.unit
        rows = [
            (evaluation_round, period, reporting.status_of(reporting.report_of(period, unit)))
            for evaluation_round in reporting.rounds_of(unit)
            for period in reporting.periods(evaluation_round)
        ]
        return render_template("reporting/home.html", unit=unit, rows=rows)
    rounds = db.session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc(), EvaluationRound.code))
    return render_template("reporting/rounds.html", rounds=list(rounds))


def _render(evaluation_round, period, unit, problems=None, status=200, reply_errors=None):
    report = reporting.report_of(period, unit)
    if problems is None and report is not None:
        problems = reporting.typed_problems(report)
    criteria = reporting.criteria(evaluation_round)
    # what the unit signed off, as scoring holds it, with its appraisal and the unit's reply
    assessed = appraisals.assessments_of(evaluation_round, unit)
    return render_template(
        "reporting/report.html",
        evaluation_round=evaluation_round,
        period=period,
        unit=unit,
        report=report,
        status=reporting.status_of(report),
        criteria=criteria,
        entries={entry.criterion: entry for entry in (report.entries if report else [])},
        assessed=assessed,
        replies=appraisals.replies_to(assessed.values()),
        appraisal_open=appraisals.is_open(evaluation_round),
        appraisal_closes_on=appraisals.closes_on(evaluation_round),
        surveyed={node.code for node in criteria if appraisals.surveyed(node)},
        reply_errors=reply_errors or {},
        problems={code: describe_error(error) for code, error in (problems or {}).items()},
        editable=reporting.status_of(report) in reporting.EDITABLE,
        verified=second_factor.session_verified(session.get(SESSION_KEY, "")),
        evidence_megabytes=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
    ), status


@blueprint.get(_REPORT)
@allow(*EVERYONE)
def report(round_code: str, period_code: str, unit_code: str):
    return _render(*_place(round_code, period_code, unit_code))


def _typed(criteria) -> dict[str, dict[str, str]]:
    return {
        node.code: {
            name: request.form.get(f"{name}-{node.code}", "")
            for name in ("value", "evidence", "explanation")
            if f"{name}-{node.code}" in request.form
        }
        for node in criteria
        if any(f"{name}-{node.code}" in request.form for name in ("value", "evidence", "explanation"))
    }


@blueprint.post(f"{_REPORT}/save")
@allow(UnitRole.REPORTER)
def save(round_code: str, period_code: str, unit_code: str):
    """Save the draft as typed; a value its method refuses is kept as typed and shown with its message (400)."""
    evaluation_round, period, unit = _place(round_code, period_code, unit_code)
    try:
        problems = reporting.save(period, unit, _typed(reporting.criteria(evaluation_round)), actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return _render(evaluation_round, period, unit, status=409)
    if request.headers.get("X-Autosave") == "1":
        # the form's script saves as one types: it needs only each value's message, in the reader's language
        if problems:
            keep_changes()
        messages = {code: describe_error(error) for code, error in problems.items()}
        return jsonify(saved=True, problems=messages), 400 if problems else 200
    if request.form.get("submit") == "1" and not problems:
        return submit(round_code, period_code, unit_code)
    if problems:
        keep_changes()  # the valid values and every text typed are kept
        flash(_("Saved, but some values are not valid: see the messages beside them."), "error")
        return _render(evaluation_round, period, unit, problems, 400)
    flash(_("Draft saved."), "success")
    return _back(round_code, period_code, unit_code)


@blueprint.post(f"{_REPORT}/documents")
@allow(UnitRole.REPORTER)
def upload(round_code: str, period_code: str, unit_code: str):
    evaluation_round, period, unit = _place(round_code, period_code, unit_code)
    form = DocumentForm()
    if not form.validate_on_submit():
        flash(_("Choose a PDF file."), "error")
        return _render(evaluation_round, period, unit, status=400)
    try:
        entry = reporting.entry_for(period, unit, form.criterion.data)
        documents.store(entry, form.document.data.stream, form.document.data.filename, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return _render(evaluation_round, period, unit, {form.criterion.data: error}, 400)
    flash(_("Document stored."), "success")
    return _back(round_code, period_code, unit_code)


@blueprint.get(f"{_REPORT}/documents/<int:document_id>")
@allow(*EVERYONE)
def document(round_code: str, period_code: str, unit_code: str, document_id: int):
    _, period, unit = _place(round_code, period_code, unit_code)
    found = db.session.scalar(
        select(ReportDocument)
        .join(ReportEntry)
        .join(UnitReport)
        .where(ReportDocument.id == document_id, UnitReport.unit_id == unit.id, UnitReport.period_id == period.id)
    )
    if found is None:
        abort(404)
    try:
        stored = documents.file_of(found)
    except ServiceError:
        abort(404)
    # always a download, never shown inline: a document is the unit's content, not the service's
    return stored_files.send(stored, found.original_name)


def _step(round_code, period_code, unit_code, action, success: str):
    """Run one workflow step on the report; its refusal is shown on the report's page (409)."""
    evaluation_round, period, unit = _place(round_code, period_code, unit_code)
    found = reporting.report_of(period, unit)
    try:
        if found is None:
            raise ServiceError("report_wrong_step", status=str(ReportStatus.NOT_STARTED))
        action(found)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return _render(evaluation_round, period, unit, status=409)
    flash(success, "success")
    return _back(round_code, period_code, unit_code)


@blueprint.post(f"{_REPORT}/submit")
@allow(UnitRole.REPORTER)
def submit(round_code: str, period_code: str, unit_code: str):
    evaluation_round, period, unit = _place(round_code, period_code, unit_code)
    try:
        reporting.submit(period, unit, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        found = reporting.report_of(period, unit)
        problems = reporting.problems_of(found) if found is not None else None
        return _render(evaluation_round, period, unit, problems, 409)
    flash(_("Sent to the approver."), "success")
    return _back(round_code, period_code, unit_code)


@blueprint.post(f"{_REPORT}/approve")
@allow(UnitRole.APPROVER)
def approve(round_code: str, period_code: str, unit_code: str):
    return _step(round_code, period_code, unit_code, lambda r: reporting.approve(r, actor=g.user), _("Approved."))


@blueprint.post(f"{_REPORT}/return")
@allow(UnitRole.APPROVER, UnitRole.SIGNATORY)
def send_back(round_code: str, period_code: str, unit_code: str):
    comment = ReturnForm().comment.data or ""
    return _step(
        round_code,
        period_code,
        unit_code,
        lambda r: reporting.send_back(r, comment, actor=g.user),
        _("Returned to the reporter."),
    )


@blueprint.post(f"{_REPORT}/sign-off")
@allow(UnitRole.SIGNATORY)
def sign_off(round_code: str, period_code: str, unit_code: str):
    verified = second_factor.session_verified(session.get(SESSION_KEY, ""))
    return _step(
        round_code,
        period_code,
        unit_code,
        lambda r: reporting.sign_off(r, actor=g.user, second_factor=verified),
        _("Signed off: the values are the unit's self-assessment."),
    )


@blueprint.post(f"{_REPORT}/reopen")
@allow(*OFFICERS)
def reopen(round_code: str, period_code: str, unit_code: str):
    reason = ReopenForm().reason.data or ""
    return _step(
        round_code,
        period_code,
        unit_code,
        lambda r: reporting.reopen(r, reason, actor=g.user),
        _("Reopened: the unit can correct its report."),
    )


def _status_page(evaluation_round: EvaluationRound, form: PeriodForm, status: int = 200, closing=None):
    periods = reporting.periods(evaluation_round)
    table = [(period, reporting.round_statuses(evaluation_round, period)) for period in periods]
    closes_on = appraisals.closes_on(evaluation_round)
    closing = closing or ClosingForm(formdata=None, closes_on=closes_on)
    return render_template(
        "reporting/status.html",
        evaluation_round=evaluation_round,
        table=table,
        form=form,
        closing=closing,
        appraisal_closes_on=closes_on,
        appraisal_open=appraisals.is_open(evaluation_round),
    ), status


@blueprint.get("/<round_code>/status")
@allow(*STAFF)
def round_status(round_code: str):
    """The round's reporting: every unit's status per period, the periods and their deadlines."""
    return _status_page(_round(round_code), PeriodForm(formdata=None))


@blueprint.post("/<round_code>/periods")
@allow(*OFFICERS)
def add_period(round_code: str):
    """Name another reporting period of the round, with its deadline."""
    evaluation_round = _round(round_code)
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            reporting.add_period(
                evaluation_round,
                form.code.data,
                form.name_vi.data,
                form.name_en.data or "",
                form.starts_on.data,
                form.ends_on.data,
                form.deadline.data,
                actor=g.user,
            )
        except ServiceError as error:
            form.code.errors.append(describe_error(error))
        else:
            flash(_("Period added."), "success")
            return redirect(url_for("reporting.round_status", round_code=round_code))
    return _status_page(evaluation_round, form, 400)


@blueprint.post("/<round_code>/<period_code>/remind")
@allow(*OFFICERS)
def remind(round_code: str, period_code: str):
    """Remind the units whose report for the period is not signed off: by e-mail to their accounts when the
    deployment sends mail, otherwise the list of whom to call, to download."""
    evaluation_round = _round(round_code)
    period = reporting.period_of(evaluation_round, period_code)
    if period is None:
        abort(404)
    if not mail.configured(current_app.config):
        return reminders.as_csv(evaluation_round, period)
    count = reminders.remind(evaluation_round, period, actor=g.user)
    if count:
        flash(_("Reminders queued for e-mail: %(count)s.", count=count), "success")
    else:
        flash(_("Nobody to remind: every unit with an account has signed off."), "info")
    return redirect(url_for("reporting.round_status", round_code=round_code))


@blueprint.post(f"{_REPORT}/appraisals/<criterion>/reply")
@allow(UnitRole.REPORTER, UnitRole.APPROVER, UnitRole.SIGNATORY)
def reply(round_code: str, period_code: str, unit_code: str, criterion: str):
    """The unit's one written answer to the appraisal of one of its values, before the appraisal closes."""
    evaluation_round, period, unit = _place(round_code, period_code, unit_code)
    form = ReplyForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("reply_required")
        appraisals.reply(evaluation_round, unit, criterion, form.reply.data, actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return _render(evaluation_round, period, unit, status=400, reply_errors={criterion: describe_error(error)})
    flash(_("Reply sent."), "success")
    return _back(round_code, period_code, unit_code)


@blueprint.post("/<round_code>/appraisal-closing")
@allow(*OFFICERS)
def appraisal_closing(round_code: str):
    """Set the last day units may reply to the round's appraisal (publication closes it in any case)."""
    evaluation_round = _round(round_code)
    form = ClosingForm()
    if form.validate_on_submit():
        try:
            appraisals.set_closing(evaluation_round, form.closes_on.data, actor=g.user)
        except ServiceError as error:
            form.closes_on.errors.append(describe_error(error))
        else:
            flash(_("Closing day of the appraisal set."), "success")
            return redirect(url_for("reporting.round_status", round_code=round_code))
    return _status_page(evaluation_round, PeriodForm(formdata=None), 400, closing=form)


@blueprint.get("/<round_code>/results/<unit_code>")
@allow(*EVERYONE)
def unit_results(round_code: str, unit_code: str):
    """A unit's provisional points from its own data while the round is open, then its published rank and
    scorecard; a unit account reaches its own unit's only (403)."""
    evaluation_round = _round(round_code)
    unit = _unit(evaluation_round, unit_code)
    return render_template(
        "reporting/results.html",
        evaluation_round=evaluation_round,
        unit=unit,
        provisional=results.provisional(evaluation_round, unit),
        published=results.published(evaluation_round, unit),
    )
