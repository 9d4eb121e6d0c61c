"""The respondent's side: a unit's public link, personal invitation links, a page per section with answers
saved as they go, resume, submission and confirmation.

Links are ``/i/<token>`` (an invitation) and ``/r/<code>`` (a draft begun on a public link, resumable with
its code). Unknown tokens and codes count against the client's rate limit; working links do not (see
``survey_app.core.links.guarded``).
"""

from __future__ import annotations

import uuid

from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from questionnaires import QuestionType, is_relevant
from survey_app.core.app import keep_changes
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db, limiter
from survey_app.core.i18n import current_language, describe_answer_problems, describe_error, number
from survey_app.core.links import HELD_KEY, LINK_STATUS, SENT_KEY, guarded, link_id, remember, remembered
from survey_app.core.security import public
from survey_app.core.tokens import normalise_resume_code
from survey_app.core.types import utcnow
from survey_app.survey import operations as collection
from survey_app.survey.blueprint import respond as blueprint
from survey_app.survey.models import FieldworkMode, Invitation, ResponseDraft

#: the hidden field that people never fill and robots do
HONEYPOT = "website"


def _open_link_limit() -> str:
    return current_app.config["OPEN_LINK_RATE_LIMIT"]


def _problem(error: ServiceError, kind: str | None = None, key: str | None = None):
    """The page of a link that cannot be used. A link already used thanks the respondent with what they can
    quote: when they sent their answers and their receipt (the response's, or the one this browser was
    given when it sent them; a draft sent is gone, so its resume code is known only to that browser)."""
    sent = remembered(SENT_KEY).get(link_id(kind, key)) if kind else None
    if error.code == "link_used" or sent:
        return render_template(
            "respond/sent.html",
            submitted_at=error.params.get("submitted_at"),
            receipt=error.params.get("receipt") or sent,
        ), LINK_STATUS["link_used"]
    return render_template("respond/problem.html", message=describe_error(error), code=error.code), LINK_STATUS.get(
        error.code, 400
    )


def _draft(kind: str, key: str) -> ResponseDraft:
    if kind == "i":
        return collection.open_invitation(key)
    return collection.find_draft(key)


def _questions(draft: ResponseDraft, section: int):
    questionnaire = draft.fieldwork.questionnaire.questionnaire
    if not 0 <= section < len(questionnaire.sections):
        abort(404)
    return questionnaire, questionnaire.sections[section]


def _raw_answers(section) -> dict:
    raw = {}
    for question in section.questions:
        if question.type is QuestionType.MULTIPLE:
            if question.code in request.form or f"{question.code}__present" in request.form:
                raw[question.code] = request.form.getlist(question.code)
        elif question.code in request.form:
            raw[question.code] = request.form.get(question.code)
    return raw


def _page(kind, key, draft, section, problems=None, status=200, resume_code=None):
    questionnaire, current = _questions(draft, section)
    errors = describe_answer_problems(problems or {}, current.questions)
    # questions are numbered through the questionnaire, as on paper, so that the errors can name them
    first_number = 1 + sum(len(earlier.questions) for earlier in questionnaire.sections[:section])
    return render_template(
        "respond/section.html",
        kind=kind,
        key=key,
        draft=draft,
        fieldwork=draft.fieldwork,
        questionnaire=questionnaire,
        section=current,
        index=section,
        total=len(questionnaire.sections),
        answers=draft.answers,
        errors=errors,
        resume_code=resume_code or session.get("resume_code_shown"),
        first_number=first_number,
        relevant=lambda question: is_relevant(question, draft.answers),
    ), status


# --- public links ----------------------------------------------------------------------------------------


@blueprint.route("/s/<fieldwork_code>/<unit_code>", methods=["GET", "POST"])
@public
@limiter.limit(_open_link_limit, methods=["POST"])
def open_link(fieldwork_code: str, unit_code: str):
    fieldwork = collection.get_fieldwork(fieldwork_code)
    unit = next((u for u in fieldwork.units if u.code == unit_code), None) if fieldwork else None
    if unit is None or fieldwork.mode != FieldworkMode.OPEN_LINK:
        return _problem(ServiceError("unknown_link"))
    if request.method == "POST":
        if request.form.get(HONEYPOT):
            abort(400)
        try:
            draft, code = collection.start_open_draft(fieldwork, unit)
        except ServiceError as error:
            return _problem(error)
        session["resume_code_shown"] = code
        remember(HELD_KEY, link_id("r", code), 1)
        return redirect(url_for("respond.section", kind="r", key=code, section=0))
    if not fieldwork.is_open(utcnow()):
        return _problem(ServiceError("fieldwork_closed"))
    return render_template("respond/start.html", fieldwork=fieldwork, unit=unit, honeypot=HONEYPOT)


@blueprint.route("/resume", methods=["GET", "POST"])
@public
@guarded
def resume():
    error = None
    if request.method == "POST":
        code = request.form.get("code", "")
        try:
            draft = collection.find_draft(code)
        except ServiceError as problem:
            # a code can be mistyped: say so and let the respondent correct it (404 counts as a guess)
            message = (
                _("No survey in progress has this resume code. Check the code and try again.")
                if problem.code == "unknown_link"
                else describe_error(problem)
            )
            return render_template("respond/resume.html", error=message, code=code[:40]), LINK_STATUS.get(
                problem.code, 400
            )
        return redirect(
            url_for(
                "respond.section",
                kind="r",
                key=normalise_resume_code(code),
                section=min(draft.section, len(draft.fieldwork.questionnaire.questionnaire.sections) - 1),
            )
        )
    return render_template("respond/resume.html", error=error)


@blueprint.route("/<any(i, r):kind>/<key>")
@public
@guarded
def entry(kind: str, key: str):
    try:
        draft = _draft(kind, key)
    except ServiceError as error:
        return _problem(error, kind, key)
    sections = len(draft.fieldwork.questionnaire.questionnaire.sections)
    if draft.section >= sections:
        return redirect(url_for("respond.review", kind=kind, key=key))
    intro = kind == "i" and not draft.answers
    if intro:
        invitation = db.session.get(Invitation, draft.invitation_id)
        return render_template(
            "respond/start.html",
            fieldwork=draft.fieldwork,
            unit=draft.unit,
            kind=kind,
            key=key,
            honeypot=None,
            contact=invitation.contact if invitation else None,
        )
    return redirect(url_for("respond.section", kind=kind, key=key, section=draft.section))


@blueprint.route("/<any(i, r):kind>/<key>/<int:section>", methods=["GET", "POST"])
@public
@guarded
def section(kind: str, key: str, section: int):
    try:
        draft = _draft(kind, key)
    except ServiceError as error:
        return _problem(error, kind, key)
    if section > draft.section:
        return redirect(url_for("respond.section", kind=kind, key=key, section=draft.section))
    questionnaire, current = _questions(draft, section)
    if request.method == "GET":
        return _page(kind, key, draft, section)
    checked = collection.save_draft(
        draft, section, _raw_answers(current), moving_on=request.form.get("action") != "back"
    )
    if request.form.get("action") == "back":
        return redirect(url_for("respond.section", kind=kind, key=key, section=max(section - 1, 0)))
    if not checked.valid:
        # keep the valid answers of the section even though the page is shown again with its errors
        keep_changes()
        return _page(kind, key, draft, section, checked.problems, status=422)
    if collection.stratum_full(draft):
        return render_template("respond/screened_out.html", fieldwork=draft.fieldwork)
    if section + 1 >= len(questionnaire.sections):
        return redirect(url_for("respond.review", kind=kind, key=key))
    return redirect(url_for("respond.section", kind=kind, key=key, section=section + 1))


@blueprint.route("/<any(i, r):kind>/<key>/<int:section>/save", methods=["POST"])
@public
@guarded
def autosave(kind: str, key: str, section: int):
    """Saving as the respondent goes (survey.js): valid answers are kept, wrong ones named."""
    try:
        draft = _draft(kind, key)
    except ServiceError as error:
        return jsonify(saved=False, error=describe_error(error)), LINK_STATUS.get(error.code, 400)
    _, current = _questions(draft, section)
    checked = collection.save_draft(draft, section, _raw_answers(current), moving_on=False)
    return jsonify(saved=True, problems=describe_answer_problems(checked.problems, current.questions))


@blueprint.route("/<any(i, r):kind>/<key>/submit", methods=["GET", "POST"])
@public
@guarded
def review(kind: str, key: str):
    if request.method == "POST" and request.form.get(HONEYPOT):
        abort(400)
    submission_id = request.form.get("submission_id", "")
    try:
        draft = _draft(kind, key)
    except ServiceError as error:
        if request.method == "POST" and error.code in ("unknown_link", "link_used"):
            # the draft is gone because this very submission was stored: answer as the first time did
            done = session.get("submitted", {})
            if submission_id and done.get(submission_id):
                return redirect(url_for("respond.done", receipt=done[submission_id]))
        return _problem(error, kind, key)
    questionnaire = draft.fieldwork.questionnaire.questionnaire
    if draft.section < len(questionnaire.sections):
        return redirect(url_for("respond.section", kind=kind, key=key, section=draft.section))
    if request.method == "GET":
        return render_template(
            "respond/review.html",
            kind=kind,
            key=key,
            draft=draft,
            fieldwork=draft.fieldwork,
            questionnaire=questionnaire,
            submission_id=str(uuid.uuid4()),
            honeypot=HONEYPOT,
            answer_text=answer_text,
        )
    try:
        outcome = collection.submit(
            draft.fieldwork, draft.unit, draft.answers, submission_id, source="web", draft=draft
        )
    except ServiceError as error:
        if error.code == "invalid_answers":
            first = next(iter(error.params["problems"]))
            index = next(i for i, s in enumerate(questionnaire.sections) if any(q.code == first for q in s.questions))
            draft.section = index
            keep_changes()
            return _page(
                kind,
                key,
                draft,
                index,
                {
                    k: v
                    for k, v in error.params["problems"].items()
                    if any(q.code == k for q in questionnaire.sections[index].questions)
                },
                status=422,
            )
        return _problem(error, kind, key)
    receipt = collection.receipt(outcome.response)
    session["submitted"] = {**session.get("submitted", {}), submission_id: receipt}
    remember(SENT_KEY, link_id(kind, key), receipt)
    session.pop("resume_code_shown", None)
    return redirect(url_for("respond.done", receipt=receipt))


def answer_text(question, value) -> str:
    """An answer as the respondent chose it: the choices' labels in their language, numbers in its format."""
    language = current_language()
    labels = {choice.value: choice.label.in_language(language) for choice in question.all_choices()}
    if isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if isinstance(value, float):
        return number(value)
    return labels.get(value, value)


@blueprint.route("/done")
@public
def done():
    return render_template("respond/done.html", receipt=request.args.get("receipt", "")[:10])
