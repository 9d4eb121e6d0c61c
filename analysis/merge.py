"""Every channel's measurements merged into the points of each unit on each criterion (SPEC.md §2), and the
rows of the external channels (cyberspace, experts) for frameworks that give them a share of the score.

Which channel scores a criterion, first that has a value:

1. the appraisal: an officer's accepted or corrected score [1726 II.2.b.ii];
2. the sociological survey, for a criterion the survey measures (the weighted estimate by the criterion's
   rule; the mean of the respondent groups' points when several groups answer it);
3. the unit's self-assessed value, scored by the criterion's method;
4. the expert panel's aggregate, for a criterion experts alone measure; the cyberspace value likewise.

A criterion with none of these has no value: the index scores it 0 and marks it missing. Where the framework
splits the score by channel (Decision 1726: 80/10/10), the expert and cyberspace values of the nodes under a
pillar (or the whole tree) become that pillar's external rows instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._errors import EstimationError
from questionnaires import Channel, Framework, Node

#: the channels a criterion's points can come from, in the order they take precedence
SOURCES = ("appraisal", "survey", "self_assessment", "expert", "cyberspace")
POINTS_COLUMNS = ["unit", "node", "points", "source"]
EXTERNAL_COLUMNS = ["unit", "node", "channel", "value"]


def external_values(framework: Framework, values: pd.DataFrame, channel: str) -> pd.DataFrame:
    """A channel's values turned into the rows ``analysis.compute`` reads for each pillar (or for the whole
    tree when the shares apply to it): the points-weighted mean of the values of the nodes under it.

    :param values: columns ``unit``, ``node``, ``value`` in [0, 1] (NaN: not measured, left out of the mean)
    :return: columns ``unit``, ``node`` (the pillar, or "" for the tree), ``channel``, ``value``; empty when the
        framework has no channel shares
    """
    if framework.channel_shares is None or values.empty:
        return pd.DataFrame(columns=EXTERNAL_COLUMNS)
    holder, nodes = holders(framework), {node.code: node for node, _ in framework.walk()}
    unknown = sorted(set(values["node"]) - set(nodes))
    if unknown:
        raise EstimationError("unknown_node", "node {node} is not in the framework", node=unknown[0])

    measured = values.dropna(subset=["value"])
    measured = measured.assign(
        holder=measured["node"].map(holder), maximum=[nodes[code].points for code in measured["node"]]
    )
    rows = [
        {
            "unit": unit,
            "node": code,
            "channel": channel,
            "value": float((group["value"] * group["maximum"]).sum() / group["maximum"].sum()),
        }
        for (unit, code), group in measured.groupby(["unit", "holder"], sort=True)
    ]
    return pd.DataFrame(rows, columns=EXTERNAL_COLUMNS)


def holders(framework: Framework) -> dict[str, str]:
    """Node code → the node whose external rows its expert and cyberspace values feed: its pillar where the
    shares apply per pillar, "" (the whole tree) where they apply to the framework."""
    pillar_level = framework.channel_shares is not None and framework.channel_shares.level == "pillar"
    found: dict[str, str] = {}
    for node, parent in framework.walk():
        found[node.code] = (found[parent.code] if parent is not None else node.code) if pillar_level else ""
    return found


def criterion_points(
    framework: Framework,
    units: list[str],
    *,
    assessed: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    expert: pd.DataFrame | None = None,
    cyberspace: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The points of every unit on every scored criterion, and the channel they came from.

    Parameters
    ----------
    framework : Framework
    units : list of str
        The units in scope: each gets a row per criterion, NaN where no channel has a value.
    assessed : DataFrame, optional
        Columns ``unit``, ``criterion``, ``points`` (self-assessed), ``appraised_points`` (NaN where no officer
        appraised the row).
    survey : DataFrame, optional
        ``analysis.survey_estimates``' table (``criterion``, ``unit``, ``points``), one per respondent group
        concatenated.
    expert : DataFrame, optional
        Columns ``unit``, ``node``, ``points``: the expert channel's points per item.
    cyberspace : DataFrame, optional
        Columns ``unit``, ``node``, ``value`` in [0, 1].

    Returns
    -------
    DataFrame
        Columns ``unit``, ``node``, ``points``, ``source`` (one of ``SOURCES``, or None when missing).
    """
    leaves = [node for node in framework.leaves() if node.scored]
    candidates: dict[str, pd.Series] = {}

    def keyed(table: pd.DataFrame | None, node_column: str, column: str) -> pd.Series:
        if table is None or table.empty:
            return pd.Series(dtype=float)
        found = table.dropna(subset=[column])
        return found.groupby([found["unit"].astype(str), found[node_column].astype(str)])[column].mean()

    if assessed is not None and not assessed.empty:
        candidates["appraisal"] = keyed(assessed, "criterion", "appraised_points")
        candidates["self_assessment"] = keyed(assessed, "criterion", "points")
    candidates["survey"] = keyed(survey, "criterion", "points")
    candidates["expert"] = keyed(expert, "node", "points")
    if cyberspace is not None and not cyberspace.empty:
        maximum = {node.code: node.points for node in leaves}
        scaled = cyberspace.assign(
            points=[value * maximum.get(code, np.nan) for code, value in zip(cyberspace["node"], cyberspace["value"])]
        )
        candidates["cyberspace"] = keyed(scaled, "node", "points")

    rows = []
    for node in leaves:
        allowed = _sources(node)
        for unit in units:
            points, source = np.nan, None
            for name in SOURCES:
                if name in allowed and (unit, node.code) in candidates.get(name, ()):
                    points, source = float(candidates[name][(unit, node.code)]), name
                    break
            rows.append({"unit": unit, "node": node.code, "points": points, "source": source})
    return pd.DataFrame(rows, columns=POINTS_COLUMNS)


def _sources(node: Node) -> set[str]:
    """The channels that may score a criterion: an appraisal wherever the unit self-assesses; experts and
    cyberspace only where they measure the criterion alone."""
    channels = set(node.channel_kinds())
    allowed = set()
    if channels & {Channel.SELF_ASSESSMENT, Channel.APPRAISAL}:
        allowed |= {"appraisal", "self_assessment"}
    if Channel.SURVEY in channels:
        allowed.add("survey")
    if channels == {Channel.EXPERT}:
        allowed.add("expert")
    if channels == {Channel.CYBERSPACE}:
        allowed.add("cyberspace")
    return allowed
