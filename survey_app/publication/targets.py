"""Strategic targets (SPEC.md §6): the indicators of Decision 483's action plan with their baseline and yearly
targets, the values staff report every quarter, and each indicator's progress towards its target, read beside
the index results of the same year."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from analysis import parse_number
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.publication.models import IndicatorValue, StrategicIndicator
from survey_app.units.operations import shipped_rows

SHIPPED = "strategic_indicators_483.csv"
#: the day each quarter's report is due [483 II]: Q1 before 3 April, Q2 5 July, Q3 5 October, Q4 5 December
DEADLINES = {1: (4, 3), 2: (7, 5), 3: (10, 5), 4: (12, 5)}
#: the years a value may be reported for
YEARS = range(2015, 2051)


def load_shipped_indicators(*, actor: User | None = None) -> list[StrategicIndicator]:
    """Create the indicators of Decision 483 that are not in the database yet (those there are left as they are:
    staff may have corrected them)."""
    existing = {row.code for row in indicators()}
    for row in shipped_rows(SHIPPED, "survey_app.publication"):
        if row["code"] in existing:
            continue
        targets = {
            key.removeprefix("target_"): float(value)
            for key, value in row.items()
            if key.startswith("target_") and value
        }
        indicator = StrategicIndicator(
            code=row["code"],
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            measure=row["measure"],
            legal_basis=row["legal_basis"],
            agency=row["agency"],
            baseline_year=int(row["baseline_year"]) if row["baseline_year"] else None,
            baseline=float(row["baseline"]) if row["baseline"] else None,
            targets=targets,
        )
        db.session.add(indicator)
        db.session.flush()
        audit.record("targets.indicator_created", actor=actor, entity=indicator, new={"code": indicator.code})
    return indicators()


def indicators() -> list[StrategicIndicator]:
    found = list(db.session.scalars(select(StrategicIndicator)))
    return sorted(found, key=lambda row: tuple(int(part) if part.isdigit() else part for part in row.code.split(".")))


def version() -> tuple:
    """Changes whenever an indicator or a reported value is added or changed: what a cache of progress tables
    keys on (values are corrected in place, so the latest entry time counts too)."""
    return tuple(
        db.session.execute(
            select(
                func.count(IndicatorValue.id),
                func.max(IndicatorValue.id),
                func.max(IndicatorValue.entered_at),
                select(func.count(StrategicIndicator.id)).scalar_subquery(),
            )
        ).one()
    )


def indicator(code: str) -> StrategicIndicator | None:
    return db.session.scalar(select(StrategicIndicator).where(StrategicIndicator.code == code))


def report_value(
    indicator: StrategicIndicator, year: int, quarter: int, value: str | float, *, note: str = "", actor: User | None
) -> IndicatorValue:
    """Store a quarter's value (a second report of the same quarter replaces the first; the audit log keeps it).

    :param value: a number, or text as typed (85,5 or 85.5 or 85,5%)
    :raises ServiceError: ``invalid_year``, ``invalid_quarter``, ``invalid_number``, ``target_out_of_range`` (a
        share outside 0-100, or a negative count), ``text_too_long``
    """
    if isinstance(value, str):
        typed, value = value, parse_number(value)
        if value is None:
            raise ServiceError("invalid_number", value=typed[:50])
    if year not in YEARS:
        raise ServiceError("invalid_year", low=YEARS.start, high=YEARS.stop - 1)
    if quarter not in DEADLINES:
        raise ServiceError("invalid_quarter")
    if value is None or not math.isfinite(value) or value < 0 or (indicator.measure == "%" and value > 100):
        raise ServiceError("target_out_of_range", high=100 if indicator.measure == "%" else "∞")
    if len(note or "") > 2000:
        raise ServiceError("text_too_long")
    row = db.session.scalar(
        select(IndicatorValue).where(
            IndicatorValue.indicator_id == indicator.id, IndicatorValue.year == year, IndicatorValue.quarter == quarter
        )
    )
    old = {"value": row.value, "note": row.note} if row is not None else None
    if row is None:
        row = IndicatorValue(indicator=indicator, year=year, quarter=quarter, value=value)
        db.session.add(row)
    row.value, row.note = value, (note or "").strip()
    row.entered_by_id, row.entered_at = (actor.id if actor is not None else None), utcnow()
    db.session.flush()
    audit.record(
        "targets.value_reported",
        actor=actor,
        entity=row,
        old=old,
        new={"indicator": indicator.code, "year": year, "quarter": quarter, "value": value},
    )
    return row


@dataclass
class Progress:
    """An indicator in a year: its target, its latest reported value and how far it has come from its baseline."""

    indicator: StrategicIndicator
    year: int
    #: the target of the year, or of the next year that has one
    target: float | None
    target_year: int | None
    latest: IndicatorValue | None
    #: (latest - baseline) / (target - baseline), or latest / target without a baseline; None without a value
    share: float | None
    met: bool | None


def progress(indicator: StrategicIndicator, year: int) -> Progress:
    """Where the indicator stands in ``year``: the last quarter reported that year against the year's target."""
    years = sorted(int(key) for key in indicator.targets)
    target_year = next((y for y in years if y >= year), None)
    target = indicator.targets[str(target_year)] if target_year is not None else None
    reported = [row for row in indicator.values if row.year == year]
    latest = max(reported, key=lambda row: row.quarter) if reported else None
    share = met = None
    if latest is not None and target is not None:
        met = latest.value >= target
        start = indicator.baseline if indicator.baseline is not None else 0.0
        share = 1.0 if target == start else max(0.0, (latest.value - start) / (target - start))
    return Progress(indicator, year, target, target_year, latest, share, met)


def latest_year() -> int | None:
    """The latest year an indicator has a target or a reported value for, None before any."""
    reported = db.session.scalar(select(func.max(IndicatorValue.year)))
    years = [int(key) for row in indicators() for key in row.targets]
    if reported is not None:
        years.append(reported)
    return max(years, default=None)


def indicator_name(indicator: StrategicIndicator, language: str) -> str:
    """The indicator's name in ``language``; Vietnamese where it has no English name."""
    return indicator.name_en if language == "en" and indicator.name_en else indicator.name_vi


def year_progress(year: int) -> list[Progress]:
    return [progress(indicator, year) for indicator in indicators()]


def next_deadline(today: date) -> tuple[int, int, date]:
    """The next quarterly report due on or after ``today``: (year, quarter, due date)."""
    for quarter, (month, day) in DEADLINES.items():
        due = date(today.year, month, day)
        if due >= today:
            return today.year, quarter, due
    month, day = DEADLINES[1]
    return today.year + 1, 1, date(today.year + 1, month, day)
