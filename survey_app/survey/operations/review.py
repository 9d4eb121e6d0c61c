"""A fieldwork watched and reviewed: quality flags and exclusions, progress per unit and stratum, the responses
exported, and responses collected elsewhere (ODK, Kobo) imported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timezone
from typing import Any, Callable, Iterator

from sqlalchemy import Engine, false, func, or_, select

from questionnaires import (
    Questionnaire,
    median_duration,
    read_collected_csv,
)
from questionnaires.responses import SPEEDING_SHARE, QualityFlag
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


def median_seconds(fieldwork: Fieldwork, known: int | None = None) -> float | None:
    """The median duration of the fieldwork's responses (None when none is known): the middle one or two
    durations, read half-way along the index by fieldwork and duration (``ix_responses_duration``) rather than
    by sorting every duration (``percentile_cont``), which at a million responses costs most of a second.

    :param known: how many of its responses have a duration, when the caller has already counted them
    """
    where = (Response.fieldwork_id == fieldwork.id, Response.duration_seconds.is_not(None))
    count = known if known is not None else db.session.scalar(select(func.count()).where(*where).select_from(Response))
    if not count:
        return None
    middle = db.session.scalars(
        select(Response.duration_seconds)
        .where(*where)
        .order_by(Response.duration_seconds)
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
    ).all()
    return sum(middle) / len(middle)


@dataclass(frozen=True)
class FlagRule:
    """How the database tells a flagged response: the flags stored at submission, and speeding against the
    fieldwork's median duration at the time of asking."""

    #: a response under this many seconds is speeding (None: no median, nobody is)
    threshold: float | None
    #: true for a response whose duration is under the threshold
    speeding: Any
    #: true for a response with a stored flag or speeding
    flagged: Any
    #: true for a response with a flag stored at submission
    stored: Any


def flag_rule(fieldwork: Fieldwork, known: int | None = None) -> FlagRule:
    """The speeding threshold of the fieldwork now and SQL expressions of a response's flags.

    :param known: how many of its responses have a duration, when the caller has already counted them
    """
    median = median_seconds(fieldwork, known)
    # quality_flags' rule: speeding is a duration under SPEEDING_SHARE of a known, non-zero median
    threshold = SPEEDING_SHARE * median if median else None
    speeding = Response.duration_seconds < threshold if threshold is not None else false()
    stored = _has_stored_flags()
    return FlagRule(threshold, speeding, or_(speeding, stored), stored)


def _has_stored_flags():
    length = "jsonb_array_length" if db.session.get_bind().dialect.name == "postgresql" else "json_array_length"
    return func.coalesce(getattr(func, length)(Response.flags), 0) > 0


def flags_of(flags: list[str] | None, speeding: bool) -> list[str]:
    """A response's flags as shown and exported: speeding first, then those stored at submission."""
    return [str(QualityFlag.SPEEDING), *(flags or [])] if speeding else list(flags or [])


def review_flags(fieldwork: Fieldwork) -> dict[int, list[str]]:
    """Every response's flags: those found at submission and speeding against the current median duration."""
    rule = flag_rule(fieldwork)
    rows = db.session.execute(
        select(Response.id, Response.flags, rule.speeding.label("speeding")).where(
            Response.fieldwork_id == fieldwork.id
        )
    )
    return {row.id: flags_of(row.flags, bool(row.speeding)) for row in rows}


@dataclass
class ReviewRow:
    id: int
    unit_name: str
    flags: list[str]
    duration_seconds: float | None
    excluded: bool
    exclusion_reason: str | None


@dataclass
class ReviewPage:
    rows: list[ReviewRow]
    #: the flagged responses in all
    total: int
    page: int
    pages: int


#: flagged responses shown on a page of the review
REVIEW_PAGE_SIZE = 100


def flagged_page(fieldwork: Fieldwork, page: int = 1, size: int | None = None) -> ReviewPage:
    """One page of the fieldwork's flagged responses, in the order they were stored, and how many there are.

    :param page: from 1; a page past the last gives the last
    :param size: responses per page, ``REVIEW_PAGE_SIZE`` unless given
    """
    size = size or REVIEW_PAGE_SIZE
    rule = flag_rule(fieldwork)
    where = (Response.fieldwork_id == fieldwork.id, rule.flagged)
    total = db.session.scalar(select(func.count()).select_from(Response).where(*where)) or 0
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = db.session.execute(
        select(
            Response.id,
            Unit.name.label("unit_name"),
            Response.flags,
            rule.speeding.label("speeding"),
            Response.duration_seconds,
            Response.excluded,
            Response.exclusion_reason,
        )
        .join(Unit, Unit.id == Response.unit_id)
        .where(*where)
        .order_by(Response.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return ReviewPage(
        [
            ReviewRow(
                row.id,
                row.unit_name,
                flags_of(row.flags, bool(row.speeding)),
                row.duration_seconds,
                row.excluded,
                row.exclusion_reason,
            )
            for row in rows
        ],
        total,
        page,
        pages,
    )


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
    flagged and excluded responses, and every quota stratum's fill; every figure counted by the database."""
    by_unit = {unit.id: UnitProgress(unit) for unit in fieldwork.units}
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    # one pass over the index of the responses by unit (ix_responses_review) counts all but speeding, whose
    # threshold needs the median of the whole fieldwork: the durations counted here find it half-way along the
    # index by duration, and the few responses under it are then counted per unit on the first index
    stored = _has_stored_flags()
    columns = [
        Response.unit_id,
        func.count(),
        func.count(Response.duration_seconds),
        func.count().filter(stored),
        func.count().filter(Response.excluded.is_(True)),
    ]
    if postgresql:
        columns.append(func.percentile_cont(0.5).within_group(Response.duration_seconds))
    with_duration = 0
    for unit_id, completed, timed, flagged, excluded, *median in db.session.execute(
        select(*columns).where(Response.fieldwork_id == fieldwork.id).group_by(Response.unit_id)
    ):
        with_duration += timed
        if unit_id in by_unit:
            unit = by_unit[unit_id]
            unit.completed, unit.flagged, unit.excluded = completed, flagged, excluded
            unit.median_seconds = median[0] if median else None
    rule = flag_rule(fieldwork, known=with_duration)
    if rule.threshold is not None and by_unit:
        for unit_id, speeding in db.session.execute(
            select(Response.unit_id, func.count())
            .where(
                Response.fieldwork_id == fieldwork.id,
                Response.unit_id.in_(list(by_unit)),
                rule.speeding,
                ~rule.stored,
            )
            .group_by(Response.unit_id)
        ):
            by_unit[unit_id].flagged += speeding
    if not postgresql:
        # SQLite (`make run`, a demo's few thousand responses) has no percentile_cont
        durations: dict[int, list[float]] = {}
        for unit_id, duration in db.session.execute(
            select(Response.unit_id, Response.duration_seconds).where(
                Response.fieldwork_id == fieldwork.id, Response.duration_seconds.is_not(None)
            )
        ):
            durations.setdefault(unit_id, []).append(duration)
        for unit_id, values in durations.items():
            if unit_id in by_unit:
                by_unit[unit_id].median_seconds = median_duration(values)
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
    for unit in by_unit.values():
        unit.started += unit.completed
    return list(by_unit.values())


#: responses read from the database at a time by an export
EXPORT_BATCH = 5000


@dataclass(frozen=True)
class ExportSource:
    """What an export reads, taken while the request's session is open: the body of a streamed export is
    written after the request boundary has ended that session, on a connection of its own."""

    engine: Engine
    fieldwork_id: int
    questionnaire: Questionnaire
    #: the speeding threshold when the export was asked for (``FlagRule.threshold``)
    threshold: float | None
    #: told how many responses have been read so far, after each batch (a job's progress)
    on_batch: Callable[[int], None] | None = None


def export_source(fieldwork: Fieldwork) -> ExportSource:
    return ExportSource(db.engine, fieldwork.id, fieldwork.questionnaire.questionnaire, flag_rule(fieldwork).threshold)


def export_batches(source: ExportSource, batch: int | None = None) -> Iterator[list[dict[str, Any]]]:
    """The fieldwork's responses as records for questionnaires.exports, a batch at a time, in the order they
    were stored: read by a server-side cursor on a connection of their own, so that memory holds one batch
    whatever the fieldwork's size."""
    speeding = Response.duration_seconds < source.threshold if source.threshold is not None else false()
    query = (
        select(
            Response.id,
            Unit.code,
            Response.submitted_at,
            Response.duration_seconds,
            Response.source,
            Response.flags,
            speeding.label("speeding"),
            Response.excluded,
            Response.answers,
        )
        .join(Unit, Unit.id == Response.unit_id)
        .where(Response.fieldwork_id == source.fieldwork_id)
        .order_by(Response.id)
    )
    with source.engine.connect() as connection:
        rows = connection.execution_options(yield_per=batch or EXPORT_BATCH).execute(query)
        done = 0
        for part in rows.partitions():
            done += len(part)
            if source.on_batch is not None:
                source.on_batch(done)
            yield [
                {
                    "response_id": row.id,
                    "unit": row.code,
                    # in UTC, as its label says, whatever the database session's time zone
                    "submitted_at": row.submitted_at.astimezone(timezone.utc).isoformat(),
                    "duration_seconds": row.duration_seconds,
                    "source": row.source,
                    "flags": flags_of(row.flags, bool(row.speeding)),
                    "excluded": row.excluded,
                    "answers": row.answers,
                }
                for row in part
            ]


def export_records(fieldwork: Fieldwork) -> list[dict[str, Any]]:
    """The fieldwork's responses as records for questionnaires.exports, all at once (a small fieldwork)."""
    return [record for part in export_batches(export_source(fieldwork)) for record in part]


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
