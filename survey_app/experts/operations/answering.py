"""The expert's side: a personal link opens the expert's forms, consent, drafts and the submission, once."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from questionnaires import (
    ExpertQuestionnaire,
    check_expert_answers,
    document_hash,
)
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import token_hash
from survey_app.core.types import utcnow
from survey_app.experts.models import ExpertForm, ExpertPanel, PanelSeat, SeatRole


def _usable(form: ExpertForm) -> None:
    if form.revoked_at is not None or form.seat.role != SeatRole.MEMBER:
        raise ServiceError("link_revoked")
    if utcnow() >= form.link_expires_at:
        raise ServiceError("link_expired")


def open_link(token: str) -> ExpertForm:
    """The form behind a personal link, noting when it was first opened.

    :raises ServiceError: ``unknown_link``, ``link_revoked``, ``link_expired``
    """
    form = db.session.scalar(select(ExpertForm).where(ExpertForm.token_hash == token_hash(token)))
    if form is None:
        raise ServiceError("unknown_link")
    _usable(form)
    form.opened_at = form.opened_at or utcnow()
    return form


def consent(form: ExpertForm) -> None:
    """The expert has read the notice on their personal data and agreed to go on (once; audited)."""
    if form.consented_at is None:
        form.consented_at = utcnow()
        audit.record("experts.consent", entity=form, actor_label="expert")


def form_for(form_id: int, allowed: list[int]) -> ExpertForm | None:
    """The form, when it is one of the expert's own (``allowed``: the forms their links opened) and its link
    still works; None otherwise, so that another form's address answers like an address that does not exist.

    :raises ServiceError: ``link_revoked``, ``link_expired``
    """
    if form_id not in allowed:
        return None
    # the form's page and its saves read the seat, the panel and its questionnaire: one query for all
    form = db.session.get(
        ExpertForm,
        form_id,
        options=[joinedload(ExpertForm.seat).joinedload(PanelSeat.panel).joinedload(ExpertPanel.questionnaire)],
    )
    if form is None:
        return None
    _usable(form)
    return form


def questionnaire_of(form: ExpertForm) -> ExpertQuestionnaire:
    return form.seat.panel.questionnaire.questionnaire


def save_draft(form: ExpertForm, raw: Mapping[str, Mapping[str, Any]]):
    """Keep what the expert gave so far: the valid answers are saved, the others named.

    :return: the problems by item
    :raises ServiceError: ``form_submitted``: a submitted form is not changed by a draft
    """
    if form.submitted_at is not None:
        raise ServiceError("form_submitted")
    checked = check_expert_answers(questionnaire_of(form), raw, complete=False)
    form.answers, form.saved_at = checked.answers, utcnow()
    return checked.problems


def submit(form: ExpertForm, raw: Mapping[str, Mapping[str, Any]], submission_id: str):
    """Submit the form, once: the same submission again is answered as the first was.

    :return: the problems by item (nothing is stored when there is one)
    :raises ServiceError: ``form_submitted`` when the form was submitted with other answers or another
        submission
    """
    checked = check_expert_answers(questionnaire_of(form), raw, complete=True)
    digest = document_hash(checked.answers)
    if form.submitted_at is not None:
        if form.submission_id == submission_id and form.payload_hash == digest:
            return {}
        raise ServiceError("form_submitted")
    if checked.problems:
        return checked.problems
    now = utcnow()
    form.answers, form.saved_at, form.submitted_at = checked.answers, now, now
    form.submission_id, form.payload_hash = submission_id[:64], digest
    audit.record("experts.submit", entity=form, actor_label=f"expert:{form.seat.nomination_id}")
    return {}
