"""Evaluation rounds: a year's evaluation of a level, on a framework and a unit list."""

from __future__ import annotations

from sqlalchemy import select

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.frameworks.models import FrameworkVersion
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import UnitList


def create_round(
    code: str,
    year: int,
    name_vi: str,
    name_en: str,
    framework: FrameworkVersion,
    unit_list: UnitList,
    *,
    actor: User | None,
) -> EvaluationRound:
    """Open a round.

    :raises ServiceError: ``round_code_taken``; ``level_mismatch`` when the framework and the unit list are of
        different levels; ``year_outside_framework`` when the framework does not serve that year
    """
    if db.session.scalar(select(EvaluationRound.id).where(EvaluationRound.code == code)) is not None:
        raise ServiceError("round_code_taken", code=code)
    if framework.level != unit_list.level:
        raise ServiceError("level_mismatch", framework=framework.level, units=unit_list.level)
    if not framework.year <= year <= (framework.last_year or framework.year):
        raise ServiceError(
            "year_outside_framework", year=year, first=framework.year, last=framework.last_year or framework.year
        )
    evaluation = EvaluationRound(
        code=code,
        year=year,
        level=framework.level,
        name_vi=name_vi,
        name_en=name_en or name_vi,
        framework=framework,
        unit_list=unit_list,
    )
    db.session.add(evaluation)
    db.session.flush()
    audit.record(
        "round.create",
        actor=actor,
        entity=evaluation,
        new={"code": code, "year": year, "framework_id": framework.id, "unit_list": unit_list.code},
    )
    return evaluation


def get_round(code: str) -> EvaluationRound | None:
    return db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == code))


def list_rounds() -> list[EvaluationRound]:
    return list(db.session.scalars(select(EvaluationRound).order_by(EvaluationRound.year.desc(), EvaluationRound.code)))


def previous_round(evaluation_round: EvaluationRound) -> EvaluationRound | None:
    """The latest published round of the same level before this one's year."""
    return db.session.scalar(
        select(EvaluationRound)
        .where(
            EvaluationRound.level == evaluation_round.level,
            EvaluationRound.year < evaluation_round.year,
            EvaluationRound.published_at.is_not(None),
        )
        .order_by(EvaluationRound.year.desc())
        .limit(1)
    )
