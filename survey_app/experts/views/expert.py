"""The expert's own side (``/e/<token>``, ``/expert/forms/<id>``).

An expert's link opens a session that knows the forms its links opened; a form's address works only in that
session, any other answers 404 like an address that does not exist.
"""

from __future__ import annotations

import uuid

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from questionnaires import CANNOT_JUDGE
from survey_app.core.app import keep_changes
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import limiter
from survey_app.core.i18n import describe_error, describe_expert_problem
from survey_app.core.links import LINK_STATUS, guarded
from survey_app.core.security import public
from survey_app.experts import operations as experts
from survey_app.experts.blueprint import expert_side
from survey_app.experts.models import ExpertForm

#: the session key holding the ids of the forms the expert's links opened
FORMS_KEY = "expert_forms"
EXPERT_LINK_STATUS = {**LINK_STATUS, "link_expired": 410, "form_submitted": 409, "consent_required": 409}


def _expert_problem(error: ServiceError):
    return render_template(
        "respond/problem.html", message=describe_error(error), code=error.code, expert=True
    ), EXPERT_LINK_STATUS.get(error.code, 400)


@expert_side.get("/e/<token>")
@public
@guarded
def entry(token: str):
    try:
        form = experts.open_link(token)
    except ServiceError as error:
        return _expert_problem(error)
    session[FORMS_KEY] = sorted(set(session.get(FORMS_KEY, [])) | {form.id})
    return redirect(url_for("expert.form", form_id=form.id))


def _own_form(form_id: int) -> ExpertForm:
    found = experts.form_for(form_id, session.get(FORMS_KEY, []))
    if found is None:
        abort(404)
    return found


def _raw_answers(questionnaire) -> dict:
    return {
        item.code: {
            "choice": request.form.get(f"score-{item.code}", ""),
            "comment": request.form.get(f"comment-{item.code}", ""),
        }
        for item in questionnaire.items()
    }


def _form_page(form: ExpertForm, problems=None, status: int = 200, answers=None):
    questionnaire = experts.questionnaire_of(form)
    return render_template(
        "expert/form.html",
        form=form,
        seat=form.seat,
        panel=form.seat.panel,
        questionnaire=questionnaire,
        answers=answers if answers is not None else form.answers,
        errors=describe_expert_problems(problems or {}),
        submission_id=str(uuid.uuid4()),
        cannot_judge=CANNOT_JUDGE,
    ), status


def _choices_of(raw: dict) -> dict:
    """What the expert chose, shown again with the page's errors, in the form stored answers take."""
    shown = {}
    for code, given in raw.items():
        answer = {}
        if given["choice"] == CANNOT_JUDGE:
            answer[CANNOT_JUDGE] = True
        elif given["choice"]:
            answer["score"] = given["choice"]
        if given["comment"]:
            answer["comment"] = given["comment"]
        shown[code] = answer
    return shown


def _needs_consent(form: ExpertForm) -> bool:
    return form.consented_at is None and form.submitted_at is None


@expert_side.get("/expert/forms/<int:form_id>")
@public
def form(form_id: int):
    try:
        found = _own_form(form_id)
    except ServiceError as error:
        return _expert_problem(error)
    if _needs_consent(found):
        # the notice on their personal data comes before the form (Decree 13/2023)
        return render_template("expert/consent.html", form=found, seat=found.seat, panel=found.seat.panel)
    return _form_page(found)


@expert_side.post("/expert/forms/<int:form_id>/consent")
@public
def consent(form_id: int):
    try:
        found = _own_form(form_id)
    except ServiceError as error:
        return _expert_problem(error)
    experts.consent(found)
    return redirect(url_for("expert.form", form_id=form_id))


@expert_side.post("/expert/forms/<int:form_id>/draft")
@public
@limiter.limit(lambda: current_app.config["OPEN_LINK_RATE_LIMIT"])
def draft(form_id: int):
    """Save as the expert goes: from the page's script (JSON answer) or its "save" button."""
    wants_json = request.accept_mimetypes.best == "application/json" or request.headers.get("X-CSRFToken")
    try:
        found = _own_form(form_id)
        if _needs_consent(found):
            raise ServiceError("consent_required")
        raw = _raw_answers(experts.questionnaire_of(found))
        problems = experts.save_draft(found, raw)
    except ServiceError as error:
        if wants_json:
            return jsonify(saved=False, error=describe_error(error)), EXPERT_LINK_STATUS.get(error.code, 400)
        return _expert_problem(error)
    if wants_json:
        return jsonify(saved=True, problems=describe_expert_problems(problems))
    if problems:
        keep_changes()  # the valid answers are saved, as by the page's script
        return _form_page(found, problems, 422, answers=_choices_of(raw))
    flash(_("Your answers are saved. You can come back with your link to finish."), "success")
    return redirect(url_for("expert.form", form_id=form_id))


@expert_side.post("/expert/forms/<int:form_id>/submit")
@public
@limiter.limit(lambda: current_app.config["OPEN_LINK_RATE_LIMIT"])
def submit(form_id: int):
    try:
        found = _own_form(form_id)
        if _needs_consent(found):
            raise ServiceError("consent_required")
        raw = _raw_answers(experts.questionnaire_of(found))
        problems = experts.submit(found, raw, request.form.get("submission_id", "")[:64])
    except ServiceError as error:
        return _expert_problem(error)
    if problems:
        # keep what is valid so that nothing typed is lost, and show what is missing
        experts.save_draft(found, raw)
        keep_changes()
        return _form_page(found, problems, 422, answers=_choices_of(raw))
    flash(_("Thank you: your form is submitted."), "success")
    return redirect(url_for("expert.form", form_id=form_id))


@expert_side.get("/expert/forms/<int:form_id>/copy")
@public
def copy(form_id: int):
    """A copy of the submitted form to keep, as a page that prints and opens without the service."""
    try:
        found = _own_form(form_id)
    except ServiceError as error:
        return _expert_problem(error)
    if found.submitted_at is None:
        abort(404)
    page = render_template(
        "expert/copy.html",
        form=found,
        seat=found.seat,
        panel=found.seat.panel,
        questionnaire=experts.questionnaire_of(found),
        answers=found.answers,
        cannot_judge=CANNOT_JUDGE,
    )
    return Response(
        page,
        mimetype="text/html",
        headers={
            "Content-Disposition": f"attachment; filename=expert-form-{found.seat.panel.unit.code}-{found.id}.html"
        },
    )


def describe_expert_problems(problems) -> dict[str, str]:
    return {code: describe_expert_problem(problem) for code, problem in problems.items()}
