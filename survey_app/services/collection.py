"""The survey channel's use cases: publish questionnaires, open fieldwork, issue invitations, keep drafts,
and take submissions exactly once.

The rules that matter for the data:
- a submission is identified by the client's ``submission_id`` within its fieldwork: the same identifier
  with the same payload is the same response (the first answer is given again), with another payload it is
  refused (``submission_conflict``);
- the response row is inserted before its quota place is taken, so a repeated submission never spends a
  place, and the place is taken with one conditional UPDATE, so concurrent submissions never overshoot;
- a token or resume code is looked up by its hash; nothing here stores an IP address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from sqlalchemy import bindparam, delete, false, func, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from questionnaires import (
    QuestionBank,
    QuestionType,
    RespondentGroup,
    check_answers,
    coverage,
    document_hash,
    generate,
    median_duration,
    quality_flags,
    questionnaire_to_dict,
    read_collected_csv,
    stratum_of,
)
from questionnaires.responses import QualityFlag
from questionnaires.tables import TableError, read_table
from survey_app.cache import PerEngine
from survey_app.config import SUBMISSIONS_BIND
from survey_app.extensions import db
from survey_app.models import (
    ApiKey,
    EvaluationRound,
    Fieldwork,
    FieldworkMode,
    FieldworkStatus,
    FrameworkVersion,
    Invitation,
    InviteeContact,
    PublishedQuestionnaire,
    Quota,
    Response,
    ResponseDraft,
    Unit,
    User,
)
from survey_app.models.collection import api_key_fieldworks, fieldwork_units
from survey_app.models.types import utcnow
from survey_app.services import ServiceError, audit
from survey_app.services.frameworks import framework_of
from survey_app.services.tokens import new_resume_code, new_token, normalise_resume_code, token_hash

STRATUM_SEPARATOR = " | "
#: how long invitees' contact data are kept after the fieldwork opens, unless staff say otherwise
DEFAULT_CONTACT_RETENTION = timedelta(days=180)
SOURCES = ("web", "api", "import")


def stratum_key(values: Iterable[str]) -> str:
    return STRATUM_SEPARATOR.join(values)


# --- questionnaires -------------------------------------------------------------------------------------


def publish_questionnaire(
    framework: FrameworkVersion,
    group: RespondentGroup,
    bank: QuestionBank,
    *,
    code: str,
    name_vi: str,
    name_en: str,
    actor: User | None,
) -> tuple[PublishedQuestionnaire, bool]:
    """Generate the group's questionnaire from the framework and publish it as a frozen snapshot.

    The same content again returns the latest version unchanged; other content makes a new version.

    :return: the snapshot and whether it is new
    :raises ServiceError: ``coverage_gaps`` naming the criteria without a question for the group
    """
    spec = framework_of(framework)
    gaps = [gap.criterion for gap in coverage(spec, bank.questions) if gap.group == group]
    if gaps:
        raise ServiceError("coverage_gaps", criteria=", ".join(gaps))
    questionnaire = generate(spec, bank.questions, group, bank.background)
    if not questionnaire.questions():
        raise ServiceError("empty_questionnaire", group=str(group))
    return publish_snapshot(
        framework,
        str(group),
        questionnaire_to_dict(questionnaire),
        code=code,
        name_vi=name_vi,
        name_en=name_en,
        actor=actor,
    )


def publish_snapshot(
    framework: FrameworkVersion,
    group: str,
    document: dict[str, Any],
    *,
    code: str,
    name_vi: str,
    name_en: str,
    actor: User | None,
) -> tuple[PublishedQuestionnaire, bool]:
    """Store a generated questionnaire's document as the next version of ``code``, unless the latest version
    already has this content.

    :return: the snapshot and whether it is new
    """
    digest = document_hash(document)
    latest = db.session.scalar(
        select(PublishedQuestionnaire)
        .where(PublishedQuestionnaire.code == code)
        .order_by(PublishedQuestionnaire.version.desc())
        .limit(1)
    )
    if latest is not None and latest.content_hash == digest:
        return latest, False
    snapshot = PublishedQuestionnaire(
        code=code,
        version=(latest.version + 1) if latest else 1,
        group=group,
        name_vi=name_vi,
        name_en=name_en or name_vi,
        framework=framework,
        document=document,
        content_hash=digest,
        published_by_id=actor.id if actor else None,
    )
    db.session.add(snapshot)
    db.session.flush()
    audit.record(
        "questionnaire.publish",
        actor=actor,
        entity=snapshot,
        new={"code": code, "version": snapshot.version, "content_hash": digest},
    )
    return snapshot, True


def list_questionnaires() -> list[PublishedQuestionnaire]:
    return list(
        db.session.scalars(
            select(PublishedQuestionnaire).order_by(PublishedQuestionnaire.code, PublishedQuestionnaire.version.desc())
        )
    )


# --- fieldwork ------------------------------------------------------------------------------------------


def create_fieldwork(
    code: str,
    questionnaire: PublishedQuestionnaire,
    mode: FieldworkMode,
    units: list[Unit],
    *,
    name_vi: str,
    name_en: str = "",
    anonymous: bool = True,
    quota_dimensions: list[str] = (),
    closes_at: datetime | None = None,
    evaluation_round: EvaluationRound | None = None,
    actor: User | None,
) -> Fieldwork:
    """Open fieldwork for a questionnaire in a set of units.

    :raises ServiceError: ``fieldwork_code_taken``; ``no_units``; ``bad_quota_dimension`` when a dimension is
        not a choice question of the questionnaire
    """
    if db.session.scalar(select(Fieldwork.id).where(Fieldwork.code == code)) is not None:
        raise ServiceError("fieldwork_code_taken", code=code)
    if not units:
        raise ServiceError("no_units")
    if questionnaire.for_experts:
        raise ServiceError("experts_questionnaire")
    choice_questions = {
        q.code
        for q in questionnaire.questionnaire.questions()
        if q.type in (QuestionType.SINGLE, QuestionType.YES_NO, QuestionType.LIKERT)
    }
    for dimension in quota_dimensions:
        if dimension not in choice_questions:
            raise ServiceError("bad_quota_dimension", dimension=dimension)
    fieldwork = Fieldwork(
        code=code,
        name_vi=name_vi,
        name_en=name_en or name_vi,
        questionnaire=questionnaire,
        mode=mode,
        anonymous=anonymous,
        quota_dimensions=list(quota_dimensions),
        closes_at=closes_at,
        round_id=evaluation_round.id if evaluation_round else None,
        units=list(units),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(fieldwork)
    db.session.flush()
    audit.record(
        "fieldwork.create",
        actor=actor,
        entity=fieldwork,
        new={
            "code": code,
            "questionnaire_id": questionnaire.id,
            "mode": str(mode),
            "units": [unit.code for unit in units],
            "quota_dimensions": list(quota_dimensions),
        },
    )
    return fieldwork


def get_fieldwork(code: str) -> Fieldwork | None:
    """The fieldwork with its units and questionnaire snapshot, in one query (every submission needs them)."""
    return (
        db.session.scalars(
            select(Fieldwork)
            .where(Fieldwork.code == code)
            .options(joinedload(Fieldwork.units), joinedload(Fieldwork.questionnaire))
        )
        .unique()
        .one_or_none()
    )


def set_status(fieldwork: Fieldwork, status: FieldworkStatus, *, actor: User) -> None:
    if fieldwork.status != status:
        audit.record(
            "fieldwork.status",
            actor=actor,
            entity=fieldwork,
            field="status",
            old=str(fieldwork.status),
            new=str(status),
        )
        fieldwork.status = status


def _unit_by_code(fieldwork: Fieldwork) -> dict[str, Unit]:
    return {unit.code: unit for unit in fieldwork.units}


@dataclass
class RowProblem:
    line: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def read_rows(data: bytes, filename: str = "", *, excel: bool = True) -> list[dict[str, str]]:
    """The rows of an uploaded table (``questionnaires.tables``: a CSV with ``,`` or ``;``, or a workbook when
    ``excel``), keyed by header as compared (trimmed, case folded), values as text. Blank rows are kept (and
    are to be skipped), so that under a header on row 1 the n-th row is the file's row n + 1.

    :raises ServiceError: the reader's codes (``unreadable_file``, ``not_utf8``, ``unreadable_row``,
        ``extra_cells``, ``duplicate_column``), naming the row or column
    """
    try:
        return read_table(data, filename, excel=excel).records()
    except TableError as error:
        raise ServiceError(error.code, **error.params) from None


def set_quotas(fieldwork: Fieldwork, data: bytes, *, actor: User) -> int:
    """Replace the targets of the fieldwork's quota strata from a CSV: a ``unit`` column, one column per quota
    dimension and a ``target`` column. A target below what is already filled is refused.

    :return: the number of strata
    :raises ServiceError: ``rows_rejected`` listing every bad row; nothing is stored then
    """
    if not fieldwork.quota_dimensions:
        raise ServiceError("no_quota_dimensions")
    rows = read_rows(data, excel=False)
    units = _unit_by_code(fieldwork)
    questions = {q.code: q for q in fieldwork.questionnaire.questionnaire.questions()}
    existing = {
        (quota.unit_id, quota.stratum): quota
        for quota in db.session.scalars(select(Quota).where(Quota.fieldwork_id == fieldwork.id))
    }
    problems: list[RowProblem] = []
    targets: dict[tuple[int, str], int] = {}
    required = ["unit", *[d.lower() for d in fieldwork.quota_dimensions], "target"]
    if rows and (missing := [c for c in required if c not in rows[0]]):
        raise ServiceError("missing_column", column=", ".join(missing))
    for line, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue
        unit = units.get(row.get("unit", ""))
        if unit is None:
            problems.append(RowProblem(line, "unknown_unit", {"unit": row.get("unit", "")}))
            continue
        values = []
        for dimension in fieldwork.quota_dimensions:
            value = row.get(dimension.lower(), "")
            if value not in {choice.value for choice in questions[dimension].all_choices()}:
                problems.append(RowProblem(line, "unknown_level", {"dimension": dimension, "value": value}))
            values.append(value)
        try:
            target = int(row.get("target", ""))
            if target < 0:
                raise ValueError
        except ValueError:
            problems.append(RowProblem(line, "invalid_target", {"value": row.get("target", "")}))
            continue
        key = (unit.id, stratum_key(values))
        if key in targets:
            problems.append(RowProblem(line, "duplicate_stratum", {"stratum": key[1]}))
        if key in existing and existing[key].filled > target:
            problems.append(RowProblem(line, "target_below_filled", {"filled": existing[key].filled}))
        targets[key] = target
    if not rows:
        raise ServiceError("empty_file")
    if problems:
        raise ServiceError("rows_rejected", rows=problems)
    for (unit_id, stratum), target in targets.items():
        quota = existing.get((unit_id, stratum))
        if quota is None:
            db.session.add(Quota(fieldwork_id=fieldwork.id, unit_id=unit_id, stratum=stratum, target=target))
        else:
            quota.target = target
    audit.record("fieldwork.quotas", actor=actor, entity=fieldwork, new={"strata": len(targets)})
    db.session.flush()
    return len(targets)


def quota_for(fieldwork: Fieldwork, unit: Unit, answers: Mapping[str, Any]) -> tuple[str | None, Quota | None]:
    """The respondent's stratum and its quota (None when the stratum is not yet known or has no quota)."""
    values = stratum_of(answers, fieldwork.quota_dimensions)
    if values is None:
        return None, None
    stratum = stratum_key(values)
    quota = db.session.scalar(
        select(Quota).where(Quota.fieldwork_id == fieldwork.id, Quota.unit_id == unit.id, Quota.stratum == stratum)
    )
    return stratum, quota


# --- invitations ----------------------------------------------------------------------------------------


@dataclass
class IssuedInvitation:
    invitation: Invitation
    #: the token, shown once: only its hash is stored
    token: str


def issue_invitations(
    fieldwork: Fieldwork, invitees: list[Mapping[str, Any]], *, actor: User, erase_after: date | None = None
) -> list[IssuedInvitation]:
    """Create a personal link per invitee.

    :param invitees: mappings with ``unit`` (code) and optionally ``name``, ``email``, ``phone`` (kept apart,
        erased after ``erase_after``), ``stratum`` and ``inclusion_probability``
    :raises ServiceError: ``not_invitation_mode``; ``rows_rejected`` for unknown units or probabilities
        outside (0, 1]
    """
    if fieldwork.mode != FieldworkMode.INVITATION:
        raise ServiceError("not_invitation_mode")
    units = _unit_by_code(fieldwork)
    problems = []
    for line, invitee in enumerate(invitees, start=2):
        if str(invitee.get("unit", "")) not in units:
            problems.append(RowProblem(line, "unknown_unit", {"unit": invitee.get("unit", "")}))
        probability = invitee.get("inclusion_probability")
        if probability not in (None, ""):
            try:
                if not 0 < float(probability) <= 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(RowProblem(line, "invalid_probability", {"value": probability}))
    if problems:
        raise ServiceError("rows_rejected", rows=problems)
    erase_after = erase_after or (utcnow() + DEFAULT_CONTACT_RETENTION).date()
    issued = []
    for invitee in invitees:
        token = new_token()
        probability = invitee.get("inclusion_probability")
        invitation = Invitation(
            fieldwork_id=fieldwork.id,
            unit=units[str(invitee["unit"])],
            token_hash=token_hash(token),
            stratum=invitee.get("stratum") or None,
            inclusion_probability=float(probability) if probability not in (None, "") else None,
        )
        if any(invitee.get(key) for key in ("name", "email", "phone")):
            invitation.contact = InviteeContact(
                name=invitee.get("name") or None,
                email=invitee.get("email") or None,
                phone=invitee.get("phone") or None,
                erase_after=erase_after,
            )
        db.session.add(invitation)
        issued.append(IssuedInvitation(invitation, token))
    db.session.flush()
    audit.record("fieldwork.invitations", actor=actor, entity=fieldwork, new={"issued": len(issued)})
    return issued


def revoke_invitation(invitation: Invitation, *, actor: User, reason: str) -> None:
    if invitation.submitted_at is not None:
        raise ServiceError("invitation_already_used")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db.session.execute(delete(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id))
        audit.record("invitation.revoke", actor=actor, entity=invitation, details={"reason": reason})


# --- the respondent's side ------------------------------------------------------------------------------


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
    _check_submission_id(submission_id)
    if unit not in fieldwork.units:
        raise ServiceError("unit_not_in_fieldwork", unit=unit.code)
    questionnaire = fieldwork.questionnaire.questionnaire
    answers = _valid_answers(questionnaire, raw_answers)
    payload_hash = _payload_hash(unit.code, answers)
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
        **_new_response(questionnaire, answers, started_at=started_at, duration_seconds=duration_seconds, now=now),
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


def _check_submission_id(submission_id: str) -> None:
    if not submission_id or len(submission_id) > 64 or not submission_id.isprintable():
        raise ServiceError("bad_submission_id")


def _valid_answers(questionnaire, raw_answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers checked and normalised for storing; :raises ServiceError: ``invalid_answers``"""
    checked = check_answers(questionnaire, raw_answers)
    if not checked.valid:
        raise ServiceError("invalid_answers", problems=checked.problems)
    return checked.answers


def _payload_hash(unit_code: str, answers: Mapping[str, Any]) -> str:
    """What tells a repeated submission from a different one under the same identifier."""
    return document_hash({"unit": unit_code, "answers": answers})


def _new_response(
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


# --- the API's submissions: one statement each -----------------------------------------------------------


@dataclass(frozen=True)
class SubmissionTarget:
    """What a submission needs of its fieldwork that never changes once the fieldwork is opened: its
    questionnaire, units and quota dimensions. Kept per process (see ``submission_target``); the fieldwork's
    status and closing time do change, and the insert checks them itself."""

    fieldwork_id: int
    code: str
    questionnaire_id: int
    questionnaire: Any
    #: unit code → unit id
    unit_ids: Mapping[str, int]
    quota_dimensions: tuple[str, ...]


#: how long a key found live is admitted without asking the database again; submissions check it in their
#: insert all the same, so a revoked key stores nothing from the moment it is revoked
KEY_RECHECK = timedelta(seconds=30)
#: per database engine: fieldwork code → SubmissionTarget (never changes), and API key hash → LiveKey
_TARGETS: PerEngine[SubmissionTarget] = PerEngine(256)
_KEYS: PerEngine[LiveKey] = PerEngine(1024, ttl=KEY_RECHECK.total_seconds())


def submission_target(code: str) -> SubmissionTarget | None:
    """The fieldwork's fixed facts, loaded once per process (None when there is no such fieldwork)."""
    targets = _TARGETS.of(db.engine)
    target = targets.get(code)
    if target is None:
        fieldwork = get_fieldwork(code)
        if fieldwork is None:
            return None
        target = targets.set(code, _target_of(fieldwork))
    return target


def _target_of(fieldwork: Fieldwork) -> SubmissionTarget:
    return SubmissionTarget(
        fieldwork_id=fieldwork.id,
        code=fieldwork.code,
        questionnaire_id=fieldwork.questionnaire_id,
        questionnaire=fieldwork.questionnaire.questionnaire,
        unit_ids={unit.code: unit.id for unit in fieldwork.units},
        quota_dimensions=tuple(fieldwork.quota_dimensions),
    )


def submit_with_key(
    target: SubmissionTarget,
    unit_code: str,
    raw_answers: Mapping[str, Any],
    submission_id: str,
    *,
    api_key: LiveKey,
    started_at: datetime | None = None,
    duration_seconds: float | None = None,
) -> Submitted:
    """Store a complete response sent with an API key, exactly once, with ``submit``'s rules.

    The common case, a new response to an open fieldwork without quotas, is one autocommitted statement
    that also checks what may have changed since the target and the key were cached: the fieldwork still
    open, the key not revoked. When it stores nothing (a repeat, a closed fieldwork, a revoked key) or
    cannot (quotas, which are taken in the same transaction as the insert), ``submit`` runs and says why.

    :raises ServiceError: ``api_key_not_for_fieldwork``, ``api_key_revoked``, ``fieldwork_gone``, and
        ``submit``'s errors
    """
    # a key's fieldworks never change once issued, so the cached key's scope is the key's scope
    if target.fieldwork_id not in api_key.fieldwork_ids:
        raise ServiceError("api_key_not_for_fieldwork", fieldwork=target.code)
    _check_submission_id(submission_id)
    if unit_code not in target.unit_ids:
        raise ServiceError("unit_not_in_fieldwork", unit=unit_code)
    answers = _valid_answers(target.questionnaire, raw_answers)
    if not target.quota_dimensions:
        now = utcnow()
        response_id = _insert_checked(
            dict(
                fieldwork_id=target.fieldwork_id,
                code=target.code,
                questionnaire_id=target.questionnaire_id,
                unit_id=target.unit_ids[unit_code],
                api_key_id=api_key.id,
                submission_id=submission_id,
                payload_hash=_payload_hash(unit_code, answers),
                source="api",
                **_new_response(
                    target.questionnaire, answers, started_at=started_at, duration_seconds=duration_seconds, now=now
                ),
            )
        )
        if response_id is not None:
            return Submitted(StoredResponse(response_id, submission_id, now), replay=False)
    if not key_is_live(api_key):
        raise ServiceError("api_key_revoked")
    fieldwork = get_fieldwork(target.code)
    if fieldwork is None or fieldwork.id != target.fieldwork_id:
        _TARGETS.of(db.engine).pop(target.code)
        raise ServiceError("fieldwork_gone")
    unit = next(unit for unit in fieldwork.units if unit.code == unit_code)
    return submit(
        fieldwork,
        unit,
        raw_answers,
        submission_id,
        source="api",
        started_at=started_at,
        duration_seconds=duration_seconds,
    )


def _insert_checked(values: dict[str, Any]) -> int | None:
    """Run the checked insert, autocommitted, on the submissions engine: the new response's id, or None.

    The statement goes straight to the driver on a pooled connection (see ``CompiledOnce``). If the driver
    raises, SQLAlchemy runs the statement again, which either succeeds or raises the error as SQLAlchemy does
    everywhere else (a dead connection is then replaced and the statement sent once more). Running it again is
    always safe: it stores a submission identifier at most once."""
    engine = db.engines[SUBMISSIONS_BIND]
    statement = _COMPILED.get(engine.dialect.name)
    if statement is None:
        statement = _COMPILED[engine.dialect.name] = CompiledOnce(_INSERT_CHECKED[engine.dialect.name], engine.dialect)
    try:
        return statement.scalar(engine, values)
    except statement.driver_error:
        pass
    with engine.connect() as connection:
        try:
            return connection.execute(statement.statement, values).scalar_one_or_none()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
    with engine.connect() as connection:
        return connection.execute(statement.statement, values).scalar_one_or_none()


class CompiledOnce:
    """A Core statement compiled once for a dialect and run on a pooled DBAPI connection, with public API only.

    For the API's insert, SQLAlchemy's execution (execution context, result) costs half as much CPU again as
    the driver's call (about 0.20 ms against 0.14, measured with benchmarks/submit.py's statement). Here the SQL
    and the parameters are what SQLAlchemy would send: ``SQLCompiler.construct_expanded_state`` gives both, in
    the driver's paramstyle (named for psycopg, positional for sqlite3), and each value goes through its type's
    ``bind_processor`` (JSON to text, timestamps to UTC). The connection comes from ``Engine.raw_connection()``;
    psycopg prepares the statement on each connection after its first uses. Only the result's first column is
    read, unprocessed (an integer id)."""

    def __init__(self, statement, dialect) -> None:
        self.statement = statement
        self.compiled = statement.compile(dialect=dialect)
        self.positional = dialect.positional
        self.processors = {
            name: processor
            for name, bind in self.compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        self.driver_error = dialect.loaded_dbapi.Error

    def parameters(self, values: dict[str, Any]) -> tuple[str, dict[str, Any] | tuple]:
        """The SQL and the driver's parameters for ``values``."""
        state = self.compiled.construct_expanded_state(values)
        parameters = state.parameters  # a new dict each time, converted in place
        for name, processor in self.processors.items():
            parameters[name] = processor(parameters[name])
        return state.statement, state.positional_parameters if self.positional else parameters

    def scalar(self, engine, values: dict[str, Any]):
        sql, parameters = self.parameters(values)
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, parameters)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except self.driver_error:
            # the connection may be dead (the database restarted): it is replaced, not used again
            connection.invalidate()
            raise
        finally:
            connection.close()
        return row[0] if row is not None else None


def _insert_checked_statement():
    """INSERT … SELECT the values WHERE the fieldwork is open and has the unit and the key is live, ON
    CONFLICT (fieldwork, submission identifier) DO NOTHING, RETURNING the new id."""
    table = Response.__table__
    columns = [
        "fieldwork_id",
        "questionnaire_id",
        "unit_id",
        "submission_id",
        "payload_hash",
        "answers",
        "stratum",
        "source",
        "started_at",
        "submitted_at",
        "duration_seconds",
        "flags",
        "excluded",
    ]
    parameters = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    parameters["stratum"] = null()
    parameters["excluded"] = false()
    fieldwork_open = (
        select(Fieldwork.id)
        .where(
            Fieldwork.id == parameters["fieldwork_id"],
            Fieldwork.code == bindparam("code", type_=Fieldwork.code.type),
            Fieldwork.questionnaire_id == parameters["questionnaire_id"],
            Fieldwork.status == FieldworkStatus.OPEN,
            or_(Fieldwork.closes_at.is_(None), Fieldwork.closes_at > parameters["submitted_at"]),
        )
        .exists()
    )
    unit_in_fieldwork = (
        select(fieldwork_units.c.unit_id)
        .where(
            fieldwork_units.c.fieldwork_id == parameters["fieldwork_id"],
            fieldwork_units.c.unit_id == parameters["unit_id"],
        )
        .exists()
    )
    key_live = (
        select(ApiKey.id)
        .where(ApiKey.id == bindparam("api_key_id", type_=ApiKey.id.type), ApiKey.revoked_at.is_(None))
        .exists()
    )
    values = select(*(parameters[name] for name in columns)).where(fieldwork_open, unit_in_fieldwork, key_live)
    return {
        name: insert(table)
        .from_select(columns, values)
        .on_conflict_do_nothing(index_elements=["fieldwork_id", "submission_id"])
        .returning(table.c.id)
        for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
    }


_INSERT_CHECKED = _insert_checked_statement()
#: the same, compiled for the driver in use, by dialect name
_COMPILED: dict[str, CompiledOnce] = {}


# --- review, dashboard, exports -------------------------------------------------------------------------


def review_flags(fieldwork: Fieldwork) -> dict[int, list[str]]:
    """Every response's flags: those found at submission and speeding against the current median duration."""
    rows = db.session.execute(
        select(Response.id, Response.duration_seconds, Response.flags).where(Response.fieldwork_id == fieldwork.id)
    ).all()
    median = median_duration(row.duration_seconds for row in rows)
    questionnaire = fieldwork.questionnaire.questionnaire
    flags = {}
    for row in rows:
        found = list(row.flags or [])
        if QualityFlag.SPEEDING in quality_flags(questionnaire, {}, row.duration_seconds, median):
            found.insert(0, str(QualityFlag.SPEEDING))
        flags[row.id] = found
    return flags


def set_excluded(response: Response, excluded: bool, reason: str, *, actor: User) -> None:
    if response.excluded != excluded:
        audit.record(
            "response.exclude" if excluded else "response.include",
            actor=actor,
            entity=response,
            details={"reason": reason},
        )
        response.excluded = excluded
        response.exclusion_reason = reason if excluded else None


@dataclass
class UnitProgress:
    unit: Unit
    started: int = 0
    completed: int = 0
    invited: int = 0
    submitted_invitations: int = 0
    median_seconds: float | None = None
    flagged: int = 0
    excluded: int = 0
    quotas: list[Quota] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        return self.submitted_invitations / self.invited if self.invited else None


def progress(fieldwork: Fieldwork) -> list[UnitProgress]:
    """Per unit: drafts started, responses completed, invitations and response rate, median duration,
    flagged and excluded responses, and every quota stratum's fill."""
    by_unit = {unit.id: UnitProgress(unit) for unit in fieldwork.units}
    flags = review_flags(fieldwork)
    durations: dict[int, list[float]] = {}
    for row in db.session.execute(
        select(Response.id, Response.unit_id, Response.duration_seconds, Response.excluded).where(
            Response.fieldwork_id == fieldwork.id
        )
    ):
        unit = by_unit.get(row.unit_id)
        if unit is None:
            continue
        unit.completed += 1
        unit.flagged += bool(flags.get(row.id))
        unit.excluded += bool(row.excluded)
        if row.duration_seconds is not None:
            durations.setdefault(row.unit_id, []).append(row.duration_seconds)
    for unit_id, count in db.session.execute(
        select(ResponseDraft.unit_id, func.count())
        .where(ResponseDraft.fieldwork_id == fieldwork.id)
        .group_by(ResponseDraft.unit_id)
    ):
        if unit_id in by_unit:
            by_unit[unit_id].started += count
    for unit_id, invited, submitted in db.session.execute(
        select(Invitation.unit_id, func.count(), func.count(Invitation.submitted_at))
        .where(Invitation.fieldwork_id == fieldwork.id, Invitation.revoked_at.is_(None))
        .group_by(Invitation.unit_id)
    ):
        if unit_id in by_unit:
            by_unit[unit_id].invited, by_unit[unit_id].submitted_invitations = invited, submitted
    for quota in db.session.scalars(select(Quota).where(Quota.fieldwork_id == fieldwork.id).order_by(Quota.stratum)):
        if quota.unit_id in by_unit:
            by_unit[quota.unit_id].quotas.append(quota)
    for unit_id, values in durations.items():
        by_unit[unit_id].median_seconds = median_duration(values)
    for unit in by_unit.values():
        unit.started += unit.completed
    return list(by_unit.values())


def export_records(fieldwork: Fieldwork) -> list[dict[str, Any]]:
    """The fieldwork's responses as records for questionnaires.exports."""
    flags = review_flags(fieldwork)
    rows = db.session.execute(
        select(Response, Unit.code)
        .join(Unit, Unit.id == Response.unit_id)
        .where(Response.fieldwork_id == fieldwork.id)
        .order_by(Response.id)
    )
    return [
        {
            "response_id": response.id,
            "unit": unit_code,
            "submitted_at": response.submitted_at.isoformat(),
            "duration_seconds": response.duration_seconds,
            "source": response.source,
            "flags": flags.get(response.id, []),
            "excluded": response.excluded,
            "answers": response.answers,
        }
        for response, unit_code in rows
    ]


@dataclass
class ImportReport:
    stored: int = 0
    #: responses already stored under the same identifier (an export imported twice)
    already_stored: int = 0
    #: (line, [(question or column, problem code)])
    rejected: list[tuple[int, list[tuple[str, str]]]] = field(default_factory=list)


def import_collected(
    fieldwork: Fieldwork, data: bytes, *, unit: Unit | None, actor: User, accept_valid_rows: bool = False
) -> ImportReport:
    """Import an ODK Central or KoboToolbox CSV export into the fieldwork's responses.

    A file with rejected rows stores nothing unless ``accept_valid_rows``; rows already imported (same
    instance identifier, same answers) are counted and skipped.

    :param unit: the unit of every row, unless the file has a ``unit`` column
    :raises ServiceError: ``collected_file`` for a file that is not such an export, or the table reader's code
        (``not_utf8``, ``unreadable_row``, ...) naming the row or column
    """
    questionnaire = fieldwork.questionnaire.questionnaire
    collected = read_collected_csv(questionnaire, data)
    if collected.problem:
        if collected.details:  # the table reader's own refusals name their row or column, as every upload's do
            raise ServiceError(collected.problem, **collected.details)
        raise ServiceError("collected_file", problem=collected.problem)
    report = ImportReport(rejected=[(row.line, row.reasons) for row in collected.rejected])
    units = _unit_by_code(fieldwork)
    accepted = []
    for row in collected.responses:
        row_unit = units.get(row.unit) if row.unit else unit
        if row_unit is None:
            report.rejected.append((row.line, [("unit", "unknown_unit")]))
        else:
            accepted.append((row, row_unit))
    report.rejected.sort()
    if report.rejected and not accept_valid_rows:
        return report
    for row, row_unit in accepted:
        try:
            with db.session.begin_nested():
                outcome = submit(
                    fieldwork,
                    row_unit,
                    row.answers,
                    row.submission_id[:64],
                    source="import",
                    started_at=row.started_at,
                    duration_seconds=row.duration_seconds,
                )
        except ServiceError as error:
            report.rejected.append((row.line, [("", error.code)]))
            continue
        if outcome.replay:
            report.already_stored += 1
        else:
            report.stored += 1
    report.rejected.sort()
    audit.record(
        "fieldwork.import",
        actor=actor,
        entity=fieldwork,
        new={"stored": report.stored, "already_stored": report.already_stored, "rejected": len(report.rejected)},
    )
    return report


# --- API keys -------------------------------------------------------------------------------------------


def create_api_key(name: str, fieldworks: list[Fieldwork], *, actor: User | None) -> tuple[ApiKey, str]:
    """Issue a key that submits to ``fieldworks`` and no other.

    :return: the key's record and the key itself, shown once
    :raises ServiceError: ``api_key_without_fieldwork`` when no fieldwork is named
    """
    if not fieldworks:
        raise ServiceError("api_key_without_fieldwork")
    key = "dti_" + new_token()
    record = ApiKey(
        name=name, key_hash=token_hash(key), created_by_id=actor.id if actor else None, fieldworks=list(fieldworks)
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "api_key.create",
        actor=actor,
        entity=record,
        new={"name": name, "fieldworks": [fieldwork.code for fieldwork in fieldworks]},
    )
    return record, key


def revoke_api_key(record: ApiKey, *, actor: User | None) -> None:
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        audit.record("api_key.revoke", actor=actor, entity=record)


@dataclass
class LiveKey:
    """An API key found live: its id, the fieldworks it was issued for, and when its use was last noted."""

    id: int
    fieldwork_ids: frozenset[int]
    last_used_at: datetime | None


def api_key_for(key: str) -> LiveKey | None:
    """The live key, or None. A key found live is admitted for ``KEY_RECHECK`` without asking again (every
    API request asks); what it changes must check the key again, as ``submit_with_key`` does."""
    digest = token_hash(key)
    keys = _KEYS.of(db.engine)
    live = keys.get(digest)
    if live is not None:
        return live
    record = db.session.execute(
        select(ApiKey.id, ApiKey.last_used_at).where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
    ).first()
    if record is None:
        return None
    fieldwork_ids = frozenset(
        db.session.scalars(
            select(api_key_fieldworks.c.fieldwork_id).where(api_key_fieldworks.c.api_key_id == record.id)
        )
    )
    return keys.set(digest, LiveKey(record.id, fieldwork_ids, record.last_used_at))


def key_is_live(key: LiveKey) -> bool:
    """Whether the key is still not revoked, asked of the database now."""
    return db.session.scalar(select(ApiKey.id).where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None))) is not None


#: to the minute is enough to see which keys are alive, and spares a write on every submission
KEY_USE_PRECISION = timedelta(minutes=1)


def note_key_use(key: LiveKey) -> None:
    """Record that the key was used, at most once a minute per process."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > KEY_USE_PRECISION:
        db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
        key.last_used_at = now
