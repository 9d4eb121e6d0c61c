"""A unit's published results year after year: its index, rank (with the rank interval) and main indices in every
published round of its level, oldest first, and its rank's movement from one year to the next.

A unit formed by merging older units (the 34 provinces of 2025) has, for the years before it existed, the average of
its predecessors' index and node values, as the 2024 results were published for the 34 provinces
(``publication.merger_series``); such a year has no rank of its own. A rank moves only between two years ranked on
the same unit list: a rank among 63 provinces and one among 34 are not on the same scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis import merge_units
from questionnaires import NodeKind
from survey_app.publication import operations as publication
from survey_app.publication.operations import plain_number
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import ScoringRun
from survey_app.units.models import Unit, UnitList


def level_rounds(level: str) -> list[tuple[EvaluationRound, ScoringRun]]:
    """The published rounds of a level with their published runs, oldest first."""
    found = []
    for evaluation_round in publication.published_rounds():
        run = scoring.published_run(evaluation_round) if evaluation_round.level == level else None
        if run is not None:
            found.append((evaluation_round, run))
    return sorted(found, key=lambda pair: pair[0].year)


def version_key(rounds: list[tuple[EvaluationRound, ScoringRun]]) -> tuple:
    """What a unit's series depends on: the level's published rounds (a new publication extends every series)."""
    return tuple((found.id, run.id, run.published_at.isoformat()) for found, run in rounds)


def anchor(rounds: list[tuple[EvaluationRound, ScoringRun]], unit_code: str) -> tuple[EvaluationRound, Unit] | None:
    """The newest round whose unit list has the unit and whose run ranked it, and the unit there: a code names the
    unit of the newest list it appears in (a 2025 province keeps its first predecessor's code)."""
    for evaluation_round, run in reversed(rounds):
        unit = next((u for u in evaluation_round.unit_list.units if u.code == unit_code), None)
        if unit is not None and unit_code in run.index:
            return evaluation_round, unit
    return None


def members(unit: Unit, unit_list: UnitList) -> list[Unit]:
    """The units of an older ``unit_list`` that ``unit`` stands for: itself if it is on that list, else its
    predecessors' members there (through every merger between the lists), else a unit of the same code (a list
    renewed without recording predecessors)."""
    if unit.unit_list_id == unit_list.id:
        return [unit]
    if unit.predecessors:
        found: list[Unit] = []
        for old in unit.predecessors:
            found += [member for member in members(old, unit_list) if member not in found]
        return found
    return [u for u in unit_list.units if u.code == unit.code]


def successors(unit: Unit, evaluation_round: EvaluationRound) -> list[Unit]:
    """The units of a later round that ``unit`` became part of (or was renamed or kept as)."""
    return [later for later in evaluation_round.unit_list.units if unit in members(later, unit.unit_list)]


def series_nodes(run: ScoringRun) -> list:
    """The nodes a series follows in a run: its main indices, or, for a framework without them, the ranking's
    pillars."""
    values = scoring.result(run).scores.values()
    shown = [node for node in scoring.ranking_nodes(run) if node.code in values.columns]
    main = [node for node in shown if node.kind is NodeKind.MAIN_INDEX]
    return main or shown


def year_row(evaluation_round: EvaluationRound, run: ScoringRun, unit: Unit) -> dict[str, Any] | None:
    """The unit's published result in one round, or None when none of what it stands for was ranked there.

    :return: ``year``, ``round`` (code), ``name`` ({vi, en}), ``index``, ``values`` {node code: value};
        its own year: ``rank``, ``units`` (how many were ranked), ``rank_low``, ``rank_high``; a year before a
        merger: ``averaged_from`` [{``code``, ``name``, ``index``, ``rank``}] and no rank; ``known_as``, the code
        it had then if another
    """
    scores = scoring.result(run).scores
    values = scores.values()
    nodes = [node.code for node in series_nodes(run)]
    stands_for = members(unit, evaluation_round.unit_list)
    codes = [member.code for member in stands_for if member.code in values.index]
    if not codes:
        return None
    row: dict[str, Any] = {
        "year": evaluation_round.year,
        "round": evaluation_round.code,
        "name": {"vi": evaluation_round.name("vi"), "en": evaluation_round.name("en")},
        "unit_list": evaluation_round.unit_list_id,
        "units": len(scores.index_value),
        "rank": None,
        "rank_low": None,
        "rank_high": None,
        "averaged_from": None,
        # the code an older list gave a unit that kept its borders, when another
        "known_as": None,
    }
    # a unit that kept its borders ranks on its own; a merged one is its predecessors' average even when only one of
    # them was ranked that year (as ``publication.previous_values`` reads it)
    if len(stands_for) == 1:
        code = codes[0]
        simulated = scoring.uncertainty(run).units.loc[code]
        row.update(
            index=float(scores.index_value[code]),
            values={node: plain_number(values.loc[code, node]) for node in nodes},
            rank=int(scores.ranks().loc[code, "index"]),
            rank_low=int(simulated["rank_low"]),
            rank_high=int(simulated["rank_high"]),
            known_as=code if code != unit.code else None,
        )
        return row
    averaged = merge_units(values[nodes], {unit.code: codes}).loc[unit.code]
    ranks = scores.ranks()["index"]
    olds = {member.code: member.name for member in evaluation_round.unit_list.units}
    row.update(
        index=float(np.mean([scores.index_value[code] for code in codes])),
        values={node: plain_number(averaged[node]) for node in nodes},
        averaged_from=[
            {"code": code, "name": olds[code], "index": float(scores.index_value[code]), "rank": int(ranks[code])}
            for code in codes
        ],
    )
    return row


def movement(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any] | None:
    """How the rank moved since the year before: ``direction`` ``up`` (a better rank), ``down`` or ``same`` and
    ``places``; or ``direction`` ``none`` with ``reason`` ``first`` (no year before), ``averaged`` (one of the two
    years is a predecessors' average, which has no rank) or ``list_changed`` (ranked on different unit lists)."""
    if before is None:
        return {"direction": "none", "reason": "first"}
    if before["rank"] is None or now["rank"] is None:
        return {"direction": "none", "reason": "averaged"}
    if before["unit_list"] != now["unit_list"]:
        return {"direction": "none", "reason": "list_changed"}
    places = before["rank"] - now["rank"]
    direction = "up" if places > 0 else "down" if places < 0 else "same"
    return {"direction": direction, "places": abs(places)}


def unit_series(level: str, unit_code: str) -> dict[str, Any] | None:
    """The unit's series across the level's published rounds up to the newest with its unit, or None when no
    published round of the level has a unit of that code.

    :return: ``unit`` {``code``, ``name``}, ``level``, ``rows`` oldest first (:func:`year_row`, each with its
        ``movement``), ``columns`` [{``code``, ``name`` {vi, en}}] (the newest framework's first; a code absent from
        a year's framework has no value that year), ``averaged`` (some year is a predecessors' average),
        ``continued_as`` [{``code``, ``name``, ``year``}] (the units it became part of in a later round)
    """
    rounds = level_rounds(level)
    found = anchor(rounds, unit_code)
    if found is None:
        return None
    anchor_round, unit = found
    rows: list[dict[str, Any]] = []
    columns: dict[str, dict[str, Any]] = {}
    for evaluation_round, run in reversed(rounds):
        if evaluation_round.year > anchor_round.year:
            continue
        row = year_row(evaluation_round, run, unit)
        if row is None:
            continue
        rows.append(row)
        for node in series_nodes(run):
            columns.setdefault(node.code, {"code": node.code, "name": {"vi": node.name.vi, "en": node.name.en}})
    rows.reverse()
    for before, now in zip([None, *rows[:-1]], rows):
        now["movement"] = movement(before, now)
    newest = rounds[-1][0]
    later = successors(unit, newest) if newest.year > anchor_round.year else []
    return {
        "unit": {"code": unit.code, "name": unit.name},
        "level": level,
        "rows": rows,
        "columns": list(columns.values()),
        "averaged": any(row["averaged_from"] for row in rows),
        "continued_as": [{"code": u.code, "name": u.name, "year": newest.year} for u in later],
    }


#: the chart's drawing area in the SVG's units (400 × 192, as the other charts: a phone shows it at its size)
LEFT, RIGHT, TOP, BOTTOM = 44, 380, 14, 170
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def chart(points: list[tuple[int, float | None, bool]]) -> dict[str, Any]:
    """Where a line chart of values in [0, 1] across years draws its points: ``points`` are (year, value, averaged)
    oldest first, a year without a value is a gap and an averaged year (a predecessors' average) is drawn hollow and
    joined by a dashed line.

    :return: ``points`` [{``x``, ``y``, ``year``, ``value``, ``averaged``}], ``segments`` [{``x1``, ``y1``,
        ``x2``, ``y2``, ``dashed``}] between consecutive years with values, ``ticks`` [{``y``, ``value``}],
        ``years`` [{``x``, ``year``}]
    """
    years = [year for year, _value, _averaged in points]
    first, span = (years[0], max(years[-1] - years[0], 1)) if years else (0, 1)

    def x(year: int) -> float:
        return round((LEFT + RIGHT) / 2 if len(years) == 1 else LEFT + (RIGHT - LEFT) * (year - first) / span, 1)

    def y(value: float) -> float:
        return round(BOTTOM - (BOTTOM - TOP) * min(max(value, 0.0), 1.0), 1)

    drawn = [
        {"x": x(year), "y": y(value), "year": year, "value": value, "averaged": averaged}
        for year, value, averaged in points
        if value is not None
    ]
    segments = [
        {"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"], "dashed": a["averaged"] or b["averaged"]}
        for a, b in zip(drawn, drawn[1:])
    ]
    return {
        "points": drawn,
        "segments": segments,
        "ticks": [{"y": y(value), "value": value} for value in TICKS],
        "years": [{"x": x(year), "year": year} for year in years],
    }


def charts(found: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The series' charts: ``index`` and one per column (main index) by its code."""
    rows = found["rows"]

    def points(value) -> list[tuple[int, float | None, bool]]:
        return [(row["year"], value(row), bool(row["averaged_from"])) for row in rows]

    drawn = {"index": chart(points(lambda row: row["index"]))}
    for column in found["columns"]:
        drawn[column["code"]] = chart(points(lambda row, code=column["code"]: row["values"].get(code)))
    return drawn
