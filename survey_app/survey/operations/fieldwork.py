"""Fieldwork: a published questionnaire put in the field for a round's units, its mode and status, and the quota
of each stratum that caps the responses taken."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from questionnaires import (
    QuestionType,
    stratum_of,
)
from questionnaires.tables import TableError, read_table
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.rounds.models import EvaluationRound
from survey_app.survey.models import (
    Fieldwork,
    FieldworkMode,
    FieldworkStatus,
    PublishedQuestionnaire,
    Quota,
)
from survey_app.units.models import Unit

STRATUM_SEPARATOR = " | "
#: how long invitees' contact data are kept after the fieldwork opens, unless staff say otherwise
DEFAULT_CONTACT_RETENTION = timedelta(days=180)
SOURCES = ("web", "api", "import")


def stratum_key(values: Iterable[str]) -> str:
    return STRATUM_SEPARATOR.join(values)


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


def units_by_code(fieldwork: Fieldwork) -> dict[str, Unit]:
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
    units = units_by_code(fieldwork)
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
