"""A fieldwork watched and reviewed: quality flags and exclusions, progress per unit and stratum, the responses
exported, and responses collected elsewhere (ODK, Kobo) imported."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from questionnaires import (
    median_duration,
    quality_flags,
    read_collected_csv,
)
from questionnaires.responses import QualityFlag
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.survey.models import (
    Fieldwork,
    Invitation,
    Quota,
    Response,
    ResponseDraft,
)
from survey_app.survey.operations.fieldwork import units_by_code
from survey_app.survey.operations.responses import submit
from survey_app.units.models import Unit


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
    units = units_by_code(fieldwork)
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
