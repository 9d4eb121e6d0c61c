"""What-if rankings: a run's index recomputed under other main-index weights and channel shares, from the run's
linear coefficients, without a new run (issue 24: the visitor's unofficial ranking beside the official one).

Why the index is linear in what a visitor moves. :func:`analysis.index.compute` adds up, for every unit:

- each main index's score ``S[u, m]``: the points the unit earned under it, after the normalisation (which acts
  on each criterion alone, as a value in [0, 1] of its own maximum) and after the exclusions inside it;
- above the main indices (groups, pillars, the whole tree), those scores scaled up over excluded siblings
  ("redistribute") or kept as they are with the excluded points taken off the total ("remove");
- where the framework splits the score by channel [1726 II.2.a], the assessed part scaled by the assessment's
  share and, per pillar (or for the whole tree), each external channel's value ``X[u, h, k]`` (cyberspace,
  experts, normalised across units like a criterion) times its share times the holder's points;

then divides by the total. Giving main index ``m`` the weight ``w_m`` (points) in place of its official ``P_m``
is the framework with ``m``'s whole subtree scaled by ``f_m = w_m / P_m`` (every criterion's maximum, and so
every point earned, scaled alike: a criterion's value in [0, 1] and its normalised value do not change), and each
node above keeping the ratio of its points to its scored children's (a pillar keeps its external share, the
total keeps the assessment share). So ``S[u, m]`` becomes ``f_m · S[u, m]``, the points it removed under the
"remove" reading ``f_m`` times theirs, and every factor above the main indices is the same for every unit:

    index[u] = (Σ_m a_m · S[u, m] + Σ_(h, k) b_(h, k) · X[u, h, k]) / D

where ``a``, ``b`` and ``D`` depend on the weights, the shares, the exclusions and the reading only
(:func:`index_terms`). An external value ``X[u, h, k]`` is itself the points-weighted mean of the channel's values
on the nodes under ``h`` (:func:`analysis.merge.external_values`), so under other weights it is that mean again
with the nodes' points under the weights, normalised across units as the run normalised it: exact, as a run with
those weights computes it, though not linear in the weights. Other shares of the channels (assessment +
cyberspace + experts = 1) act as ``compute``'s ``shares`` argument does: the assessed part scaled by the new
assessment share over the stated one, the external values by their new shares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import pandas as pd

from analysis._errors import EstimationError
from analysis.index import Scores, normalise, rank
from analysis.merge import holders
from questionnaires import ChannelShares, Framework, Node, NodeKind

#: what a visitor may give a main index, as multiples of its official weight, and a channel, of its official share
WEIGHT_BOUNDS = (0.5, 1.5)
#: the external channels of Decision 1726, in the order ``compute`` adds them
EXTERNAL_CHANNELS = ("cyberspace", "expert")
#: how far apart a sum of shares and 1 may be: the shares are typed as percentages with at most two decimals
SHARES_TOLERANCE = 1e-6

_ABOVE_MAIN = (NodeKind.GROUP, NodeKind.PILLAR)


@dataclass(frozen=True)
class Coefficients:
    """What a run's index is linear in, per unit, and the rules the run applied."""

    framework: Framework
    #: rows unit, columns the code of every kept weighted node (``weighted_nodes``): the points earned on it
    main: pd.DataFrame
    #: weighted node code → the points its excluded criteria took off the total ("remove" reading; else 0)
    removed: dict[str, float]
    #: the external rows the run read (``unit``, ``node`` the holder, ``channel``, ``value``), before normalisation
    external: pd.DataFrame
    #: the channels' values on every node they measured (``unit``, ``node``, ``channel``, ``value``) that made
    #: ``external``, or None when they are not known (then the weights cannot move, see ``adjustable_weights``)
    channel_values: pd.DataFrame | None
    #: the run's reading of its exclusions, one of ``questionnaires.EXCLUSION_READINGS``
    exclusion: str
    #: the run's normalisation, one of ``NORMALISATIONS``
    normalisation: str


def weighted_nodes(framework: Framework) -> list[Node]:
    """The nodes a weight applies to: the scored nodes below the groups and pillars (the main indices; a criterion
    standing directly under a pillar counts alone), in framework order."""
    found: list[Node] = []

    def visit(node: Node) -> None:
        if not node.scored:
            return
        if node.kind in _ABOVE_MAIN and not node.is_leaf:
            for child in node.children:
                visit(child)
        else:
            found.append(node)

    for node in framework.nodes:
        visit(node)
    return found


def adjustable_weights(coefficients: Coefficients) -> dict[str, float]:
    """The main indices a visitor may weigh (those the run kept), each with its official weight (its points);
    none when the run's external values count but the values they were averaged from are not known: other
    weights would average them otherwise, and a what-if shows only what a run would compute."""
    if coefficients.framework.channel_shares is not None and coefficients.channel_values is None:
        if len(coefficients.external):
            return {}
    kept = set(coefficients.main.columns)
    return {
        node.code: node.points
        for node in weighted_nodes(coefficients.framework)
        if node.kind is NodeKind.MAIN_INDEX and node.code in kept
    }


def coefficients(
    framework: Framework,
    scores: Scores,
    channels: pd.DataFrame | None = None,
    *,
    channel_values: pd.DataFrame | None = None,
    exclusion: str | None = None,
) -> Coefficients:
    """A run's linear coefficients, from its scores and the external rows it read.

    Parameters
    ----------
    framework : Framework
        The run's framework.
    scores : Scores
        :func:`analysis.index.compute`'s result for the run.
    channels : DataFrame, optional
        The external rows the run passed to ``compute`` (``unit``, ``node``, ``channel``, ``value``).
    channel_values : DataFrame, optional
        The values those rows were averaged from: ``unit``, ``node``, ``channel`` ("cyberspace" or "expert"),
        ``value`` in [0, 1] (NaN: not measured), as the run passed them to
        :func:`analysis.merge.external_values`.
    exclusion : {"redistribute", "remove"}, optional
        The run's reading of its exclusions; the framework's without it.

    Returns
    -------
    Coefficients
    """
    kept = [
        node.code
        for node in weighted_nodes(framework)
        if node.code in scores.points.columns and node.code not in scores.excluded
    ]
    columns = ["unit", "node", "channel", "value"]
    external = channels[columns] if channels is not None and len(channels) else pd.DataFrame(columns=columns)
    return Coefficients(
        framework=framework,
        main=scores.points[kept].astype(float),
        removed={code: float(_points(framework, code) - scores.maximum[code]) for code in kept},
        external=external,
        channel_values=channel_values[columns].dropna(subset=["value"]) if channel_values is not None else None,
        exclusion=exclusion or framework.exclusion,
        normalisation=scores.normalisation,
    )


def external_table(coefficients: Coefficients, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Every unit's external values under the weights, as ``compute`` reads them: rows unit, columns
    (holder, channel); a value not measured is 0, and values are normalised across units as the run's were.
    No columns when the framework gives the channels no shares."""
    framework = coefficients.framework
    shares = framework.channel_shares
    units = coefficients.main.index
    if shares is None:
        return pd.DataFrame(index=units)
    rows = coefficients.external
    if coefficients.channel_values is not None and weights:
        # the channel's values averaged again, each node weighing its points under the weights
        found = node_points(framework, weights)
        holder = holders(framework)
        values = coefficients.channel_values
        values = values.assign(holder=values["node"].map(holder), maximum=values["node"].map(found))
        values = values.assign(weighted=values["value"] * values["maximum"])
        sums = values.groupby(["unit", "holder", "channel"], sort=True)[["weighted", "maximum"]].sum()
        rows = (sums["weighted"] / sums["maximum"]).rename("value").reset_index().rename(columns={"holder": "node"})
    codes = [node.code for node, _ in framework.walk() if node.kind is NodeKind.PILLAR]
    table: dict[tuple[str, str], pd.Series] = {}
    for code in codes if shares.level == "pillar" else [""]:
        held = rows[rows["node"].fillna("") == code]
        for channel in EXTERNAL_CHANNELS:
            value = held[held["channel"] == channel].set_index("unit")["value"].reindex(units)
            table[(code, channel)] = _as_run_normalised(value.fillna(0.0).clip(0, 1), coefficients.normalisation)
    return pd.DataFrame(table, index=units)


def node_points(framework: Framework, weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Every node's points under the weights: a weighted node's subtree scaled by its weight over its official
    points, a node above it keeping the ratio of its points to its scored children's."""
    factor = {code: weight / _points(framework, code) for code, weight in (weights or {}).items()}
    weighted = {node.code for node in weighted_nodes(framework)}
    found: dict[str, float] = {}

    def visit(node: Node, scale: float | None) -> float:
        if scale is None and node.code in weighted:
            scale = factor.get(node.code, 1.0)
        for child in node.children:
            visit(child, scale)
        if scale is not None or node.is_leaf:
            found[node.code] = node.points * (scale if scale is not None else 1.0)
        else:
            scored = [child for child in node.children if child.scored]
            official = sum(child.points for child in scored)
            base = sum(found[child.code] for child in scored)
            found[node.code] = node.points * base / official if official else node.points
        return found[node.code]

    for node in framework.nodes:
        visit(node, None)
    return found


def _points(framework: Framework, code: str) -> float:
    return framework.find(code).points


def _as_run_normalised(values: pd.Series, method: str) -> pd.Series:
    """An external channel's values normalised as ``compute`` normalises them: min-max leaves equal values as
    they are, z-score makes them 0."""
    if method == "none":
        return values.astype(float)
    if values.max() == values.min():
        return values.astype(float) if method == "min-max" else pd.Series(0.0, index=values.index)
    return normalise(values.astype(float), method)


def weight_bounds(coefficients: Coefficients) -> dict[str, tuple[float, float]]:
    """Main index code → the lowest and highest weight (points) a what-if may give it."""
    low, high = WEIGHT_BOUNDS
    return {code: (low * points, high * points) for code, points in adjustable_weights(coefficients).items()}


def share_bounds(framework: Framework) -> dict[str, tuple[float, float]]:
    """Channel ("assessment", "cyberspace", "expert") → the lowest and highest share a what-if may give it;
    empty when the framework gives the channels no shares."""
    stated = framework.channel_shares
    if stated is None:
        return {}
    low, high = WEIGHT_BOUNDS
    return {
        channel: (low * getattr(stated, channel), min(1.0, high * getattr(stated, channel)))
        for channel in ("assessment", *EXTERNAL_CHANNELS)
    }


def check_choice(coefficients: Coefficients, weights: Mapping[str, float], shares: ChannelShares | None) -> None:
    """Refuse weights and shares outside the bounds a what-if states.

    :param weights: main index code → weight in points, within ``weight_bounds``
    :param shares: the channels' shares, within ``share_bounds`` and adding up to 1
    :raises EstimationError: ``unknown_weighted_node``, ``weight_out_of_bounds``, ``no_channel_shares``,
        ``share_out_of_bounds``, ``shares_total``
    """
    bounds = weight_bounds(coefficients)
    for code, weight in weights.items():
        if code not in bounds:
            raise EstimationError("unknown_weighted_node", "{node} is not a main index this run weighs", node=code)
        low, high = bounds[code]
        if not low - 1e-9 <= weight <= high + 1e-9:
            raise EstimationError(
                "weight_out_of_bounds",
                "the weight of {node} must be between {low:g} and {high:g}",
                node=code,
                low=low,
                high=high,
            )
    if shares is None:
        return
    allowed = share_bounds(coefficients.framework)
    if not allowed:
        raise EstimationError("no_channel_shares", "the framework gives the channels no shares")
    for channel, (low, high) in allowed.items():
        if not low - 1e-9 <= getattr(shares, channel) <= high + 1e-9:
            raise EstimationError(
                "share_out_of_bounds",
                "the share of {channel} must be between {low:g} and {high:g}",
                channel=channel,
                low=low,
                high=high,
            )
    total = shares.assessment + shares.cyberspace + shares.expert
    if abs(total - 1.0) > SHARES_TOLERANCE:
        raise EstimationError("shares_total", "the shares add up to {total:g}, not 1", total=total)


def index_terms(
    coefficients: Coefficients,
    weights: Mapping[str, float] | None = None,
    shares: ChannelShares | None = None,
) -> tuple[pd.Series, pd.Series, float]:
    """The factors of the index under the weights and shares, the same for every unit.

    Returns
    -------
    (Series, Series, float)
        ``a``: per kept weighted node, what one of its points (as the run scored it) adds; ``b``: per
        (holder, channel), what one unit of the external value adds; ``D``: the total both are divided by.

    Notes
    -----
    Mirrors :func:`analysis.index.compute` above the main indices, with every node's points under the weights
    (see the module's docstring); the official weights and shares give back the run's own index.
    """
    framework = coefficients.framework
    factor = {code: weight / _points(framework, code) for code, weight in (weights or {}).items()}
    found_points = node_points(framework, weights)
    stated = framework.channel_shares
    # the shares apply where the framework applies its own (each pillar, or the whole tree)
    shares = replace(shares, level=stated.level) if shares is not None and stated is not None else stated
    assessed_scale = shares.assessment / stated.assessment if shares is not None and stated is not None else 1.0
    weighted = {node.code for node in weighted_nodes(framework)}
    kept = set(coefficients.main.columns)
    remove = coefficients.exclusion == "remove"

    def visit(node: Node) -> tuple[dict | None, float]:
        """The node's score as {term: factor}, None when excluded, and the points it lost ("remove")."""
        if not node.scored:
            return None, 0.0
        if node.code in weighted:
            if node.code not in kept:
                return None, 0.0
            scale = factor.get(node.code, 1.0)
            return {("main", node.code): scale}, coefficients.removed.get(node.code, 0.0) * scale
        visited = [(child, *visit(child)) for child in node.children]
        held = [(child, form, lost) for child, form, lost in visited if form is not None]
        if not held:
            return None, 0.0
        earned = _added([form for _, form, _ in held])
        kept_points = sum(found_points[child.code] for child, _, _ in held)
        assessed_points = sum(found_points[child.code] for child in node.children if child.scored)
        if remove:
            lost = assessed_points - kept_points + sum(lost for _, _, lost in held)
        else:
            earned, lost = _scaled(earned, assessed_points / kept_points), 0.0
        if shares is not None and shares.level == "pillar" and node.kind is NodeKind.PILLAR:
            earned = _scaled(earned, assessed_scale)
            for channel in EXTERNAL_CHANNELS:
                earned[("external", node.code, channel)] = getattr(shares, channel) * found_points[node.code]
            lost *= assessed_scale
        return earned, lost

    top = [(node, *visit(node)) for node in framework.nodes]
    held = [(node, form, lost) for node, form, lost in top if form is not None]
    earned = _added([form for _, form, _ in held])
    kept_points = sum(found_points[node.code] for node, _, _ in held)
    assessed_points = sum(found_points[node.code] for node in framework.nodes if node.scored)
    official_points = sum(node.points for node in framework.nodes if node.scored)
    # the total keeps its ratio to the top nodes' points (with shares for the whole tree, the assessment's share)
    total = framework.total_points * assessed_points / official_points
    lost = assessed_points - kept_points + sum(lost for _, _, lost in held) if remove else 0.0
    if shares is not None and shares.level == "framework":
        spread = assessed_points / kept_points if not remove else 1.0
        earned = _scaled(earned, spread * assessed_scale)
        for channel in EXTERNAL_CHANNELS:
            earned[("external", "", channel)] = getattr(shares, channel) * total
        lost *= assessed_scale
    main = pd.Series({term[1]: value for term, value in earned.items() if term[0] == "main"}, dtype=float)
    external = pd.Series(
        {(term[1], term[2]): value for term, value in earned.items() if term[0] == "external"}, dtype=float
    )
    return main, external, total - lost


def _added(forms: list[dict]) -> dict:
    total: dict = {}
    for form in forms:
        for term, value in form.items():
            total[term] = total.get(term, 0.0) + value
    return total


def _scaled(form: dict, scale: float) -> dict:
    return {term: value * scale for term, value in form.items()}


def what_if(
    coefficients: Coefficients,
    weights: Mapping[str, float] | None = None,
    shares: ChannelShares | None = None,
) -> pd.DataFrame:
    """Every unit's index and rank under other main-index weights and channel shares.

    Parameters
    ----------
    coefficients : Coefficients
        The run's (:func:`coefficients`).
    weights : mapping, optional
        Main index code → its weight in points; a main index left out keeps its official weight.
    shares : ChannelShares, optional
        The channels' shares; the framework's without them.

    Returns
    -------
    DataFrame
        Indexed by unit: ``index`` (in [0, 1] as the run's) and ``rank`` (ties sharing a rank, as published).

    Raises
    ------
    EstimationError
        As :func:`check_choice`, for weights or shares outside the stated bounds.
    """
    weights = dict(weights or {})
    check_choice(coefficients, weights, shares)
    main, external, divisor = index_terms(coefficients, weights, shares)
    units = coefficients.main.index
    value = coefficients.main.reindex(columns=main.index).to_numpy() @ main.to_numpy() if len(main) else 0.0
    index = pd.Series(value, index=units, dtype=float)
    if len(external):
        table = external_table(coefficients, weights).reindex(columns=external.index).fillna(0.0)
        index = index + table.to_numpy() @ external.to_numpy()
    index = index / divisor
    return pd.DataFrame({"index": index, "rank": rank(index)})
