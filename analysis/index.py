"""From criterion points to every node's score, the unit's index, normalised values and rankings
(SPEC.md §1-2).

Inputs are plain tables: the points every unit earned on every scored leaf (as
``questionnaires.points_for`` gives them from measured values), and, where the framework splits the
score by channel (Decision 1726: reported data, appraisal and survey 80%, cyberspace 10%, experts 10%),
the cyberspace and expert values of every unit in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis._errors import EstimationError
from questionnaires import ChannelShares, Framework, Node, NodeKind
from questionnaires.framework import EXCLUSION_READINGS, NORMALISATIONS

#: published index values have four decimals; units equal to that precision share a rank
PUBLISHED_DECIMALS = 4


def rank(values: pd.Series, decimals: int | None = PUBLISHED_DECIMALS) -> pd.Series:
    """Rank units from the highest value down; equal values share the best rank and the next rank skips
    (1, 2, 2, 4), as the published rankings do (two provinces 15th in 2022, the next 17th).

    Parameters
    ----------
    values : Series
        One value per unit, indexed by unit.
    decimals : int or None
        Compare values rounded to this many decimals (the published precision); None compares them exactly.

    Returns
    -------
    Series
        The whole-number rank of every unit, 1 for the highest value.

    Raises
    ------
    EstimationError
        ``unranked_unit`` naming the first unit without a value (NaN): every caller publishes or compares a
        whole-number rank for every unit, so a unit cannot be left out of a ranking silently.

    Notes
    -----
    R: ``rank(-round(values, 4), ties.method = "min")``, which puts a missing value last (``na.last = TRUE``)
    or gives it NA (``na.last = "keep"``); we raise instead.
    """
    missing = values.isna()
    if missing.any():
        raise EstimationError("unranked_unit", "unit {unit} has no value to rank", unit=missing[missing].index[0])
    compared = values.round(decimals) if decimals is not None else values
    return compared.rank(method="min", ascending=False).astype(int)


def normalise(values: pd.Series, method: str = "min-max") -> pd.Series:
    """Normalise a criterion's values across units [1726 II.2.c].

    ``min-max``: (v - min) / (max - min), in [0, 1] (all 1 when every unit has the same value);
    ``z-score``: (v - mean) / sd with the population standard deviation (ddof = 0; all 0 when sd is 0).
    """
    if method == "min-max":
        low, high = values.min(), values.max()
        if high == low:
            return pd.Series(1.0, index=values.index)
        return (values - low) / (high - low)
    if method == "z-score":
        # every unit alike: compared as values, since the computed sd of equal floats can be 5e-17, not 0
        if values.max() == values.min():
            return pd.Series(0.0, index=values.index)
        return (values - values.mean()) / values.std(ddof=0)
    raise EstimationError("unknown_normalisation", "unknown normalisation {method}", method=method)


def index_from_values(framework: Framework, values: dict[str, float]) -> float:
    """A unit's index from the values in [0, 1] of the framework's top scored nodes below the groups (the
    2021-2023 province index: Σ main index value × points / 1000), or of its pillars (the 2020 index:
    0.4 × government + 0.3 × economy + 0.3 × society).

    :param values: value in [0, 1] by node code; every scored node of the level used must have one
    """
    nodes = _value_level(framework)
    missing = [node.code for node in nodes if node.code not in values]
    if missing:
        raise EstimationError("missing_value", "no value for node {node}", node=missing[0])
    return sum(values[node.code] * node.points for node in nodes) / framework.total_points


def _value_level(framework: Framework) -> list[Node]:
    top = [node for node in framework.nodes if node.scored]
    if all(node.kind is NodeKind.GROUP for node in top):
        return [child for node in top for child in node.children if child.scored]
    return top


def propose_exclusions(points: pd.DataFrame, units: list[str], threshold: float = 0.5) -> pd.DataFrame:
    """Criteria for which fewer than ``threshold`` of the units in scope have data [1726 II.2.b.vi]: proposed
    for exclusion, for an officer to confirm.

    :param points: columns ``unit``, ``node``, ``points`` (NaN for no data)
    :return: one row per proposed criterion with ``units_with_data`` and ``share``
    """
    in_scope = points[points["unit"].isin(units)]
    with_data = in_scope.dropna(subset=["points"]).groupby("node")["unit"].nunique()
    all_nodes = pd.Index(points["node"].unique(), name="node")
    table = pd.DataFrame({"units_with_data": with_data.reindex(all_nodes, fill_value=0)})
    table["share"] = table["units_with_data"] / len(units)
    return table[table["share"] < threshold].reset_index()


@dataclass
class Scores:
    """Every unit's score on every node, the maximum it could reach, and what was missing or excluded."""

    #: rows unit, columns node code: points earned
    points: pd.DataFrame
    #: node code → the maximum after exclusions (the framework's points where nothing was excluded)
    maximum: pd.Series
    #: rows unit, columns leaf code: True where the unit reported nothing and scored 0
    missing: pd.DataFrame
    excluded: set[str] = field(default_factory=set)
    #: unit → index value in [0, 1] (a weighted mean of z-scores under z-score normalisation)
    index_value: pd.Series = field(default_factory=pd.Series)
    #: one of ``NORMALISATIONS``
    normalisation: str = "none"
    #: leaf code, or (node, channel) of an external row → how much one raw point (or one unit of raw value)
    #: moves the normalised one, the normalisation's constants held (1 without normalisation)
    slopes: dict = field(default_factory=dict)

    def values(self) -> pd.DataFrame:
        """Every node's score as a value in [0, 1] of its maximum."""
        return self.points / self.maximum.replace(0, np.nan)

    def ranks(self) -> pd.DataFrame:
        """Rank of every unit on the index and on every node, ties sharing a rank."""
        table = self.values().apply(rank)
        table.insert(0, "index", rank(self.index_value))
        return table


def compute(
    framework: Framework,
    points: pd.DataFrame,
    *,
    excluded: set[str] | frozenset = frozenset(),
    channels: pd.DataFrame | None = None,
    normalisation: str = "none",
    shares: ChannelShares | None = None,
    exclusion: str | None = None,
) -> Scores:
    """Score every unit on every node of the framework.

    Parameters
    ----------
    framework : Framework
        The index framework.
    points : DataFrame
        Columns ``unit``, ``node`` (a scored leaf), ``points`` (NaN or absent for no data: it scores 0 and is
        marked missing [1726 II.2.b.vi]).
    excluded : set of str
        Leaves an officer excluded; a node whose children are all excluded is excluded too. What that does to
        the scores is the ``exclusion`` reading.
    exclusion : {"redistribute", "remove"}, optional
        The reading of "out of the evaluation" [1726 II.2.b.vi]; the framework's (``Framework.exclusion``)
        without it. "redistribute": an excluded node's points are shared among its siblings in proportion to the
        siblings' points (the parent's score is the remaining children's sum scaled up to the parent's points),
        so every share of the framework still holds. "remove": its points leave the total for every unit (the
        parent's score is the remaining children's sum, its maximum lowered by the excluded points, and the
        index value is the score over the lowered total).
    channels : DataFrame, optional
        For frameworks with channel shares: columns ``unit``, ``node`` (a pillar, or empty for the whole
        framework), ``channel`` ("cyberspace" or "expert"), ``value`` in [0, 1]. A missing value scores 0.

    Returns
    -------
    Scores

    Raises
    ------
    EstimationError
        ``unknown_node`` for a points row or an exclusion that is not a scored leaf; ``points_above_maximum``;
        ``unknown_normalisation``; ``unknown_exclusion_reading``.
    """
    reading = exclusion or framework.exclusion
    if reading not in EXCLUSION_READINGS:
        raise EstimationError(
            "unknown_exclusion_reading", "the exclusion reading must be one of {options}", options=EXCLUSION_READINGS
        )
    leaves = [node for node in framework.leaves() if node.scored]
    leaf_codes = [node.code for node in leaves]
    unknown = sorted(set(points["node"]) - set(leaf_codes))
    if unknown:
        raise EstimationError("unknown_node", "node {node} is not a scored leaf of the framework", node=unknown[0])
    bad_exclusion = sorted(set(excluded) - set(leaf_codes))
    if bad_exclusion:
        raise EstimationError(
            "unknown_node", "node {node} is not a scored leaf of the framework", node=bad_exclusion[0]
        )
    units = pd.Index(sorted(points["unit"].unique()), name="unit")
    table = points.pivot_table(index="unit", columns="node", values="points", aggfunc="first", dropna=False)
    table = table.reindex(index=units, columns=leaf_codes)
    missing = table.isna()
    for node in leaves:
        over = table[node.code] > node.points + 1e-9
        if over.any():
            raise EstimationError(
                "points_above_maximum",
                "unit {unit} has {points:g} points on {node}, above its {maximum:g}",
                unit=over[over].index[0],
                points=table[node.code][over].iloc[0],
                node=node.code,
                maximum=node.points,
            )
    table = table.fillna(0.0)
    if normalisation not in NORMALISATIONS:
        raise EstimationError("unknown_normalisation", "unknown normalisation {method}", method=normalisation)
    slopes: dict = {}
    if normalisation != "none":
        for node in leaves:
            table[node.code], slopes[node.code] = _normalised(table[node.code] / node.points, normalisation)
            table[node.code] = table[node.code] * node.points

    scores: dict[str, pd.Series] = {}
    maximum: dict[str, float] = {}
    #: under the "remove" reading, the points each kept node lost with its excluded descendants
    removed: dict[str, float] = {}
    all_excluded = set(excluded)
    # shares in place of the framework's scale the assessed part too, so the channels still add up to the whole
    stated = framework.channel_shares
    assessed_scale = shares.assessment / stated.assessment if shares is not None and stated is not None else 1.0
    shares = shares if shares is not None else stated

    def external(node: Node | None) -> pd.Series:
        """Cyberspace and expert points of a pillar (or of the whole framework)."""
        if channels is None or shares is None:
            return pd.Series(0.0, index=units)
        code = node.code if node is not None else ""
        rows = channels[channels["node"].fillna("") == code]
        total = pd.Series(0.0, index=units)
        base = node.points if node is not None else framework.total_points
        for channel, share in (("cyberspace", shares.cyberspace), ("expert", shares.expert)):
            value = rows[rows["channel"] == channel].set_index("unit")["value"].reindex(units).fillna(0.0).clip(0, 1)
            if normalisation != "none":
                value, slopes[(code, channel)] = _normalised(value, normalisation)
            total = total + value * share * base
        return total

    def score(node: Node) -> pd.Series | None:
        """The node's score, or None when it is excluded."""
        if not node.scored:
            return None
        if node.is_leaf:
            if node.code in all_excluded:
                return None
            scores[node.code] = table[node.code]
            maximum[node.code] = node.points
            return scores[node.code]
        kept = [(child, score(child)) for child in node.children]
        kept = [(child, value) for child, value in kept if value is not None]
        if not kept:
            all_excluded.add(node.code)
            return None
        earned = sum(value for _, value in kept)
        kept_points = sum(child.points for child, _ in kept)
        assessed_points = sum(child.points for child in node.children if child.scored)
        if reading == "redistribute":
            result, lost = earned * (assessed_points / kept_points), 0.0
        else:
            result = earned
            lost = assessed_points - kept_points + sum(removed.get(child.code, 0.0) for child, _ in kept)
        if shares is not None and shares.level == "pillar" and node.kind is NodeKind.PILLAR:
            result = result * assessed_scale + external(node)
            lost *= assessed_scale
        removed[node.code] = lost
        scores[node.code] = result
        maximum[node.code] = node.points - lost
        return result

    top = [(node, score(node)) for node in framework.nodes]
    earned = sum(value for _, value in top if value is not None)
    kept_points = sum(node.points for node, value in top if value is not None)
    assessed_points = sum(node.points for node, _ in top if node.scored)
    lost = 0.0
    if reading == "remove":
        lost = (
            assessed_points - kept_points + sum(removed.get(node.code, 0.0) for node, value in top if value is not None)
        )
    if shares is not None and shares.level == "framework":
        scale = assessed_points / kept_points if reading == "redistribute" else 1.0
        earned = earned * scale * assessed_scale + external(None)
        lost *= assessed_scale
    frame = pd.DataFrame(scores).reindex(columns=[n.code for n, _ in framework.walk() if n.code in scores])
    return Scores(
        points=frame,
        maximum=pd.Series(maximum).reindex(frame.columns),
        missing=missing,
        excluded=all_excluded,
        index_value=earned / (framework.total_points - lost),
        normalisation=normalisation,
        slopes=slopes,
    )


def _normalised(values: pd.Series, method: str) -> tuple[pd.Series, float]:
    """Values normalised across units, and the slope of the normalised value in the raw one."""
    if method == "min-max":
        spread = values.max() - values.min()
        if spread == 0:
            return values, 1.0
        return normalise(values, method), 1.0 / spread
    if values.max() == values.min():
        return normalise(values, method), 0.0  # as normalise: equal values, whatever rounding makes of their sd
    return normalise(values, method), 1.0 / values.std(ddof=0)


def apply_peer_maximum(points: pd.DataFrame, units: list[str], criteria: list[str]) -> pd.DataFrame:
    """Tuyên Quang's rule for a unit without subordinate units, or that provides no online public service
    [742 Art. 7.2-7.3]: on the criteria about those, it scores the highest points any unit reached.

    :param points: columns ``unit``, ``node``, ``points``
    :param units: the units the rule applies to
    :param criteria: the criteria about subordinate units (or online services)
    :return: the table with those units' points on those criteria replaced, and a ``rule`` column naming it
    """
    result = points.copy()
    if "rule" not in result.columns:
        result["rule"] = None
    peers = result[~result["unit"].isin(units) & result["node"].isin(criteria)]
    best = peers.groupby("node")["points"].max()
    for unit in units:
        for criterion in criteria:
            value = best.get(criterion, np.nan)
            mask = (result["unit"] == unit) & (result["node"] == criterion)
            if mask.any():
                result.loc[mask, ["points", "rule"]] = [value, "peer_maximum"]
            else:
                result.loc[len(result)] = {"unit": unit, "node": criterion, "points": value, "rule": "peer_maximum"}
    return result


def apply_full_marks(framework: Framework, points: pd.DataFrame, units: list[str], criteria: list[str]) -> pd.DataFrame:
    """Tuyên Quang's rule for a special-purpose unit [742 Art. 7.4]: full marks on the criteria unrelated to
    its functions."""
    maximum = {node.code: node.points for node in framework.leaves()}
    result = points.copy()
    if "rule" not in result.columns:
        result["rule"] = None
    for unit in units:
        for criterion in criteria:
            mask = (result["unit"] == unit) & (result["node"] == criterion)
            if mask.any():
                result.loc[mask, ["points", "rule"]] = [maximum[criterion], "full_marks"]
            else:
                result.loc[len(result)] = {
                    "unit": unit,
                    "node": criterion,
                    "points": maximum[criterion],
                    "rule": "full_marks",
                }
    return result


def merge_units(values: pd.DataFrame, predecessors: dict[str, list[str]]) -> pd.DataFrame:
    """Values of merged units as the average of their predecessors' values, node by node (how the 2024 results
    were published for the 34 provincial units of 2025).

    :param values: rows unit, columns node code, values in [0, 1]
    :param predecessors: new unit → the old units it was formed from
    """
    missing = sorted({old for olds in predecessors.values() for old in olds} - set(values.index))
    if missing:
        raise EstimationError("unknown_unit", "no values for predecessor {unit}", unit=missing[0])
    return pd.DataFrame({new: values.loc[olds].mean() for new, olds in predecessors.items()}).T


def pillar_view_values(framework: Framework, scores: Scores) -> pd.DataFrame:
    """Every unit's value on each of the framework's pillar views (Tuyên Quang's district pillars of 450 points,
    each the shared foundation group and one activity index [742 Art. 5.2]): the points of the nodes it includes
    over their maxima after exclusions, in [0, 1]. A view none of whose nodes is scored is left out."""
    columns = {}
    for view in framework.pillar_views:
        included = [code for code in view.includes if code in scores.points.columns]
        if included:
            columns[view.code] = scores.points[included].sum(axis=1) / scores.maximum[included].sum()
    return pd.DataFrame(columns, index=scores.points.index)


def remaining_total(framework: Framework, excluded=frozenset(), exclusion: str | None = None) -> float:
    """The total the index value divides by once ``excluded`` is out: the framework's total under the
    "redistribute" reading, lowered by the excluded points under "remove" (see ``compute``)."""
    if (exclusion or framework.exclusion) == "redistribute" or not excluded:
        return framework.total_points

    def lost(node: Node) -> tuple[bool, float]:
        """Whether the node keeps a scored criterion, and the points it loses."""
        if node.is_leaf:
            return node.code not in excluded, 0.0
        kept = [(child, lost(child)) for child in node.children if child.scored]
        kept_points = sum(child.points for child, (keeps, _) in kept if keeps)
        loss = sum(child.points for child, _ in kept) - kept_points + sum(loss for _, (keeps, loss) in kept if keeps)
        return kept_points > 0, loss

    total = 0.0
    for node in framework.nodes:
        if node.scored:
            keeps, loss = lost(node)
            total += loss if keeps else node.points
    return framework.total_points - total
