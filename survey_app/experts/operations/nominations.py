"""Nominations: the candidates each unit proposes for its expert panel, checked and imported, erased after their
retention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from sampling import (
    RejectedNomination,
    check_nominations,
)
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.experts.models import Nomination
from survey_app.rounds.models import EvaluationRound
from survey_app.survey.operations.fieldwork import read_rows
from survey_app.units.models import Unit

#: statuses of a member's form, in the order fieldwork moves through them
STATUSES = ("selected", "invited", "opened", "in_progress", "submitted", "declined")
#: a panel's default size: the smallest the letter allows [5066 Annex II.3]
DEFAULT_PANEL_SIZE = 15


def round_units(evaluation_round: EvaluationRound) -> list[Unit]:
    return list(evaluation_round.unit_list.units)


def _unit(evaluation_round: EvaluationRound, code: str) -> Unit:
    unit = next((unit for unit in round_units(evaluation_round) if unit.code == code), None)
    if unit is None:
        raise ServiceError("unknown_unit", unit=code)
    return unit


# --- nominations ----------------------------------------------------------------------------------------


def nominations(evaluation_round: EvaluationRound, unit: Unit | None = None) -> list[Nomination]:
    query = (
        select(Nomination)
        .where(Nomination.round_id == evaluation_round.id)
        .options(joinedload(Nomination.unit), joinedload(Nomination.seat))
    )
    if unit is not None:
        query = query.where(Nomination.unit_id == unit.id)
    return list(db.session.scalars(query.order_by(Nomination.unit_id, Nomination.category, Nomination.name)))


def _already_nominated(evaluation_round: EvaluationRound) -> dict[str, str]:
    rows = db.session.execute(
        select(Nomination.person_key, Unit.code)
        .join(Unit, Nomination.unit_id == Unit.id)
        .where(Nomination.round_id == evaluation_round.id)
    )
    return {person: unit for person, unit in rows}


#: nominees' contact data are kept at least this long after they are nominated: a round run late still has the
#: time to form its panels and hear its experts
NOMINEE_RETENTION = timedelta(days=180)


def erase_after(evaluation_round: EvaluationRound, today: date | None = None) -> date:
    """The round's erase date for nominees' contact data: the end of the year after the round's, and at least
    ``NOMINEE_RETENTION`` after ``today`` (by default the service's today). A member's link moves it on to the
    day the link expires (``issue_links``), so the notice an expert reads never names a day already past."""
    today = today or utcnow().date()
    return max(date(evaluation_round.year + 1, 12, 31), today + NOMINEE_RETENTION)


@dataclass
class NominationImport:
    stored: int
    rejected: list[RejectedNomination] = field(default_factory=list)


def import_nominations(
    evaluation_round: EvaluationRound,
    rows: list[Mapping[str, Any]],
    *,
    unit: str | None = None,
    accept_valid: bool = False,
    actor: User | None,
    source: str = "form",
) -> NominationImport:
    """Check nominations row by row and store them: all of them, or none when a row is rejected, unless
    ``accept_valid`` says to keep the valid rows anyway.

    :param unit: the unit code of every row when the rows name none
    :return: how many were stored and every rejected row with its reason
    :raises ServiceError: ``empty_file`` when there is no row
    """
    units = {u.code: u for u in round_units(evaluation_round)}
    checked = check_nominations(rows, units, unit=unit, nominated=_already_nominated(evaluation_round))
    if not checked.valid and not checked.rejected:
        raise ServiceError("empty_file")
    if checked.rejected and not accept_valid:
        return NominationImport(0, checked.rejected)
    keep_until = erase_after(evaluation_round)
    for row in checked.valid:
        db.session.add(
            Nomination(
                round_id=evaluation_round.id,
                unit=units[row.unit],
                name=row.name,
                category=str(row.category),
                organisation=row.organisation,
                position=row.position,
                email=row.email,
                phone=row.phone,
                expertise=row.expertise,
                person_key=row.person,
                erase_after=keep_until,
                created_by_id=actor.id if actor else None,
            )
        )
    db.session.flush()
    if checked.valid:
        audit.record(
            "experts.nominate",
            actor=actor,
            entity=evaluation_round,
            new={"stored": len(checked.valid), "rejected": len(checked.rejected), "source": source},
        )
    return NominationImport(len(checked.valid), checked.rejected)


def import_nomination_file(
    evaluation_round: EvaluationRound,
    data: bytes,
    filename: str,
    *,
    unit: str | None = None,
    accept_valid: bool = False,
    actor: User | None,
) -> NominationImport:
    """``import_nominations`` from an uploaded CSV or Excel list (Vietnamese headers are understood)."""
    return import_nominations(
        evaluation_round, read_rows(data, filename), unit=unit, accept_valid=accept_valid, actor=actor, source="file"
    )
