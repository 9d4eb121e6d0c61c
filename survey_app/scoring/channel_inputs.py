"""The channels scoring reads besides the surveys: self-assessed data (by file or form) with its appraisal, and
cyberspace values, each refused once the round's results are published."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from analysis import (
    RejectedRow,
    check_cyberspace,
    check_self_assessment,
    template_rows,
)
from analysis.inputs import VIETNAMESE_HEADERS
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.experts import operations as experts
from survey_app.frameworks.operations import framework_of
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring.models import CyberspaceValue, SelfAssessment
from survey_app.survey.operations.fieldwork import read_rows
from survey_app.units.models import Unit


def units_by_code(evaluation_round: EvaluationRound) -> dict[str, Unit]:
    return {unit.code: unit for unit in experts.round_units(evaluation_round)}


# --- self-assessment ------------------------------------------------------------------------------------


def template(evaluation_round: EvaluationRound, unit: Unit | None = None, language: str = "vi") -> pd.DataFrame:
    """The self-assessment template of a round (or one unit), with the values already reported filled in; the
    headers in the language asked for (Vietnamese headers and codes are both read back)."""
    framework = framework_of(evaluation_round.framework)
    codes = [unit.code] if unit is not None else list(units_by_code(evaluation_round))
    table = pd.DataFrame(template_rows(framework, codes, language))
    reported = {(row.unit.code, row.criterion): row for row in assessments(evaluation_round)}
    for position, (code, criterion) in enumerate(zip(table.get("unit", []), table.get("criterion", []))):
        row = reported.get((code, criterion))
        if row is not None:
            table.loc[position, ["value", "evidence", "explanation"]] = [
                f"{row.value:g}",
                row.evidence,
                row.explanation,
            ]
    if language == "vi":
        table = table.rename(columns=VIETNAMESE_HEADERS)
    return table


def assessments(evaluation_round: EvaluationRound, unit: Unit | None = None) -> list[SelfAssessment]:
    query = select(SelfAssessment).where(SelfAssessment.round_id == evaluation_round.id)
    if unit is not None:
        query = query.where(SelfAssessment.unit_id == unit.id).options(selectinload(SelfAssessment.documents))
    return list(db.session.scalars(query.order_by(SelfAssessment.unit_id, SelfAssessment.id)))


@dataclass
class InputImport:
    stored: int
    rejected: list[RejectedRow]


def ensure_open(evaluation_round: EvaluationRound) -> None:
    """Refuse a change to a round whose results are published: they stay as the public saw them."""
    if evaluation_round.published_at is not None:
        raise ServiceError("round_published")


def import_self_assessment(
    evaluation_round: EvaluationRound, data: bytes, filename: str, *, unit: Unit | None = None, actor: User | None
) -> InputImport:
    """Store a self-assessment file (CSV or Excel, the template's columns); see ``store_self_assessment``.

    :raises ServiceError: ``unreadable_file``, ``empty_file``, ``round_published``
    """
    return store_self_assessment(
        evaluation_round, read_rows(data, filename), unit=unit, actor=actor, file_hash=file_digest(data)
    )


def store_self_assessment(
    evaluation_round: EvaluationRound,
    rows: list[Mapping[str, Any]],
    *,
    unit: Unit | None = None,
    actor: User | None,
    file_hash: str | None = None,
) -> InputImport:
    """Store self-assessed rows: every row or, when any row is rejected, none. A row for a criterion the unit
    reported before replaces it (and clears its appraisal, which judged the old value).

    :param unit: the unit of every row when the rows name none (a unit's own file)
    :raises ServiceError: ``empty_file``, ``round_published``
    """
    ensure_open(evaluation_round)
    framework = framework_of(evaluation_round.framework)
    units = units_by_code(evaluation_round)
    checked = check_self_assessment(rows, framework, units, unit=unit.code if unit is not None else None)
    if not checked.valid and not checked.rejected:
        raise ServiceError("empty_file")
    if checked.rejected:
        return InputImport(0, checked.rejected)
    existing = {(row.unit_id, row.criterion): row for row in assessments(evaluation_round)}
    for row in checked.valid:
        _store_assessment(
            evaluation_round,
            units[row.unit],
            row.criterion,
            row.value,
            row.points,
            row.evidence,
            row.explanation,
            source="file",
            actor=actor,
            stored=existing.get((units[row.unit].id, row.criterion)),
        )
    db.session.flush()
    audit.record(
        "scoring.self_assessment",
        actor=actor,
        entity=evaluation_round,
        new={"stored": len(checked.valid), "source": "file", "file_hash": file_hash},
    )
    return InputImport(len(checked.valid), [])


def report_value(
    evaluation_round: EvaluationRound,
    unit: Unit,
    criterion: str,
    value: str,
    *,
    evidence: str,
    explanation: str,
    actor: User | None,
) -> SelfAssessment:
    """Store one self-assessed value entered in the form, checked as a file row would be.

    :raises ServiceError: the row's problem code (``invalid_value``, ``no_evidence``, ...), ``round_published``
    """
    ensure_open(evaluation_round)
    framework = framework_of(evaluation_round.framework)
    checked = check_self_assessment(
        [{"unit": unit.code, "criterion": criterion, "value": value, "evidence": evidence, "explanation": explanation}],
        framework,
        [unit.code],
    )
    if checked.rejected:
        problem = checked.rejected[0]
        raise ServiceError(problem.code, **problem.params)
    row = checked.valid[0]
    stored = _store_assessment(
        evaluation_round,
        unit,
        criterion,
        row.value,
        row.points,
        row.evidence,
        row.explanation,
        source="form",
        actor=actor,
    )
    db.session.flush()
    audit.record("scoring.self_assessment", actor=actor, entity=stored, new={"value": row.value, "points": row.points})
    return stored


def _store_assessment(
    evaluation_round,
    unit,
    criterion,
    value,
    points,
    evidence,
    explanation,
    *,
    source,
    actor,
    stored: SelfAssessment | None = None,
):
    if stored is None:
        stored = db.session.scalar(
            select(SelfAssessment).where(
                SelfAssessment.round_id == evaluation_round.id,
                SelfAssessment.unit_id == unit.id,
                SelfAssessment.criterion == criterion,
            )
        )
    if stored is None:
        stored = SelfAssessment(round_id=evaluation_round.id, unit=unit, criterion=criterion)
        db.session.add(stored)
    elif stored.value != value:
        stored.appraised_points = stored.appraisal_reason = stored.appraised_at = stored.appraised_by_id = None
    stored.value, stored.points, stored.evidence, stored.explanation = value, points, evidence, explanation
    stored.source, stored.reported_at, stored.reported_by_id = source, utcnow(), actor.id if actor else None
    return stored


def appraise(assessment: SelfAssessment, points: float | None, reason: str, *, actor: User) -> None:
    """An officer's appraisal of a self-assessed row: ``points`` None accepts the self-assessed points, a number
    corrects them (a reason is then required); both values are kept and the change is audited.

    :raises ServiceError: ``points_out_of_range``, ``reason_required``, ``round_published``
    """
    evaluation_round = db.session.get(EvaluationRound, assessment.round_id)
    ensure_open(evaluation_round)
    node = framework_of(evaluation_round.framework).find(assessment.criterion)
    if points is None:
        points = assessment.points
    elif not (0 <= points <= node.points and np.isfinite(points)):
        raise ServiceError("points_out_of_range", maximum=node.points)
    elif abs(points - assessment.points) > 1e-9 and not reason.strip():
        raise ServiceError("reason_required")
    old = {"appraised_points": assessment.appraised_points, "reason": assessment.appraisal_reason}
    assessment.appraised_points, assessment.appraisal_reason = float(points), reason.strip()
    assessment.appraised_at, assessment.appraised_by_id = utcnow(), actor.id
    db.session.flush()
    audit.record(
        "scoring.appraise",
        actor=actor,
        entity=assessment,
        old=old,
        new={"self_assessed": assessment.points, "appraised_points": float(points), "reason": reason.strip()},
    )


# --- cyberspace -----------------------------------------------------------------------------------------


def cyberspace_values(evaluation_round: EvaluationRound) -> list[CyberspaceValue]:
    return list(
        db.session.scalars(
            select(CyberspaceValue)
            .where(CyberspaceValue.round_id == evaluation_round.id)
            .order_by(CyberspaceValue.unit_id, CyberspaceValue.node)
        )
    )


def import_cyberspace(
    evaluation_round: EvaluationRound, data: bytes, filename: str, *, actor: User | None
) -> InputImport:
    """Store a cyberspace file (CSV or Excel); see ``store_cyberspace``."""
    return store_cyberspace(evaluation_round, read_rows(data, filename), actor=actor, file_hash=file_digest(data))


def store_cyberspace(
    evaluation_round: EvaluationRound,
    rows: list[Mapping[str, Any]],
    *,
    actor: User | None,
    file_hash: str | None = None,
) -> InputImport:
    """Store cyberspace values (unit, main index, value in [0, 1]): every row, or none when a row is rejected;
    a value for a unit and node already loaded replaces it."""
    ensure_open(evaluation_round)
    units = units_by_code(evaluation_round)
    checked = check_cyberspace(rows, framework_of(evaluation_round.framework), units)
    if not checked.valid and not checked.rejected:
        raise ServiceError("empty_file")
    if checked.rejected:
        return InputImport(0, checked.rejected)
    existing = {(row.unit_id, row.node): row for row in cyberspace_values(evaluation_round)}
    for row in checked.valid:
        unit = units[row.unit]
        stored = existing.get((unit.id, row.node))
        if stored is None:
            stored = CyberspaceValue(round_id=evaluation_round.id, unit=unit, node=row.node)
            db.session.add(stored)
        stored.value, stored.loaded_at, stored.loaded_by_id = row.value, utcnow(), actor.id if actor else None
    db.session.flush()
    audit.record(
        "scoring.cyberspace",
        actor=actor,
        entity=evaluation_round,
        new={"stored": len(checked.valid), "file_hash": file_hash},
    )
    return InputImport(len(checked.valid), [])


def file_digest(data: bytes | str) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()
