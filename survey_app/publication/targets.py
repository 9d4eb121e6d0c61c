"""Strategic targets (SPEC.md §6): the indicators of Decision 483's action plan with their baseline and yearly
targets as written (≥ 80, > 50, Top 50), the values staff report every quarter (official, or a provisional
estimate), and each indicator's progress towards its target in the direction it improves (a rank downwards), read
beside the index results of the same year."""

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
#: the comparisons a target can be written with [483 II.1]; a plain figure ("") is to be reached
COMPARISONS = ("≥", ">", "≤", "<", "=")
#: "Top N": a rank of N or better
TOP = "top"
#: the measure of a place in an international ranking (group 5 of the plan), 1 for the first
RANK = "rank"


def parse_target(text: str) -> tuple[str, float] | None:
    """A target as the plan writes it (``≥ 80``, ``> 50``, ``Top 50``, ``80``) → (comparison, figure).

    :return: the comparison (one of ``COMPARISONS``, ``TOP``, or "" for a plain figure) and the figure; None for
        an empty cell (the plan's "-": no target that year)
    :raises ValueError: on text that is not a target
    """
    text = text.strip()
    if text in ("", "-"):
        return None
    if text.lower().startswith("top"):
        comparison, figure = TOP, text[3:]
    else:
        comparison = next((symbol for symbol in COMPARISONS if text.startswith(symbol)), "")
        figure = text[len(comparison) :]
    number = parse_number(figure)
    if number is None:
        raise ValueError(f"not a target: {text!r}")
    return comparison, number


def _shipped(row: dict[str, str]) -> dict:
    """The fields of a StrategicIndicator from a row of the shipped file."""
    written = {
        key.removeprefix("target_"): parse_target(value) for key, value in row.items() if key.startswith("target_")
    }
    written = {year: target for year, target in written.items() if target is not None}
    return {
        "code": row["code"],
        "name_vi": row["name_vi"],
        "name_en": row["name_en"],
        "measure": row["measure"],
        "lower_is_better": row["lower_is_better"] == "yes",
        "legal_basis": row["legal_basis"],
        "agency": row["agency"],
        "coordinating_agency": row["coordinating_agency"],
        "baseline_year": int(row["baseline_year"]) if row["baseline_year"] else None,
        "baseline": float(row["baseline"]) if row["baseline"] else None,
        "baseline_provisional": row["baseline_provisional"] == "yes",
        "baseline_note_vi": row["baseline_note_vi"],
        "baseline_note_en": row["baseline_note_en"],
        "targets": {year: figure for year, (_, figure) in written.items()},
        "target_comparisons": {year: comparison for year, (comparison, _) in written.items() if comparison},
    }


def load_shipped_indicators(*, actor: User | None = None) -> list[StrategicIndicator]:
    """Create the indicators of Decision 483 that are not in the database yet. Those there are left as they are
    (staff may have corrected them), except that what an earlier release did not ship is added: the coordinating
    agency where there is none, and the comparison of a target that still holds the shipped figure."""
    existing = {row.code: row for row in indicators()}
    for row in shipped_rows(SHIPPED, "survey_app.publication"):
        fields = _shipped(row)
        found = existing.get(fields["code"])
        if found is not None:
            _complete(found, fields, actor)
            continue
        indicator = StrategicIndicator(**fields)
        db.session.add(indicator)
        db.session.flush()
        audit.record("targets.indicator_created", actor=actor, entity=indicator, new={"code": indicator.code})
    return indicators()


def _complete(indicator: StrategicIndicator, fields: dict, actor: User | None) -> None:
    """Add to an indicator already stored what the shipped ``fields`` have and an earlier release did not."""
    comparisons = {
        year: comparison
        for year, comparison in fields["target_comparisons"].items()
        if year not in indicator.target_comparisons and indicator.targets.get(year) == fields["targets"][year]
    }
    agency = fields["coordinating_agency"] if not indicator.coordinating_agency else ""
    if not comparisons and not agency:
        return
    if comparisons:
        indicator.target_comparisons = {**indicator.target_comparisons, **comparisons}
    if agency:
        indicator.coordinating_agency = agency
    db.session.flush()
    audit.record(
        "targets.indicator_completed",
        actor=actor,
        entity=indicator,
        new={"code": indicator.code, "target_comparisons": comparisons, "coordinating_agency": agency},
    )


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
    indicator: StrategicIndicator,
    year: int,
    quarter: int,
    value: str | float,
    *,
    note: str = "",
    provisional: bool = False,
    actor: User | None,
) -> IndicatorValue:
    """Store a quarter's value (a second report of the same quarter replaces the first; the audit log keeps it).

    :param value: a number, or text as typed (85,5 or 85.5 or 85,5%)
    :param provisional: the value is an estimate given before the official figure exists [483 II.2.c]; the
        official figure, reported for the same quarter, replaces it
    :raises ServiceError: ``invalid_year``, ``invalid_quarter``, ``invalid_number``, ``target_out_of_range`` (a
        share outside 0-100, or a negative count), ``rank_out_of_range`` (a rank below 1), ``text_too_long``
    """
    if isinstance(value, str):
        typed, value = value, parse_number(value)
        if value is None:
            raise ServiceError("invalid_number", value=typed[:50])
    if year not in YEARS:
        raise ServiceError("invalid_year", low=YEARS.start, high=YEARS.stop - 1)
    if quarter not in DEADLINES:
        raise ServiceError("invalid_quarter")
    if indicator.measure == RANK and value is not None and value < 1:
        raise ServiceError("rank_out_of_range")
    if value is None or not math.isfinite(value) or value < 0 or (indicator.measure == "%" and value > 100):
        raise ServiceError("target_out_of_range", high=100 if indicator.measure == "%" else "∞")
    if len(note or "") > 2000:
        raise ServiceError("text_too_long")
    row = db.session.scalar(
        select(IndicatorValue).where(
            IndicatorValue.indicator_id == indicator.id, IndicatorValue.year == year, IndicatorValue.quarter == quarter
        )
    )
    old = {"value": row.value, "provisional": row.provisional, "note": row.note} if row is not None else None
    if row is None:
        row = IndicatorValue(indicator=indicator, year=year, quarter=quarter, value=value)
        db.session.add(row)
    row.value, row.provisional, row.note = value, provisional, (note or "").strip()
    row.entered_by_id, row.entered_at = (actor.id if actor is not None else None), utcnow()
    db.session.flush()
    audit.record(
        "targets.value_reported",
        actor=actor,
        entity=row,
        old=old,
        new={"indicator": indicator.code, "year": year, "quarter": quarter, "value": value, "provisional": provisional},
    )
    return row


def target_met(value: float, target: float, comparison: str, *, lower_is_better: bool) -> bool:
    """Whether ``value`` meets ``target`` as written: with its comparison, "Top N" as a rank of N or better, a plain
    figure as reached (at least it; for an indicator that improves downwards, at most it)."""
    if comparison == TOP:
        return value <= target
    if comparison == "":
        comparison = "≤" if lower_is_better else "≥"
    if comparison == "=":
        return math.isclose(value, target, rel_tol=0.0, abs_tol=1e-9)
    return {"≥": value >= target, ">": value > target, "≤": value <= target, "<": value < target}[comparison]


def target_share(value: float, target: float, baseline: float | None, *, lower_is_better: bool, met: bool) -> float:
    """How far ``value`` has come towards ``target``, 0 at the baseline and 1 at the target, in the direction the
    indicator improves: (value - baseline) / (target - baseline). Without a baseline, or with a target that is no
    better than the baseline (the plan has a few), the value against the target itself: value / target, or
    target / value for an indicator that improves downwards (rank 100 against Top 50 is halfway)."""
    better = -1.0 if lower_is_better else 1.0
    if baseline is not None and better * (target - baseline) > 0:
        return max(0.0, (value - baseline) / (target - baseline))
    reached, needed = (target, value) if lower_is_better else (value, target)
    if needed <= 0:
        return 1.0 if met else 0.0
    return max(0.0, reached / needed)


@dataclass
class Progress:
    """An indicator in a year: its target, its latest reported value and how far it has come from its baseline."""

    indicator: StrategicIndicator
    year: int
    #: the target of the year, or of the next year that has one
    target: float | None
    target_year: int | None
    #: how the target is written: one of ``COMPARISONS``, ``TOP``, or "" for a plain figure
    comparison: str
    latest: IndicatorValue | None
    #: ``target_share`` of the latest value; None without a value
    share: float | None
    #: ``target_met`` of the latest value; None without a value
    met: bool | None


def progress(indicator: StrategicIndicator, year: int) -> Progress:
    """Where the indicator stands in ``year``: the last quarter reported that year against the year's target."""
    years = sorted(int(key) for key in indicator.targets)
    target_year = next((y for y in years if y >= year), None)
    target = indicator.targets[str(target_year)] if target_year is not None else None
    comparison = (indicator.target_comparisons or {}).get(str(target_year), "") if target is not None else ""
    reported = [row for row in indicator.values if row.year == year]
    latest = max(reported, key=lambda row: row.quarter) if reported else None
    share = met = None
    if latest is not None and target is not None:
        met = target_met(latest.value, target, comparison, lower_is_better=indicator.lower_is_better)
        share = target_share(
            latest.value, target, indicator.baseline, lower_is_better=indicator.lower_is_better, met=met
        )
    return Progress(indicator, year, target, target_year, comparison, latest, share, met)


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
