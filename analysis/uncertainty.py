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
from analysis.index import NORMALISATIONS, compute, rank, remaining_total
from analysis.merge import holders
from questionnaires import ChannelShares, Framework, Node


def leaf_coefficients(
    framework: Framework, excluded: set[str] | frozenset = frozenset(), exclusion: str | None = None
) -> pd.Series:
    """How much one point on every scored leaf adds to the index value, after exclusions.

    The index is linear in the leaves' points: under the "redistribute" reading each level's score is its kept
    children's sum scaled up to the points of all its assessed children (see :func:`analysis.index.compute`),
    divided at the top by the total; under "remove" every kept point counts once, over the lowered total.
    """
    if (exclusion or framework.exclusion) == "remove":
        # every kept point counts once: the scored leaves under scored nodes, as compute walks them
        total = remaining_total(framework, excluded, "remove")
        kept: list[str] = []

        def collect(node: Node) -> None:
            if not node.scored:
                return
            if node.is_leaf:
                if node.code not in excluded:
                    kept.append(node.code)
                return
            for child in node.children:
                collect(child)

        for node in framework.nodes:
            collect(node)
        return pd.Series({code: 1.0 / total for code in kept}, dtype=float)
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


def excluded_nodes(framework: Framework, excluded: set[str] | frozenset = frozenset()) -> set[str]:
    """The nodes that leave the index with the excluded criteria: those criteria and every node none of whose
    scored criteria is kept, as :func:`analysis.index.compute` drops them (``Scores.excluded``)."""
    return {node.code for node, _ in framework.walk() if node.scored and not _has_kept_leaf(node, excluded)}


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


def external_coefficients(
    framework: Framework,
    shares: ChannelShares | None = None,
    *,
    excluded: set[str] | frozenset = frozenset(),
    exclusion: str | None = None,
) -> dict[tuple[str, str], float]:
    """How much one unit of an external channel's value (cyberspace or experts, in [0, 1]) adds to the index:
    its share times the points of the pillar it belongs to (or the whole tree), over the total (lowered by the
    excluded points under the "remove" reading)."""
    shares = shares or framework.channel_shares
    total = remaining_total(framework, excluded, exclusion)
    if shares is None:
        return {}
    holders_ = [node for node in framework.nodes] if shares.level == "pillar" else [None]
    found = {}
    for node in holders_:
        base = node.points if node is not None else framework.total_points
        for channel, share in (("cyberspace", shares.cyberspace), ("expert", shares.expert)):
            found[(node.code if node is not None else "", channel)] = share * base / total
    return found


def channel_noise(
    framework: Framework,
    points: pd.DataFrame,
    *,
    survey: pd.DataFrame | None = None,
    expert: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sampling noise of a run's measured points: the survey estimates' standard errors and the expert
    panels' spread, for :func:`simulate_ranks`.

    Parameters
    ----------
    points : DataFrame
        ``analysis.criterion_points``' table (``unit``, ``node``, ``points``, ``source``): only the criteria
        scored by the survey or the experts are noisy.
    survey : DataFrame, optional
        ``analysis.survey_estimates``' table, respondent groups concatenated: a criterion's points move with its
        estimate by the slope of its rule (read from the interval's ends); several groups' points are averaged,
        so their variances add up divided by the count squared.
    expert : DataFrame, optional
        Columns ``unit``, ``item``, ``value`` and ``value_se`` (the standard error of the panel's value in
        [0, 1], :func:`analysis.experts.value_se`).

    Returns
    -------
    (DataFrame, DataFrame)
        Leaves: ``unit``, ``node``, ``sd`` (in points); external rows: ``unit``, ``node``, ``channel``,
        ``value``, ``sd``, for the experts' share of each pillar (or the tree) where the framework has shares.
    """
    maximum = {node.code: node.points for node in framework.leaves()}
    source = points.set_index(["unit", "node"])["source"] if len(points) else pd.Series(dtype=object)
    leaf_rows = []
    if survey is not None and len(survey) and "se" in survey.columns:
        rows = survey.dropna(subset=["se", "points"]).copy()
        width = rows["ci_high"] - rows["ci_low"]
        slope = ((rows["points_high"] - rows["points_low"]) / width).where(width > 0, rows["maximum"])
        rows["variance"] = (rows["se"] * slope) ** 2
        grouped = rows.groupby(["unit", "criterion"])["variance"].agg(["sum", "count"])
        for (unit, criterion), entry in grouped.iterrows():
            if source.get((unit, criterion)) == "survey":
                leaf_rows.append({"unit": unit, "node": criterion, "sd": float(np.sqrt(entry["sum"]) / entry["count"])})
    external_rows = []
    if expert is not None and len(expert) and {"value", "value_se"} <= set(expert.columns):
        rows = expert.dropna(subset=["value", "value_se"])
        for unit, item, se in zip(rows["unit"], rows["item"], rows["value_se"]):
            if source.get((unit, item)) == "expert":
                leaf_rows.append({"unit": unit, "node": item, "sd": float(se * maximum[item])})
        if framework.channel_shares is not None and len(rows):
            holder = holders(framework)
            nodes = {node.code: node for node, _ in framework.walk()}
            weighted = rows.assign(
                holder=rows["item"].map(holder),
                weight=[nodes[code].points if code in nodes else np.nan for code in rows["item"]],
            )
            weighted = weighted.dropna(subset=["holder", "weight"])
            for (unit, code), group in weighted.groupby(["unit", "holder"], sort=True):
                total = group["weight"].sum()
                external_rows.append(
                    {
                        "unit": unit,
                        "node": code,
                        "channel": "expert",
                        "value": float((group["value"] * group["weight"]).sum() / total),
                        "sd": float(np.sqrt(((group["value_se"] * group["weight"]) ** 2).sum()) / total),
                    }
                )
    return (
        pd.DataFrame(leaf_rows, columns=["unit", "node", "sd"]),
        pd.DataFrame(external_rows, columns=["unit", "node", "channel", "value", "sd"]),
    )


def simulate_ranks(
    framework: Framework,
    points: pd.DataFrame,
    noise: pd.DataFrame,
    *,
    index_value: pd.Series,
    excluded: set[str] | frozenset = frozenset(),
    replicates: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    meaningful: float = 0.95,
    external_noise: pd.DataFrame | None = None,
    slopes: dict | None = None,
    exclusion: str | None = None,
) -> RankUncertainty:
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
    excluded : set of str
        The run's excluded criteria (``Scores.excluded`` may be passed as is): their noise, and the external rows
        of a pillar left without criteria, are left out, as the index leaves them out.
    replicates : int
        Simulated draws; each perturbs the noisy points by independent normal errors, clipped to [0, maximum].
    level : float
        Coverage of the intervals.
    meaningful : float
        A rank difference between neighbours counts as meaningful when the higher unit stays higher in at
        least this share of the draws.
    external_noise : DataFrame, optional
        Columns ``unit``, ``node``, ``channel``, ``value``, ``sd``: external channel values (in [0, 1]) and their
        noise, entering the index by :func:`external_coefficients`.
    slopes : dict, optional
        ``Scores.slopes`` of a normalised run: a raw change moves the normalised points by this factor (the
        normalisation's constants held at their computed values, a first-order approximation).
    exclusion : {"redistribute", "remove"}, optional
        The run's reading of the exclusions (``compute``'s), the framework's without it.

    Returns
    -------
    RankUncertainty
    """
    coefficients = leaf_coefficients(framework, excluded, exclusion)
    maximum = {node.code: node.points for node in framework.leaves()}
    left_out = excluded_nodes(framework, excluded)
    merged = points.merge(noise, on=["unit", "node"], how="inner")
    # an excluded criterion (or a node all of whose criteria are) does not enter the index, so neither does its noise
    merged = merged[~merged["node"].isin(left_out)]
    unknown = sorted(set(merged["node"]) - set(coefficients.index))
    if unknown:
        raise EstimationError("unknown_node", "node {node} is not a scored leaf of the framework", node=unknown[0])
    slopes = slopes or {}
    base = merged["points"].to_numpy(float)
    sd = merged["sd"].to_numpy(float)
    top = merged["node"].map(maximum).to_numpy(float)
    weight = (merged["node"].map(coefficients) * merged["node"].map(lambda code: slopes.get(code, 1.0))).to_numpy(float)
    keys = list(merged["unit"])
    if external_noise is not None and len(external_noise):
        external = external_coefficients(framework, excluded=excluded, exclusion=exclusion)
        rows = external_noise[
            [
                key in external and key[0] not in left_out
                for key in zip(external_noise["node"], external_noise["channel"])
            ]
        ]
        base = np.concatenate([base, rows["value"].to_numpy(float)])
        sd = np.concatenate([sd, rows["sd"].to_numpy(float)])
        top = np.concatenate([top, np.ones(len(rows))])
        weight = np.concatenate(
            [weight, [external[key] * slopes.get(key, 1.0) for key in zip(rows["node"], rows["channel"])]]
        )
        keys += list(rows["unit"])
    units = pd.Index(index_value.index)
    unit_position = units.get_indexer(pd.Index(keys, dtype=object))
    if (unit_position < 0).any():
        raise EstimationError(
            "unknown_unit", "unit {unit} has no index value", unit=keys[int(np.flatnonzero(unit_position < 0)[0])]
        )
    rng = np.random.default_rng(seed)
    draws = np.empty((replicates, len(units)))
    for r in range(replicates):
        perturbed = np.clip(base + rng.normal(0.0, 1.0, len(base)) * sd, 0.0, top)
        shift = np.bincount(unit_position, weight * (perturbed - base), len(units))
        draws[r] = index_value.to_numpy(float) + shift
    # rank 1 is the highest; ties in a draw share the best rank
    order = (-draws).argsort(axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows_ = np.arange(replicates)[:, None]
    ranks[rows_, order] = np.arange(1, len(units) + 1)
    tail = (1 - level) / 2
    published_rank = rank(index_value)
    table = pd.DataFrame(
        {
            "index": index_value.to_numpy(float),
            "index_low": np.quantile(draws, tail, axis=0),
            "index_high": np.quantile(draws, 1 - tail, axis=0),
            "rank": published_rank.to_numpy(),
            "rank_low": np.quantile(ranks, tail, axis=0, method="lower").astype(int),
            "rank_high": np.quantile(ranks, 1 - tail, axis=0, method="higher").astype(int),
        },
        index=units,
    ).sort_values(["rank", "index"], ascending=[True, False])
    pairs = []
    ordered = [units.get_loc(unit) for unit in table.index]
    for upper, lower in zip(ordered, ordered[1:]):
        share = float(np.mean(draws[:, upper] > draws[:, lower]))
        pairs.append(
            {"higher": units[upper], "lower": units[lower], "stays_higher": share, "meaningful": share >= meaningful}
        )
    return RankUncertainty(table, pd.DataFrame(pairs, columns=["higher", "lower", "stays_higher", "meaningful"]))


@dataclass
class Sensitivity:
    """How ranks move over the method choices: one column of ranks per scenario, and per unit its rank as
    computed, its best and worst rank over the scenarios and the spread between them."""

    scenarios: list[dict]
    ranks: pd.DataFrame
    summary: pd.DataFrame


#: the channel shares a sensitivity run tries, each for cyberspace and experts (the assessment takes the rest);
#: Decision 1726 sets 10% each, the range is ± half of that
SHARE_RANGE = (0.05, 0.10, 0.15)


def sensitivity(
    framework: Framework,
    points: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    excluded: set[str] | frozenset = frozenset(),
    normalisation: str = "none",
    normalisations: tuple[str, ...] = NORMALISATIONS,
    share_range: tuple[float, ...] = SHARE_RANGE,
    exclusion: str | None = None,
) -> Sensitivity:
    """Recompute the ranking under every normalisation and, where the framework has channel shares, every pair
    of cyberspace and expert shares in ``share_range``; the ranks as computed use ``normalisation`` and the
    framework's shares."""
    scenarios: list[dict] = []
    shares = framework.channel_shares
    share_options = [None]
    if shares is not None:
        share_options = [
            ChannelShares(round(1 - c - e, 4), c, e, shares.level) for c in share_range for e in share_range
        ]
    for method in normalisations:
        for option in share_options:
            scenarios.append(
                {
                    "normalisation": method,
                    "cyberspace": option.cyberspace if option else None,
                    "expert": option.expert if option else None,
                    "shares": option,
                }
            )
    columns = {}
    for number, scenario in enumerate(scenarios):
        scores = compute(
            framework,
            points,
            excluded=excluded,
            channels=channels,
            normalisation=scenario["normalisation"],
            shares=scenario.pop("shares"),
            exclusion=exclusion,
        )
        columns[number] = rank(scores.index_value)
    ranks = pd.DataFrame(columns)
    computed = rank(
        compute(
            framework, points, excluded=excluded, channels=channels, normalisation=normalisation, exclusion=exclusion
        ).index_value
    )
    summary = pd.DataFrame({"rank": computed, "best": ranks.min(axis=1), "worst": ranks.max(axis=1)})
    summary["spread"] = summary["worst"] - summary["best"]
    return Sensitivity(scenarios, ranks, summary.sort_values(["rank", "spread"]))
