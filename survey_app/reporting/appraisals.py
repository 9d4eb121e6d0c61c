"""The appraisal of what a unit signed off, as the unit sees it: each appraised value with its reason, and the
unit's one written reply, taken until the appraisal closes (the round's results published, or the closing day
officers set, in Vietnam's time).

In Quảng Nam's commune index the same pair is the survey criteria's two scores [2326 II.2.b]: the commune's
own score from its survey ("Điểm tự đánh giá") and the department's after verification ("Điểm sau khi thẩm
định")."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from analysis.inputs import MAX_TEXT
from questionnaires import Channel, Node
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.reporting.models import AppraisalReply, AppraisalWindow
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import channel_inputs
from survey_app.scoring.models import SelfAssessment
from survey_app.units.models import Unit

#: the closing day is a day in Vietnam, where the units are
_VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def today() -> date:
    return datetime.now(_VIETNAM).date()


def surveyed(node: Node) -> bool:
    """Whether the unit scores the criterion from its own survey before the department verifies it (a criterion
    measured both by self-assessment and by a survey, as Quảng Nam's commune index has them)."""
    channels = set(node.channel_kinds())
    return Channel.SURVEY in channels and bool(channels & {Channel.SELF_ASSESSMENT, Channel.APPRAISAL})


def assessments_of(evaluation_round: EvaluationRound, unit: Unit) -> dict[str, SelfAssessment]:
    """The unit's self-assessed values in the round (what it signed off), by criterion, with their appraisal."""
    return {row.criterion: row for row in channel_inputs.assessments(evaluation_round, unit)}


def replies_to(assessments) -> dict[int, AppraisalReply]:
    """The replies to the given self-assessed values, by the value's id."""
    ids = [row.id for row in assessments]
    if not ids:
        return {}
    found = db.session.scalars(select(AppraisalReply).where(AppraisalReply.assessment_id.in_(ids)))
    return {reply.assessment_id: reply for reply in found}


def closes_on(evaluation_round: EvaluationRound) -> date | None:
    window = db.session.get(AppraisalWindow, evaluation_round.id)
    return window.closes_on if window is not None else None


def is_open(evaluation_round: EvaluationRound, on: date | None = None) -> bool:
    """Whether units may still answer the round's appraisal: not once the results are published, nor after the
    closing day."""
    if evaluation_round.published_at is not None:
        return False
    closing = closes_on(evaluation_round)
    return closing is None or (on or today()) <= closing


def set_closing(evaluation_round: EvaluationRound, closing: date, *, actor: User) -> None:
    """Set the last day units may answer the round's appraisal.

    :raises ServiceError: ``round_published``
    """
    channel_inputs.ensure_open(evaluation_round)
    window = db.session.get(AppraisalWindow, evaluation_round.id)
    old = window.closes_on.isoformat() if window is not None else None
    if window is None:
        window = AppraisalWindow(round_id=evaluation_round.id, closes_on=closing)
        db.session.add(window)
    window.closes_on, window.set_at, window.set_by_id = closing, utcnow(), actor.id
    db.session.flush()
    audit.record(
        "reporting.appraisal_closing",
        actor=actor,
        entity=evaluation_round,
        field="closes_on",
        old=old,
        new=closing.isoformat(),
    )


def reply(evaluation_round: EvaluationRound, unit: Unit, criterion: str, text: str, *, actor: User) -> AppraisalReply:
    """The unit's one written answer to the appraisal of its value on a criterion.

    :raises ServiceError: ``reply_required``, ``not_appraised`` (nothing to answer yet), ``appraisal_closed``,
        ``already_replied``
    """
    text = text.strip()
    if not text:
        raise ServiceError("reply_required")
    assessment = assessments_of(evaluation_round, unit).get(criterion)
    if assessment is None or assessment.appraised_points is None:
        raise ServiceError("not_appraised", criterion=criterion)
    if not is_open(evaluation_round):
        raise ServiceError("appraisal_closed")
    if replies_to([assessment]):
        raise ServiceError("already_replied", criterion=criterion)
    answer = AppraisalReply(
        assessment_id=assessment.id,
        appraised_points=assessment.appraised_points,
        appraisal_reason=assessment.appraisal_reason or "",
        text=text[:MAX_TEXT],
        replied_by_id=actor.id,
    )
    try:
        # a second reply sent at the same moment meets the unique key, not a second row
        with db.session.begin_nested():
            db.session.add(answer)
    except IntegrityError:
        raise ServiceError("already_replied", criterion=criterion) from None
    audit.record(
        "reporting.appraisal_reply",
        actor=actor,
        entity=assessment,
        new={"criterion": criterion, "appraised_points": answer.appraised_points, "reply": answer.text},
    )
    return answer


def forget_reply(assessment: SelfAssessment) -> None:
    """Drop the reply to an appraisal that no longer stands: the unit changed the value (a reopened report signed
    off again) and its appraisal was cleared, so the next appraisal may be answered afresh."""
    found = replies_to([assessment])
    for answer in found.values():
        db.session.delete(answer)
    if found:
        db.session.flush()
