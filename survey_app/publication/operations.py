"""Publishing a round: a scoring run made the round's public result, the published rounds, last year's values
beside this year's, and each unit's scorecard as the public sees it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from analysis import (
    merge_units,
    propose_exclusions,
)
from questionnaires import Channel, Framework
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.experts import operations as experts
from survey_app.frameworks.operations import freeze
from survey_app.rounds.models import EvaluationRound
from survey_app.rounds.operations import previous_round
from survey_app.scoring.channel_inputs import ensure_open
from survey_app.scoring.models import ScoringRun
from survey_app.scoring.operations import (
    REPLICATES,
    exclusion_reading,
    explanation,
    published_run,
    result,
    table_hash,
    uncertainty,
)


def exclusion_decisions(run: ScoringRun) -> list[dict[str, Any]]:
    """The criteria proposed for exclusion on the run's own snapshot (fewer than half of its units have data
    [1726 II.2.b.vi]), each with the officer's decision in the run: ``"excluded"``, ``"kept"`` or None (none).

    :return: per criterion ``node``, ``units_with_data``, ``share``, ``decision``, in framework order
    """
    found = result(run)
    units = sorted(found.points["unit"].unique()) if len(found.points) else []
    if not units:
        return []
    proposed = propose_exclusions(found.points, units).set_index("node")
    kept = set((run.versions.get("exclusions") or {}).get("kept", []))
    order = [node.code for node in found.framework.leaves() if node.code in proposed.index]
    return [
        {
            "node": code,
            "units_with_data": int(proposed.loc[code, "units_with_data"]),
            "share": float(proposed.loc[code, "share"]),
            "decision": "excluded" if code in run.excluded else "kept" if code in kept else None,
        }
        for code in order
    ]


def publish(run: ScoringRun, *, actor: User | None) -> None:
    """Publish a run as the round's results: the round's inputs and its framework version are frozen from now on
    (a later change makes a new framework version). A run on which a criterion proposed for exclusion was neither
    excluded nor kept is refused: publishing it would score every unit without data 0 on it by default.

    :raises ServiceError: ``round_published`` when the round already has published results,
        ``exclusions_undecided`` (``criteria``: their codes) when a proposed exclusion has no decision
    """
    evaluation_round = run.evaluation_round
    ensure_open(evaluation_round)
    undecided = [entry["node"] for entry in exclusion_decisions(run) if entry["decision"] is None]
    if undecided:
        raise ServiceError("exclusions_undecided", criteria=undecided)
    now = utcnow()
    run.published_at = evaluation_round.published_at = now
    evaluation_round.status = "published"
    if not evaluation_round.framework.frozen:
        freeze(evaluation_round.framework, actor=actor)
    db.session.flush()
    audit.record(
        "scoring.publish",
        actor=actor,
        entity=run,
        new={"round": evaluation_round.code, "number": run.number, "index_hash": table_hash([run.index])},
    )


def published_rounds() -> list[EvaluationRound]:
    """Rounds with published results, newest year first."""
    return list(
        db.session.scalars(
            select(EvaluationRound)
            .where(EvaluationRound.published_at.is_not(None))
            .order_by(EvaluationRound.year.desc(), EvaluationRound.level)
        )
    )


def previous_values(evaluation_round: EvaluationRound) -> dict[str, dict[str, Any]]:
    """Last year's index of each unit of the round: its own, or for a unit formed by a merger the average of its
    predecessors' (as the 2024 results were published for the 34 provinces of 2025), with their codes."""
    before = previous_round(evaluation_round)
    run = published_run(before) if before is not None else None
    if run is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for unit in experts.round_units(evaluation_round):
        if unit.code in run.index and not unit.predecessors:
            found[unit.code] = {"year": before.year, "index": run.index[unit.code], "from": [unit.code]}
            continue
        olds = [old.code for old in unit.predecessors if old.code in run.index]
        if olds:
            found[unit.code] = {
                "year": before.year,
                "index": float(np.mean([run.index[c] for c in olds])),
                "from": olds,
            }
    return found


def merger_series(run: ScoringRun) -> list[dict[str, Any]]:
    """For every unit of the run's round formed by merging several older units: this year's index and values
    beside last year's as the 2024 results were published for the 34 provinces of 2025 (the average of the
    predecessors' index and of each node's value), and each predecessor's own index and rank last year."""
    evaluation_round = run.evaluation_round
    before = previous_round(evaluation_round)
    earlier = published_run(before) if before is not None else None
    merged = [unit for unit in experts.round_units(evaluation_round) if len(unit.predecessors) >= 2]
    if earlier is None or not merged:
        return []
    then, now = result(earlier).scores, result(run).scores
    then_values, now_values = then.values(), now.values()
    then_ranks = then.ranks()["index"]
    shared = [code for code in now_values.columns if code in then_values.columns]
    rows = []
    for unit in merged:
        olds = [old for old in unit.predecessors if old.code in then_values.index]
        if not olds or unit.code not in now_values.index:
            continue
        averaged = merge_units(then_values[shared], {unit.code: [old.code for old in olds]}).loc[unit.code]
        rows.append(
            {
                "unit": unit.code,
                "name": unit.name,
                "year": evaluation_round.year,
                "index": float(now.index_value[unit.code]),
                "values": {code: plain_number(now_values.loc[unit.code, code]) for code in shared},
                "previous_year": before.year,
                "previous_index": float(np.mean([then.index_value[old.code] for old in olds])),
                "previous_values": {code: plain_number(averaged[code]) for code in shared},
                "predecessors": [
                    {
                        "unit": old.code,
                        "name": old.name,
                        "index": float(then.index_value[old.code]),
                        "rank": int(then_ranks[old.code]),
                    }
                    for old in olds
                ],
            }
        )
    return rows


def plain_number(value) -> float | None:
    """A value as the pages, the JSON and the open data give it: a float, or None for one that is missing (None,
    NaN) or not finite."""
    if value is None or pd.isna(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


#: the order in which a scorecard names the channels of the criteria a unit has no data on
_CHANNEL_ORDER = [
    str(channel)
    for channel in (Channel.SURVEY, Channel.SELF_ASSESSMENT, Channel.APPRAISAL, Channel.EXPERT, Channel.CYBERSPACE)
]


def _measured_by(node) -> str:
    """The channel that scores a criterion when it has data (as ``analysis.criterion_points`` picks it)."""
    kinds = set(node.channel_kinds())
    if Channel.SURVEY in kinds:
        return str(Channel.SURVEY)
    if kinds & {Channel.SELF_ASSESSMENT, Channel.APPRAISAL}:
        return str(Channel.SELF_ASSESSMENT)
    return str(node.channel_kinds()[0]) if kinds else str(Channel.SELF_ASSESSMENT)


def missing_by_channel(framework: Framework, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The criteria of an explanation on which the unit has no data and scores 0 (excluded ones aside), grouped by
    the channel that should have measured them: ``[{"channel": "survey", "criteria": ["AW.3", ...]}, ...]``."""
    grouped: dict[str, list[str]] = {}
    for entry in nodes:
        if entry.get("missing") and entry.get("scored") and not entry.get("excluded"):
            grouped.setdefault(_measured_by(framework.find(entry["code"])), []).append(entry["code"])
    return [{"channel": channel, "criteria": grouped[channel]} for channel in sorted(grouped, key=_CHANNEL_ORDER.index)]


def scorecard(run: ScoringRun, unit_code: str, *, public: bool = True) -> dict[str, Any]:
    """A unit's published scorecard: the explanation with last year's index beside this year's, and the criteria
    it has no data on by channel (``missing``: they score 0, so a rank without sampling noise is still not a
    measured one); in public, the self-assessment's free text (evidence references, explanations, appraisal
    reasons) is left out."""
    card = explanation(run, unit_code)
    card["missing"] = missing_by_channel(result(run).framework, card["nodes"])
    card["previous"] = previous_values(run.evaluation_round).get(unit_code)
    card["exclusion_reading"] = exclusion_reading(run)
    simulated = uncertainty(run).units.loc[unit_code]
    card["interval"] = {
        "index_low": float(simulated["index_low"]),
        "index_high": float(simulated["index_high"]),
        "rank_low": int(simulated["rank_low"]),
        "rank_high": int(simulated["rank_high"]),
        "level": 0.95,
        "replicates": REPLICATES,
        "noisy": bool(simulated["index_high"] - simulated["index_low"] > 1e-12),
    }
    if public:
        for node in card["nodes"]:
            for channel in ("self_assessment", "appraisal"):
                entry = node.get("channels", {}).get(channel)
                if entry:
                    for text in ("evidence", "explanation", "reason"):
                        entry.pop(text, None)
    return card
