"""A unit following its own results [1726 II.2.b.i]: its provisional points while the round is open, then its
published scorecard and rank.

The provisional points are computed from the round's inputs as they stand now (scoring's ``gather`` and
``merged_points``), for the one unit only, rather than read from the latest run: a run is made when officers
choose, with exclusions and rules not yet final, and it holds every unit's data; computing for the unit alone
follows its data as it comes in and can show nothing of another unit's. For the same reason the rule that
gives a unit its peers' best score [742 Art. 7] is left to the run (it reads the other units' points): those
criteria are named as decided at the run, and only the unit's own rules (full marks) are applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis import compute
from questionnaires import NodeKind
from survey_app.frameworks.operations import framework_of
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import operations as scoring
from survey_app.scoring import rules as scoring_rules
from survey_app.units.models import Unit


@dataclass
class Provisional:
    """The unit's points on every node of the framework, as its data stand."""

    #: one dict per node in framework order: code, name, kind, depth, points, maximum, missing, source
    nodes: list[dict[str, Any]]
    #: the index value in [0, 1] and the points out of the framework's total
    index_value: float
    total: float
    #: criteria whose score the run sets from the other units' best (742 Art. 7)
    decided_at_run: list[str] = field(default_factory=list)


def provisional(evaluation_round: EvaluationRound, unit: Unit) -> Provisional:
    """The unit's provisional points from its own data and the channels already in, nothing excluded."""
    framework = framework_of(evaluation_round.framework)
    inputs = scoring.gather(evaluation_round)
    points, external = scoring.merged_points(framework, [unit.code], inputs)
    external = external[external["unit"].astype(str) == unit.code]
    cases = scoring_rules.from_attributes(framework, {unit.code: unit})
    own = [case for case in cases if case["rule"] != "peer_maximum"]
    points = scoring_rules.apply_attribute_rules(framework, points, own)
    scores = compute(framework, points, channels=external if not external.empty else None)
    earned = scores.points.loc[unit.code]
    missing = scores.missing.loc[unit.code] if unit.code in scores.missing.index else pd.Series(dtype=bool)
    sources = dict(zip(points["node"], points["source"]))
    depth: dict[str, int] = {}
    nodes = []
    for node, parent in framework.walk():
        depth[node.code] = depth[parent.code] + 1 if parent is not None else 0
        nodes.append(
            {
                "code": node.code,
                "name": node.name,
                "kind": str(node.kind),
                "depth": depth[node.code],
                "points": float(earned.get(node.code, 0.0)),
                "maximum": float(scores.maximum.get(node.code, node.points)),
                "missing": bool(missing.get(node.code, False)),
                "source": sources.get(node.code),
                "main_index": node.kind is NodeKind.MAIN_INDEX,
            }
        )
    index_value = float(scores.index_value.get(unit.code, 0.0))
    return Provisional(
        nodes=nodes,
        index_value=index_value,
        total=index_value * framework.total_points,
        decided_at_run=sorted({code for case in cases if case["rule"] == "peer_maximum" for code in case["criteria"]}),
    )


def published(evaluation_round: EvaluationRound, unit: Unit) -> dict[str, Any] | None:
    """The unit's place in the round's published ranking (index value, rank, of how many), or None before."""
    run = scoring.published_run(evaluation_round)
    if run is None:
        return None
    # the run's own scores, not ``scoring.ranking``: the rank is all the page needs, without the rank simulation
    scores = scoring.result(run).scores
    if unit.code not in scores.index_value.index:
        return None
    return {
        "run": run,
        "index": float(scores.index_value[unit.code]),
        "rank": int(scores.ranks()["index"][unit.code]),
        "of": len(scores.index_value),
    }
