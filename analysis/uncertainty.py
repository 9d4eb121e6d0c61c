"""How much of a ranking is noise: the survey channel's sampling error (and the spread of an expert panel)
propagated into intervals for every unit's index and rank by simulation.

Neither Decision 1726 nor the tools that computed the published rankings report this; it is what tells a
unit leader whether being 12th rather than 9th means anything.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._errors import EstimationError
from questionnaires import Framework, Node


def leaf_coefficients(framework: Framework, excluded: set[str] | frozenset = frozenset()) -> pd.Series:
    """How much one point on every scored leaf adds to the index value, after exclusions.

    The index is linear in the leaves' points: each level's score is its kept children's sum scaled up to the
    points of all its assessed children (see :func:`analysis.index.compute`), divided at the top by the total.
    """
    coefficients: dict[str, float] = {}

    def visit(node: Node, factor: float) -> bool:
        """Give the node's leaves their coefficient; False when the node is excluded altogether."""
        if not node.scored:
            return False
        if node.is_leaf:
            if node.code in excluded:
                return False
            coefficients[node.code] = factor
            return True
        kept = [child for child in node.children if child.scored and _has_kept_leaf(child, excluded)]
        if not kept:
            return False
        scale = sum(child.points for child in node.children if child.scored) / sum(child.points for child in kept)
        for child in kept:
            visit(child, factor * scale)
        return True

    top = [node for node in framework.nodes if node.scored and _has_kept_leaf(node, excluded)]
    scale = 1.0
    shares = framework.channel_shares
    if shares is not None and shares.level == "framework":
        scale = sum(n.points for n in framework.nodes if n.scored) / sum(n.points for n in top)
    for node in top:
        visit(node, scale / framework.total_points)
    return pd.Series(coefficients)


def _has_kept_leaf(node: Node, excluded) -> bool:
    if node.is_leaf:
        return node.scored and node.code not in excluded
    return any(_has_kept_leaf(child, excluded) for child in node.children if child.scored)


@dataclass
class RankUncertainty:
    """Per unit: the index with its simulated interval, the rank with its interval; per pair of units next to
    each other in the ranking, how often the higher one stays higher."""

    units: pd.DataFrame
    neighbours: pd.DataFrame


def simulate_ranks(framework: Framework, points: pd.DataFrame, noise: pd.DataFrame, *,
                   index_value: pd.Series, excluded: set[str] | frozenset = frozenset(), replicates: int = 1000,
                   level: float = 0.95, seed: int = 0, meaningful: float = 0.95) -> RankUncertainty:
    """Simulate the index and rank of every unit under the noise of its measured points.

    Parameters
    ----------
    framework : Framework
    points : DataFrame
        Columns ``unit``, ``node``, ``points``: the points every unit earned on the noisy leaves.
    noise : DataFrame
        Columns ``unit``, ``node``, ``sd``: the standard deviation of those points (a survey criterion's SE
        times the points per unit of its rule; an expert item's SE from the panel).
    index_value : Series
        Every unit's index value as computed.
    replicates : int
        Simulated draws; each perturbs the noisy points by independent normal errors, clipped to [0, maximum].
    level : float
        Coverage of the intervals.
    meaningful : float
        A rank difference between neighbours counts as meaningful when the higher unit stays higher in at
        least this share of the draws.

    Returns
    -------
    RankUncertainty
    """
    coefficients = leaf_coefficients(framework, excluded)
    maximum = {node.code: node.points for node in framework.leaves()}
    merged = points.merge(noise, on=["unit", "node"], how="inner")
    unknown = sorted(set(merged["node"]) - set(coefficients.index))
    if unknown:
        raise EstimationError("unknown_node", "node {node} is not a scored leaf of the framework", node=unknown[0])
    units = pd.Index(index_value.index)
    unit_position = units.get_indexer(merged["unit"])
    if (unit_position < 0).any():
        raise EstimationError("unknown_unit", "unit {unit} has no index value",
                              unit=merged["unit"].iloc[int(np.flatnonzero(unit_position < 0)[0])])
    base = merged["points"].to_numpy(float)
    sd = merged["sd"].to_numpy(float)
    top = merged["node"].map(maximum).to_numpy(float)
    weight = merged["node"].map(coefficients).to_numpy(float)
    rng = np.random.default_rng(seed)
    draws = np.empty((replicates, len(units)))
    for r in range(replicates):
        perturbed = np.clip(base + rng.normal(0.0, 1.0, len(base)) * sd, 0.0, top)
        shift = np.bincount(unit_position, weight * (perturbed - base), len(units))
        draws[r] = index_value.to_numpy(float) + shift
    # rank 1 is the highest; ties in a draw share the best rank
    order = (-draws).argsort(axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(replicates)[:, None]
    ranks[rows, order] = np.arange(1, len(units) + 1)
    tail = (1 - level) / 2
    published_rank = index_value.round(4).rank(method="min", ascending=False).astype(int)
    table = pd.DataFrame({
        "index": index_value.to_numpy(float),
        "index_low": np.quantile(draws, tail, axis=0),
        "index_high": np.quantile(draws, 1 - tail, axis=0),
        "rank": published_rank.to_numpy(),
        "rank_low": np.quantile(ranks, tail, axis=0, method="lower").astype(int),
        "rank_high": np.quantile(ranks, 1 - tail, axis=0, method="higher").astype(int),
    }, index=units).sort_values(["rank", "index"], ascending=[True, False])
    pairs = []
    ordered = [units.get_loc(unit) for unit in table.index]
    for upper, lower in zip(ordered, ordered[1:]):
        share = float(np.mean(draws[:, upper] > draws[:, lower]))
        pairs.append({"higher": units[upper], "lower": units[lower], "stays_higher": share,
                      "meaningful": share >= meaningful})
    return RankUncertainty(table, pd.DataFrame(pairs))
