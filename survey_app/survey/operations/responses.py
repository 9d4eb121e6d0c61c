"""The respondent's side: a personal or open link starts a draft, kept section by section under a resume code,
and its submission is stored exactly once.

The rules that matter for the data:
- a submission is identified by the client's ``submission_id`` within its fieldwork: the same identifier
  with the same payload is the same response (the first answer is given again), with another payload it is
  refused (``submission_conflict``);
- the response row is inserted before its quota place is taken, so a repeated submission never spends a
  place, and the place is taken with one conditional UPDATE, so concurrent submissions never overshoot;
- a token or resume code is looked up by its hash; nothing here stores an IP address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from questionnaires import (
    check_answers,
    document_hash,
    quality_flags,
    stratum_of,
)
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import new_resume_code, normalise_resume_code, token_hash
from survey_app.core.types import utcnow
from survey_app.survey.models import (
    Fieldwork,
    FieldworkMode,
    Invitation,
    Quota,
    Response,
    ResponseDraft,
)
from survey_app.survey.operations.fieldwork import quota_for, stratum_key
from survey_app.units.models import Unit


def _usable(fieldwork: Fieldwork) -> None:
    if not fieldwork.is_open(utcnow()):
        raise ServiceError("fieldwork_closed")


def open_invitation(token: str) -> ResponseDraft:
    """The draft behind a personal link, created on first use.

    :raises ServiceError: ``unknown_link``, ``link_revoked``, ``fieldwork_closed``; ``link_used`` with
        ``submitted_at`` and, unless the fieldwork is anonymous (its invitations do not know their response),
        the response's ``receipt``
    """
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise ServiceError("unknown_link")
    if invitation.revoked_at is not None:
        raise ServiceError("link_revoked")
    if invitation.submitted_at is not None:
        response = db.session.get(Response, invitation.response_id) if invitation.response_id else None
        raise ServiceError(
            "link_used",
            submitted_at=invitation.submitted_at,
            receipt=receipt(response) if response is not None else None,
        )
    fieldwork = db.session.get(Fieldwork, invitation.fieldwork_id)
    _usable(fieldwork)
    draft = db.session.scalar(
        select(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id).options(*_DRAFT_CONTEXT)
    )
    if draft is None:
        invitation.opened_at = invitation.opened_at or utcnow()
        draft = ResponseDraft(fieldwork=fieldwork, unit_id=invitation.unit_id, invitation=invitation, answers={})
        db.session.add(draft)
        db.session.flush()
    return draft


def start_open_draft(fieldwork: Fieldwork, unit: Unit) -> tuple[ResponseDraft, str]:
    """Begin an answer on a unit's public link.

    :return: the draft and its resume code (shown to the respondent; only its hash is stored)
    :raises ServiceError: ``fieldwork_closed``; ``unknown_link`` when the fieldwork is not an open link or the
        unit is not in it
    """
    if fieldwork.mode != FieldworkMode.OPEN_LINK or unit not in fieldwork.units:
        raise ServiceError("unknown_link")
    _usable(fieldwork)
    code = new_resume_code()
    draft = ResponseDraft(fieldwork=fieldwork, unit=unit, resume_hash=token_hash(code), answers={})
    db.session.add(draft)
    db.session.flush()
    return draft, code


#: what every page of a draft reads besides the draft: loaded with it in one query, not one at a time
_DRAFT_CONTEXT = (
    joinedload(ResponseDraft.fieldwork).joinedload(Fieldwork.questionnaire),
    joinedload(ResponseDraft.unit),
)


def find_draft(resume_code: str) -> ResponseDraft:
    """:raises ServiceError: ``unknown_link`` (also for a draft already submitted), ``fieldwork_closed``"""
    draft = db.session.scalar(
        select(ResponseDraft)
        .where(ResponseDraft.resume_hash == token_hash(normalise_resume_code(resume_code)))
        .options(*_DRAFT_CONTEXT)
    )
    if draft is None:
        raise ServiceError("unknown_link")
    _usable(draft.fieldwork)
    return draft


def save_draft(draft: ResponseDraft, section: int, raw: Mapping[str, Any], *, moving_on: bool):
    """Keep a section's answers.

    :param moving_on: the respondent asks for the next section: required answers must then be given;
        otherwise (saving as they go) only wrong answers are refused and the valid ones kept
    :return: the checked answers of the section (their problems name the fields)
    """
    questionnaire = draft.fieldwork.questionnaire.questionnaire
    questions = questionnaire.sections[section].questions
    combined = {**draft.answers, **{q.code: raw.get(q.code) for q in questions if q.code in raw}}
    checked = check_answers(questionnaire, combined, questions=questions, complete=moving_on)
    answers = {key: value for key, value in draft.answers.items() if key not in {q.code for q in questions}}
    answers.update(checked.answers)
    draft.answers = answers
    draft.updated_at = utcnow()
    if moving_on and checked.valid:
        draft.section = max(draft.section, section + 1)
    return checked


def stratum_full(draft: ResponseDraft) -> bool:
    """Whether the draft's stratum is known and has no place left (or is not in the plan): the respondent
    is thanked and the draft can no longer be submitted."""
    if not draft.fieldwork.quota_dimensions:
        return False
    stratum, quota = quota_for(draft.fieldwork, draft.unit, draft.answers)
    full = stratum is not None and (quota is None or quota.filled >= quota.target)
    if full:
        draft.screened_out = True
    return full


@dataclass
class Submitted:
    #: the stored response, or for a new one the row of its id, submission_id and submitted_at
    response: Any
    #: True when the same submission had already been stored: nothing new was written
    replay: bool


def submit(
    fieldwork: Fieldwork,
    unit: Unit,
    raw_answers: Mapping[str, Any],
    submission_id: str,
    *,
    source: str,
    started_at: datetime | None = None,
    duration_seconds: float | None = None,
    draft: ResponseDraft | None = None,
    invitation: Invitation | None = None,
) -> Submitted:
    """Store a complete response exactly once.

    :raises ServiceError: ``invalid_answers`` (with ``problems`` by question), ``submission_conflict`` for a
        different payload under a known identifier, ``link_used`` / ``link_revoked`` for an invitation,
        ``quota_full`` / ``not_in_quota`` for an open link, ``fieldwork_closed``, ``unit_not_in_fieldwork``,
        ``bad_submission_id``
    """
    check_submission_id(submission_id)
    if unit not in fieldwork.units:
        raise ServiceError("unit_not_in_fieldwork", unit=unit.code)
    questionnaire = fieldwork.questionnaire.questionnaire
    answers = valid_answers(questionnaire, raw_answers)
    payload_hash = submission_hash(unit.code, answers)
    if invitation is None and draft is not None:
        invitation = draft.invitation
    if invitation is not None:
        # one submission at a time per invitation: a second one waits here and then sees the first; a repeat
        # must answer as the first did before the link is judged used
        db.session.execute(select(Invitation.id).where(Invitation.id == invitation.id).with_for_update())
        db.session.refresh(invitation)
        existing = _stored(fieldwork, submission_id)
        if existing is not None:
            return _replay(existing, payload_hash)
    now = utcnow()
    # paper and telephone interviews are entered after the fact, outside the open link's quotas
    imported = source == "import"
    if not imported and not fieldwork.is_open(now):
        existing = _stored(fieldwork, submission_id)
        if existing is not None:
            return _replay(existing, payload_hash)
        raise ServiceError("fieldwork_closed")
    if invitation is not None:
        if invitation.revoked_at is not None:
            raise ServiceError("link_revoked")
        if invitation.submitted_at is not None:
            raise ServiceError("link_used")
    if draft is not None and draft.screened_out:
        raise ServiceError("quota_full")
    if started_at is None and draft is not None:
        started_at = draft.started_at
    stratum = None
    if fieldwork.quota_dimensions:
        values = stratum_of(answers, fieldwork.quota_dimensions)
        stratum = stratum_key(values) if values is not None else None
    response = _insert_once(
        fieldwork_id=fieldwork.id,
        questionnaire_id=fieldwork.questionnaire_id,
        unit_id=unit.id,
        submission_id=submission_id,
        payload_hash=payload_hash,
        stratum=stratum,
        source=source,
        **new_response(questionnaire, answers, started_at=started_at, duration_seconds=duration_seconds, now=now),
    )
    if response is None:
        # the same identifier was stored before, or by a concurrent request that has committed meanwhile
        existing = _stored(fieldwork, submission_id)
        if existing is None:
            raise ServiceError("submission_conflict")
        return _replay(existing, payload_hash)
    if fieldwork.quota_dimensions and not imported:
        _take_quota_place(fieldwork, unit, stratum)
    if invitation is not None:
        invitation.submitted_at = now
        if not fieldwork.anonymous:
            invitation.response_id = response.id
    if draft is not None:
        db.session.delete(draft)
    elif invitation is not None:
        db.session.execute(delete(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id))
    return Submitted(response, replay=False)


def check_submission_id(submission_id: str) -> None:
    if not submission_id or len(submission_id) > 64 or not submission_id.isprintable():
        raise ServiceError("bad_submission_id")


def valid_answers(questionnaire, raw_answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers checked and normalised for storing; :raises ServiceError: ``invalid_answers``"""
    checked = check_answers(questionnaire, raw_answers)
    if not checked.valid:
        raise ServiceError("invalid_answers", problems=checked.problems)
    return checked.answers


def submission_hash(unit_code: str, answers: Mapping[str, Any]) -> str:
    """What tells a repeated submission from a different one under the same identifier."""
    return document_hash({"unit": unit_code, "answers": answers})


def new_response(
    questionnaire,
    answers: dict[str, Any],
    *,
    started_at: datetime | None,
    duration_seconds: float | None,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a new response row beyond where it belongs: the answers, when, how long (from
    ``started_at`` unless given) and the quality flags found at submission."""
    if duration_seconds is None and started_at is not None:
        duration_seconds = max((now - started_at).total_seconds(), 0.0)
    return {
        "answers": answers,
        "started_at": started_at,
        "submitted_at": now,
        "duration_seconds": duration_seconds,
        "flags": [str(flag) for flag in quality_flags(questionnaire, answers, None, None)],
    }


def _insert_once(**values):
    """Insert a response unless its (fieldwork, submission identifier) is already stored: the new row's id,
    submission_id and submitted_at (what a receipt needs), or None.

    One statement instead of a look-up, a savepoint and an insert: the unique constraint decides, and a
    concurrent insert of the same identifier waits for the first to commit and then inserts nothing. A Core
    statement on the table: the ORM's bulk machinery and a full entity cost more than the insert itself.
    """
    statement = _INSERT_ONCE[db.session.get_bind().dialect.name]
    return db.session.execute(statement, values).one_or_none()


# built once: the values travel as parameters, so the statement compiles once per process
_INSERT_ONCE = {
    name: insert(Response.__table__)
    .on_conflict_do_nothing(index_elements=["fieldwork_id", "submission_id"])
    .returning(Response.__table__.c.id, Response.__table__.c.submission_id, Response.__table__.c.submitted_at)
    for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def _take_quota_place(fieldwork: Fieldwork, unit: Unit, stratum: str | None) -> None:
    """Take one place in the stratum's quota in one conditional update, so concurrent submissions never
    overshoot it; a stratum without a quota, or without a place left, refuses the response."""
    taken = db.session.execute(
        update(Quota)
        .where(
            Quota.fieldwork_id == fieldwork.id,
            Quota.unit_id == unit.id,
            Quota.stratum == stratum,
            Quota.filled < Quota.target,
        )
        .values(filled=Quota.filled + 1)
        .returning(Quota.id)
    ).first()
    if taken is None:
        exists = db.session.scalar(
            select(Quota.id).where(
                Quota.fieldwork_id == fieldwork.id, Quota.unit_id == unit.id, Quota.stratum == stratum
            )
        )
        raise ServiceError("quota_full" if exists else "not_in_quota", stratum=stratum or "")


@dataclass(frozen=True)
class StoredResponse:
    """What a receipt needs of a response just stored."""

    id: int
    submission_id: str
    submitted_at: datetime


def receipt(response: Response | StoredResponse) -> str:
    """A reference the respondent can quote; it reveals nothing of the response. The same for a response
    whatever the database session's time zone."""
    submitted_at = response.submitted_at.astimezone(timezone.utc).isoformat()
    return token_hash(f"{response.id}:{response.submission_id}:{submitted_at}")[:10].upper()


def _stored(fieldwork: Fieldwork, submission_id: str) -> Response | None:
    return db.session.scalar(
        select(Response).where(Response.fieldwork_id == fieldwork.id, Response.submission_id == submission_id)
    )


def _replay(existing: Response, payload_hash: str) -> Submitted:
    if existing.payload_hash != payload_hash:
        raise ServiceError("submission_conflict")
    return Submitted(existing, replay=True)
