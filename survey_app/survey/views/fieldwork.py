"""Fieldwork: open it for a questionnaire and units, set quotas, issue invitations, watch progress, review
flagged responses, import ODK/Kobo exports and download the responses."""

from __future__ import annotations

import pandas as pd
from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from questionnaires.exports import to_csv
from survey_app.accounts.models import Role
from survey_app.core import jobs
from survey_app.core.errors import ServiceError, or_404, owned_or_404
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, describe_error, describe_refusal, label
from survey_app.core.security import ANALYSTS, DESIGNERS, STAFF, allow
from survey_app.rounds.models import EvaluationRound
from survey_app.survey import jobs as survey_jobs
from survey_app.survey import operations as collection
from survey_app.survey.blueprint import api_keys
from survey_app.survey.blueprint import fieldwork as blueprint
from survey_app.survey.forms import ApiKeyForm, FieldworkForm, UploadForm
from survey_app.survey.models import (
    ApiKey,
    Fieldwork,
    FieldworkMode,
    FieldworkStatus,
    Invitation,
    PublishedQuestionnaire,
)
from survey_app.survey.models import Response as StoredResponse

#: the export formats and their media types
EXPORTS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
    "dta": "application/x-stata-dta",
}


@blueprint.get("/")
@allow(*STAFF)
def index():
    fieldworks = db.session.scalars(select(Fieldwork).order_by(Fieldwork.opened_at.desc()))
    return render_template("fieldwork/index.html", fieldworks=list(fieldworks))


@blueprint.route("/new", methods=["GET", "POST"])
@allow(*DESIGNERS)
def create():
    form = FieldworkForm()
    language = current_language()
    form.questionnaire_id.choices = [
        (q.id, f"{q.name(language)} ({q.code} v{q.version})")
        for q in collection.list_questionnaires()
        if not q.for_experts
    ]
    form.round_id.choices = [
        (r.id, r.name(language))
        for r in db.session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc()))
    ]
    form.mode.choices = [(str(mode), label(str(mode))) for mode in FieldworkMode]
    if form.validate_on_submit():
        evaluation = db.get_or_404(EvaluationRound, form.round_id.data)
        wanted = {code.strip() for code in (form.units.data or "").replace("\n", ",").split(",") if code.strip()}
        units = [u for u in evaluation.unit_list.units if not wanted or u.code in wanted]
        unknown = wanted - {u.code for u in units}
        try:
            if unknown:
                raise ServiceError("unit_not_in_fieldwork", unit=", ".join(sorted(unknown)))
            fieldwork = collection.create_fieldwork(
                form.code.data,
                db.get_or_404(PublishedQuestionnaire, form.questionnaire_id.data),
                FieldworkMode(form.mode.data),
                units,
                name_vi=form.name_vi.data,
                name_en=form.name_en.data or "",
                anonymous=form.anonymous.data,
                evaluation_round=evaluation,
                actor=g.user,
                quota_dimensions=[d.strip() for d in (form.quota_dimensions.data or "").split(",") if d.strip()],
            )
        except ServiceError as error:
            flash(describe_error(error), "error")
        else:
            flash(_("Fieldwork %(code)s opened.", code=fieldwork.code), "success")
            return redirect(url_for("fieldwork.show", fieldwork_code=fieldwork.code))
    status = 400 if form.is_submitted() else 200
    return render_template("fieldwork/new.html", form=form), status


@blueprint.get("/<fieldwork_code>")
@allow(*STAFF)
def show(fieldwork_code: str):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    progress = collection.progress(fieldwork)
    upload = UploadForm()
    upload.unit.choices = [("", "—")] + [(u.code, u.name) for u in fieldwork.units]
    return render_template(
        "fieldwork/show.html", fieldwork=fieldwork, progress=progress, upload=upload, chart=_chart(progress)
    )


def _chart(progress) -> dict:
    """Bars of completed responses per unit against the target (quotas) or the invitations."""
    rows = []
    for unit in progress:
        target = sum(q.target for q in unit.quotas) or unit.invited
        rows.append((unit.unit.name, unit.completed, target))
    scale = max([max(done, target) for _, done, target in rows] + [1])
    return {"rows": rows, "scale": scale, "height": 28 * len(rows) + 10}


@blueprint.post("/<fieldwork_code>/status")
@allow(*DESIGNERS)
def status(fieldwork_code: str):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    # without a stated status the button toggles
    wanted = request.form.get("status") or (
        FieldworkStatus.CLOSED if fieldwork.status == FieldworkStatus.OPEN else FieldworkStatus.OPEN
    )
    if wanted not in {str(s) for s in FieldworkStatus}:
        abort(400)
    collection.set_status(fieldwork, FieldworkStatus(wanted), actor=g.user)
    flash(_("Fieldwork %(code)s is now %(status)s.", code=fieldwork_code, status=label(str(wanted))), "success")
    return redirect(url_for("fieldwork.show", fieldwork_code=fieldwork_code))


@blueprint.post("/<fieldwork_code>/quotas")
@allow(*DESIGNERS)
def quotas(fieldwork_code: str):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    form = UploadForm()
    form.unit.choices = [("", "")]
    if not form.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(url_for("fieldwork.show", fieldwork_code=fieldwork_code))
    try:
        count = collection.set_quotas(fieldwork, form.file.data.read(), actor=g.user)
    except ServiceError as error:
        return _problems_page(fieldwork, describe_refusal(error))
    flash(_("Targets set for %(count)s strata.", count=count), "success")
    return redirect(url_for("fieldwork.show", fieldwork_code=fieldwork_code))


def _problems_page(fieldwork, problems):
    return render_template("fieldwork/problems.html", fieldwork=fieldwork, problems=problems), 400


@blueprint.route("/<fieldwork_code>/invitations", methods=["GET", "POST"])
@allow(*DESIGNERS)
def invitations(fieldwork_code: str):
    """Issue invitations from a CSV (unit, name, email, phone, stratum, inclusion_probability); the answer is
    a CSV of the personal links, the only time the tokens are shown."""
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    form = UploadForm()
    form.unit.choices = [("", "")]
    if request.method == "POST" and form.validate_on_submit():
        try:
            rows = collection.read_rows(form.file.data.read(), excel=False)
            issued = collection.issue_invitations(fieldwork, rows, actor=g.user)
        except ServiceError as error:
            return _problems_page(fieldwork, describe_refusal(error))
        links = pd.DataFrame(
            [
                {
                    **{k: row.get(k, "") for k in ("unit", "name", "email", "phone")},
                    "link": url_for("respond.entry", kind="i", key=one.token, _external=True),
                }
                for row, one in zip(rows, issued)
            ],
            columns=["unit", "name", "email", "phone", "link"],
        )
        return Response(
            to_csv(links),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={fieldwork_code}-invitations.csv"},
        )
    listed = db.session.scalars(
        select(Invitation).where(Invitation.fieldwork_id == fieldwork.id).order_by(Invitation.id).limit(500)
    )
    return render_template("fieldwork/invitations.html", fieldwork=fieldwork, invitations=list(listed), form=form)


@blueprint.post("/<fieldwork_code>/invitations/<int:invitation_id>/revoke")
@allow(*DESIGNERS)
def revoke(fieldwork_code: str, invitation_id: int):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    invitation = owned_or_404(Invitation, invitation_id, fieldwork_id=fieldwork.id)
    try:
        collection.revoke_invitation(invitation, actor=g.user, reason=request.form.get("reason", "")[:500])
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("fieldwork.invitations", fieldwork_code=fieldwork_code))
    flash(_("Invitation %(id)s revoked.", id=invitation_id), "success")
    return redirect(url_for("fieldwork.invitations", fieldwork_code=fieldwork_code))


@blueprint.post("/<fieldwork_code>/import")
@allow(*DESIGNERS)
def import_responses(fieldwork_code: str):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    form = UploadForm()
    form.unit.choices = [("", "")] + [(u.code, u.name) for u in fieldwork.units]
    if not form.validate_on_submit():
        flash(_("Choose a file."), "error")
        return redirect(url_for("fieldwork.show", fieldwork_code=fieldwork_code))
    unit = next((u for u in fieldwork.units if u.code == form.unit.data), None)
    try:
        report = collection.import_collected(
            fieldwork, form.file.data.read(), unit=unit, actor=g.user, accept_valid_rows=form.accept_valid_rows.data
        )
    except ServiceError as error:
        return _problems_page(fieldwork, [describe_error(error)])
    status = 400 if report.rejected and not form.accept_valid_rows.data else 200
    return render_template("fieldwork/import_report.html", fieldwork=fieldwork, report=report), status


@blueprint.get("/<fieldwork_code>/responses.<fmt>")
@allow(*ANALYSTS)
def export(fieldwork_code: str, fmt: str):
    """The responses as a file, sent as it is written. The body is written after the request boundary has
    ended the request's session (an export changes nothing), from a connection of its own that it closes when
    the last block is sent or the client goes away. Above ``EXPORT_INLINE_MAX_ROWS`` responses the answer is a
    page that asks for the file as a background job instead (a form: asking for a job is a change)."""
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    if fmt not in EXPORTS:
        abort(404)
    count = collection.count_responses(fieldwork)
    if count > survey_jobs.inline_max_rows():
        return render_template("fieldwork/export_large.html", fieldwork=fieldwork, fmt=fmt, count=count)
    chunks = collection.export_chunks(collection.export_source(fieldwork), fmt, current_language())
    return Response(
        chunks,
        mimetype=EXPORTS[fmt],
        headers={"Content-Disposition": f"attachment; filename={fieldwork_code}-responses.{fmt}"},
    )


@blueprint.post("/<fieldwork_code>/exports")
@allow(*ANALYSTS)
def start_export(fieldwork_code: str):
    """Ask for the responses as a file written by a background job; its page links to the file when ready."""
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    fmt = request.form.get("fmt", "")
    if fmt not in EXPORTS:
        flash(_("Choose a file format."), "error")
        return redirect(url_for("fieldwork.show", fieldwork_code=fieldwork_code))
    job = survey_jobs.start_export(fieldwork, fmt, current_language(), actor=g.user)
    return redirect(url_for("main.job_page", job_id=job.id))


@blueprint.get("/<fieldwork_code>/exports/<int:file_id>")
@allow(*ANALYSTS)
def export_file(fieldwork_code: str, file_id: int):
    """An export file a job wrote, for those who may follow that job, until it expires; sent a chunk at a time
    from a connection of its own, as a streamed export is."""
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    stored = collection.find_export_file(file_id)
    if stored is None or stored.fieldwork_id != fieldwork.id:
        abort(404)
    if not jobs.may_follow(db.session.get(jobs.Job, stored.job_id), g.user):
        abort(404)
    return Response(
        collection.stored_chunks(db.engine, stored.id),
        mimetype=EXPORTS[stored.format],
        headers={
            "Content-Disposition": f"attachment; filename={fieldwork_code}-responses.{stored.format}",
            "Content-Length": str(stored.size),
        },
    )


@blueprint.get("/<fieldwork_code>/review")
@allow(*ANALYSTS)
def review(fieldwork_code: str):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    page = collection.flagged_page(fieldwork, request.args.get("page", 1, type=int))
    return render_template("fieldwork/review.html", fieldwork=fieldwork, review=page)


@blueprint.post("/<fieldwork_code>/responses/<int:response_id>/exclusion")
@allow(*ANALYSTS)
def exclusion(fieldwork_code: str, response_id: int):
    fieldwork = or_404(collection.get_fieldwork(fieldwork_code))
    response = owned_or_404(StoredResponse, response_id, fieldwork_id=fieldwork.id)
    exclude = request.form.get("exclude") == "1"
    reason = request.form.get("reason", "").strip()[:500]
    if exclude and not reason:
        flash(_("Give the reason for excluding the response."), "error")
    else:
        collection.set_excluded(response, exclude, reason, actor=g.user)
    return redirect(url_for("fieldwork.review", fieldwork_code=fieldwork_code, page=request.form.get("page", type=int)))


@api_keys.route("/", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR)
def keys():
    form = ApiKeyForm()
    fieldworks = {
        fieldwork.id: fieldwork
        for fieldwork in db.session.scalars(select(Fieldwork).order_by(Fieldwork.opened_at.desc()))
    }
    form.fieldworks.choices = [
        (fieldwork.id, f"{fieldwork.code} — {fieldwork.name(current_language())}") for fieldwork in fieldworks.values()
    ]
    created = None
    if form.validate_on_submit():
        _, created = collection.create_api_key(
            form.name.data, [fieldworks[i] for i in form.fieldworks.data], actor=g.user
        )
    listed = db.session.scalars(
        select(ApiKey).options(selectinload(ApiKey.fieldworks)).order_by(ApiKey.created_at.desc())
    )
    return render_template("fieldwork/api_keys.html", form=form, keys=list(listed), created=created)


@api_keys.post("/<int:key_id>/revoke")
@allow(Role.ADMINISTRATOR)
def revoke_key(key_id: int):
    collection.revoke_api_key(db.get_or_404(ApiKey, key_id), actor=g.user)
    flash(_("Key revoked."), "success")
    return redirect(url_for("api_keys.keys"))
