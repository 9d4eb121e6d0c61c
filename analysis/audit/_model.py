"""The index as arrays, evaluated for many method choices at once: the engine behind the audit's scenarios and its
Monte Carlo (a call of :func:`analysis.compute` per draw would take hours for a Sobol design).

Under the official method (arithmetic aggregation, the framework's points as weights, its channel shares) the
index is linear in the criteria's values (:func:`analysis.uncertainty.leaf_coefficients`), so the model reproduces
``compute(...).index_value`` exactly; the tests hold it to that. The other methods are defined on the same
two levels the handbook varies: criteria → main index (always arithmetic, with official, equal or PCA weights),
main indices and external channel values → index (arithmetic or geometric, weights perturbed in the Monte Carlo).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis._errors import EstimationError
from analysis.index import remaining_total
from analysis.uncertainty import excluded_nodes, external_coefficients, leaf_coefficients
from questionnaires import EXCLUSION_READINGS, Framework, NodeKind
from questionnaires.framework import NORMALISATIONS

#: the normalisations an audit compares: the library's own, and the two more the JRC/OECD handbook lists
AUDIT_NORMALISATIONS = (*NORMALISATIONS, "rank", "target")
AGGREGATIONS = ("arithmetic", "geometric")
WEIGHTINGS = ("official", "equal", "pca")
#: a main index (or channel value) below this share of its maximum counts as this in a geometric mean, where a
#: single 0 would zero the unit's index whatever its other values
GEOMETRIC_FLOOR = 0.01


def main_indices(framework: Framework) -> dict[str, str]:
    """Scored leaf code → the main index it belongs to: its nearest ancestor of kind main index, or the leaf itself
    where the framework stops at main indices (or has none above the leaf)."""
    found: dict[str, str] = {}

    def visit(node, main):
        main = node.code if node.kind is NodeKind.MAIN_INDEX else main
        if node.is_leaf:
            if node.scored:
                found[node.code] = main or node.code
            return
        for child in node.children:
            visit(child, main)

    for node in framework.nodes:
        visit(node, None)
    return found


def pillars(framework: Framework) -> dict[str, str]:
    """Node code → the pillar above it (its top-level node where that is a pillar), "" otherwise."""
    found: dict[str, str] = {}
    for node, parent in framework.walk():
        if parent is None:
            found[node.code] = node.code if node.kind is NodeKind.PILLAR else ""
        else:
            found[node.code] = found[parent.code]
    return found


def leaf_table(framework: Framework, points: pd.DataFrame, units: pd.Index | None = None) -> pd.DataFrame:
    """Units × scored leaves: points as reported (NaN for no data), checked against the framework."""
    for column in ("unit", "node", "points"):
        if column not in points.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column=column)
    leaves = [node.code for node in framework.leaves() if node.scored]
    unknown = sorted(set(points["node"]) - set(leaves))
    if unknown:
        raise EstimationError("unknown_node", "node {node} is not a scored leaf of the framework", node=unknown[0])
    if units is None:
        units = pd.Index(sorted(points["unit"].unique()), name="unit")
    table = points.pivot_table(index="unit", columns="node", values="points", aggfunc="first", dropna=False)
    return table.reindex(index=units, columns=leaves).astype(float)


@dataclass
class IndexModel:
    """A run's data and the structure of its index, as arrays (units in rows)."""

    units: pd.Index
    #: the kept scored leaves (after exclusions), their maxima and values in [0, 1] (0 where no data)
    leaves: list[str]
    maximum: np.ndarray
    values: np.ndarray
    #: the official share of the index of one unit of each leaf's value (leaf coefficient × points)
    leaf_share: np.ndarray
    #: main index codes; the main index (position) of every leaf; the pillar (position in ``parts``) of every item
    mains: list[str]
    leaf_main: np.ndarray
    parts: list[str]
    item_part: np.ndarray
    #: external rows kept: (holder, channel), their values in [0, 1], and their share of the index per unit of
    #: channel share (the holder's points over the total)
    external_keys: list[tuple[str, str]]
    external: np.ndarray
    external_base: np.ndarray
    #: the framework's channel shares (assessment, cyberspace, expert), None without shares
    stated: tuple[float, float, float] | None
    #: each leaf's share of its main index when every node splits its weight equally among its kept children
    equal_within: np.ndarray
    #: the exclusion reading, the framework's total and the points the "remove" reading takes out of it
    exclusion: str = "redistribute"
    total: float = 1.0
    lost: float = 0.0

    def main_shares(self) -> np.ndarray:
        """The official share of the index of every main index (before any change of channel shares)."""
        return np.bincount(self.leaf_main, self.leaf_share, len(self.mains))

    def within_main(self, weighting: str, pca: dict[str, pd.Series] | None = None) -> np.ndarray:
        """Every leaf's weight in its main index (summing to 1 per main index) under a weighting."""
        if weighting == "official":
            weights = self.leaf_share.copy()
        elif weighting == "equal":
            weights = self.equal_within
        elif weighting == "pca":
            # a main index with PCA weights gives its criteria without spread (left out of the PCA) no weight
            weights = self.leaf_share.copy()
            position = {code: i for i, code in enumerate(self.leaves)}
            for main, loadings in (pca or {}).items():
                if main in self.mains:
                    weights[self.leaf_main == self.mains.index(main)] = 0.0
                    for leaf, value in loadings.items():
                        if leaf in position:
                            weights[position[leaf]] = value
        else:
            raise EstimationError("unknown_weighting", "unknown weighting {weighting}", weighting=weighting)
        totals = np.bincount(self.leaf_main, weights, len(self.mains))
        return weights / np.where(totals > 0, totals, 1.0)[self.leaf_main]

    def assessed_shares(self, weighting: str) -> np.ndarray:
        """Every main index's share of the index under a weighting: the framework's, or equal among the main
        indices of a pillar and equal among pillars (the channels keep their shares either way)."""
        official = self.main_shares()
        if weighting in ("official", "pca"):
            return official
        if weighting != "equal":
            raise EstimationError("unknown_weighting", "unknown weighting {weighting}", weighting=weighting)
        part = self.item_part[: len(self.mains)]
        total = official.sum()
        counts = np.bincount(part, minlength=len(self.parts)).astype(float)
        return total / (counts > 0).sum() / counts[part]

    def indicator(self) -> np.ndarray:
        """Leaves × main indices: 1 where the leaf belongs to the main index."""
        found = np.zeros((len(self.leaves), len(self.mains)))
        found[np.arange(len(self.leaves)), self.leaf_main] = 1.0
        return found


def build_model(
    framework: Framework,
    points: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    excluded: set[str] | frozenset = frozenset(),
    exclusion: str | None = None,
) -> IndexModel:
    """The arrays of a run, as :func:`analysis.compute` would read the same inputs."""
    reading = exclusion or framework.exclusion
    if reading not in EXCLUSION_READINGS:
        raise EstimationError(
            "unknown_exclusion_reading", "the exclusion reading must be one of {options}", options=EXCLUSION_READINGS
        )
    table = leaf_table(framework, points)
    maxima = {node.code: node.points for node in framework.leaves()}
    for code in table.columns:
        over = table[code] > maxima[code] + 1e-9
        if over.any():
            raise EstimationError(
                "points_above_maximum",
                "unit {unit} has {points:g} points on {node}, above its {maximum:g}",
                unit=over[over].index[0],
                points=table[code][over].iloc[0],
                node=code,
                maximum=maxima[code],
            )
    coefficients = leaf_coefficients(framework, excluded, reading)
    leaves = [code for code in table.columns if code in coefficients.index]
    maximum = np.array([maxima[code] for code in leaves])
    values = (table[leaves].fillna(0.0).to_numpy() / maximum).clip(0.0, 1.0)
    main_of = main_indices(framework)
    pillar_of = pillars(framework)
    mains = list(dict.fromkeys(main_of[code] for code in leaves))
    leaf_main = np.array([mains.index(main_of[code]) for code in leaves])
    parts = list(dict.fromkeys(pillar_of[code] for code in mains))

    shares = framework.channel_shares
    left_out = excluded_nodes(framework, excluded)
    keys, base = [], []
    if shares is not None:
        for (holder, channel), share in external_coefficients(framework, excluded=excluded, exclusion=reading).items():
            if holder not in left_out:
                keys.append((holder, channel))
                stated = shares.cyberspace if channel == "cyberspace" else shares.expert
                base.append(share / stated if stated > 0 else 0.0)
    for holder, _ in keys:
        if holder not in parts:
            parts.append(holder)
    external = np.zeros((len(table.index), len(keys)))
    if channels is not None and len(channels) and keys:
        rows = channels.assign(node=channels["node"].fillna(""))
        wide = rows.pivot_table(index="unit", columns=["node", "channel"], values="value", aggfunc="first")
        for position, key in enumerate(keys):
            if key in wide.columns:
                external[:, position] = wide[key].reindex(table.index).fillna(0.0).clip(0, 1).to_numpy()
    item_part = np.array([parts.index(pillar_of[code]) for code in mains] + [parts.index(h) for h, _ in keys])
    return IndexModel(
        units=table.index,
        leaves=leaves,
        maximum=maximum,
        values=values,
        leaf_share=coefficients.reindex(leaves).to_numpy() * maximum,
        mains=mains,
        leaf_main=leaf_main,
        parts=parts,
        item_part=item_part,
        external_keys=keys,
        external=external,
        external_base=np.array(base),
        stated=(shares.assessment, shares.cyberspace, shares.expert) if shares is not None else None,
        equal_within=_equal_shares(framework, leaves, main_of),
        exclusion=reading,
        total=framework.total_points,
        lost=framework.total_points - remaining_total(framework, excluded, reading),
    )


def _equal_shares(framework: Framework, leaves: list[str], main_of: dict[str, str]) -> np.ndarray:
    """Each kept leaf's share of its main index when every node splits its weight equally among its kept
    children (sub-indices, then criteria)."""
    kept = set(leaves)
    share: dict[str, float] = {}

    def visit(node, weight):
        if node.is_leaf:
            share[node.code] = weight
            return
        children = [child for child in node.children if _keeps(child, kept)]
        for child in children:
            visit(child, weight / len(children))

    for main in set(main_of[code] for code in leaves):
        visit(framework.find(main), 1.0)
    return np.array([share[code] for code in leaves])


def _keeps(node, kept: set[str]) -> bool:
    if node.is_leaf:
        return node.code in kept
    return any(_keeps(child, kept) for child in node.children)


def normalise_units(values: np.ndarray, method: str, targets: np.ndarray | None = None) -> np.ndarray:
    """Normalise values across units (axis -2) column by column.

    ``none``, ``min-max`` and ``z-score`` as :func:`analysis.compute` (a column without spread stays as it is
    under min-max and becomes 0 under z-score); ``rank``: (average rank - 1) / (units - 1), 1 for the best;
    ``target``: the value over the column's target, capped at 1 (distance to a target; by default the best
    unit's value, so the leader scores 1), 0 where the target is 0.
    """
    if method == "none":
        return values
    if method == "min-max":
        low = values.min(axis=-2, keepdims=True)
        spread = values.max(axis=-2, keepdims=True) - low
        return np.where(spread > 0, (values - low) / np.where(spread > 0, spread, 1.0), values)
    if method == "z-score":
        # a column of equal values can leave a rounding error's standard deviation: its spread says it is flat
        sd = np.where(np.ptp(values, axis=-2, keepdims=True) > 0, values.std(axis=-2, keepdims=True), 0.0)
        return np.where(sd > 0, (values - values.mean(axis=-2, keepdims=True)) / np.where(sd > 0, sd, 1.0), 0.0)
    if method == "rank":
        count = values.shape[-2]
        return (stats.rankdata(values, axis=-2) - 1.0) / max(count - 1, 1)
    if method == "target":
        target = values.max(axis=-2, keepdims=True) if targets is None else targets
        return np.where(target > 0, np.minimum(values / np.where(target > 0, target, 1.0), 1.0), 0.0)
    raise EstimationError("unknown_normalisation", "unknown normalisation {method}", method=method)


def aggregate(
    model: IndexModel,
    leaf_values: np.ndarray,
    external: np.ndarray,
    *,
    within: np.ndarray,
    shares: np.ndarray,
    geometric: np.ndarray | bool,
    normalisation: str,
) -> np.ndarray:
    """The index of every draw and unit.

    Parameters
    ----------
    leaf_values, external : ndarray
        Normalised values, draws × units × leaves (or external rows).
    within : ndarray
        Each leaf's weight in its main index, (draws ×) leaves.
    shares : ndarray
        Draws × items (main indices, then external rows): each item's share of the index.
    geometric : ndarray of bool or bool
        Per draw, whether main indices and channel values are aggregated geometrically.
    normalisation : str
        Geometric means need values in (0, 1]: z-scores are first mapped there by the standard normal
        distribution function, and every value is floored at ``GEOMETRIC_FLOOR``.
    """
    draws = leaf_values.shape[0]
    indicator = model.indicator()
    if within.ndim == 1:
        main_values = leaf_values @ (indicator * within[:, None])
    else:
        main_values = np.matmul(leaf_values, within[:, :, None] * indicator)
    items = np.concatenate([main_values, external], axis=-1)
    arithmetic = np.einsum("dui,di->du", items, shares)
    geometric = np.broadcast_to(np.asarray(geometric, dtype=bool), (draws,))
    if not geometric.any():
        return arithmetic
    chosen = items[geometric]
    if normalisation == "z-score":
        chosen = special.ndtr(chosen)
    logs = np.log(np.maximum(chosen, GEOMETRIC_FLOOR))
    weights = shares[geometric]
    result = arithmetic.copy()
    result[geometric] = np.exp(np.einsum("dui,di->du", logs, weights) / weights.sum(axis=1)[:, None])
    return result


def item_shares(
    model: IndexModel,
    assessed: np.ndarray,
    *,
    cyberspace: np.ndarray | None = None,
    expert: np.ndarray | None = None,
    main_factor: np.ndarray | None = None,
    part_factor: np.ndarray | None = None,
) -> np.ndarray:
    """Draws × items: each main index's and external row's share of the index.

    ``assessed`` (draws × main indices) is the main indices' shares under the framework's channel shares; a
    draw's main index factors (e.g. 0.8-1.2) move them within their pillar, keeping the pillar's assessed share,
    and its pillar factors move the pillars against each other, keeping the assessed total; new channel shares
    then scale the assessed part by (1 - cyberspace - expert) / the stated assessment, as ``compute`` does (and,
    under the "remove" reading, the points taken out of the total with it).
    """
    draws = assessed.shape[0]
    correction = None
    part = model.item_part[: len(model.mains)]
    result = assessed.copy()
    if main_factor is not None:
        moved = result * main_factor
        before = _by_part(result, part, len(model.parts))
        after = _by_part(moved, part, len(model.parts))
        result = moved * (before / np.where(after > 0, after, 1.0))[:, part]
    if part_factor is not None:
        totals = _by_part(result, part, len(model.parts))
        moved = totals * part_factor
        scale = totals.sum(axis=1, keepdims=True) / moved.sum(axis=1, keepdims=True)
        result = result * (part_factor * scale)[:, part]
    external = np.zeros((draws, len(model.external_keys)))
    if model.stated is not None:
        stated_assessment, stated_cyberspace, stated_expert = model.stated
        if cyberspace is not None or expert is not None:
            cyberspace = np.full(draws, stated_cyberspace) if cyberspace is None else cyberspace
            expert = np.full(draws, stated_expert) if expert is None else expert
            scale = (1.0 - cyberspace - expert) / stated_assessment
            result = result * scale[:, None]
            # the removed points were assessed points: the total they leave shrinks with the assessed share
            correction = (model.total - model.lost) / (model.total - model.lost * scale)
        else:
            cyberspace, expert = np.full(draws, stated_cyberspace), np.full(draws, stated_expert)
        is_cyberspace = np.array([channel == "cyberspace" for _, channel in model.external_keys])
        external = np.where(is_cyberspace, cyberspace[:, None], expert[:, None]) * model.external_base
    found = np.concatenate([result, external], axis=1)
    return found if correction is None else found * correction[:, None]


def _by_part(values: np.ndarray, part: np.ndarray, count: int) -> np.ndarray:
    totals = np.zeros((values.shape[0], count))
    for position in range(count):
        totals[:, position] = values[:, part == position].sum(axis=1)
    return totals


def ranks_of(index: np.ndarray, decimals: int | None = 4) -> np.ndarray:
    """Draws × units: the rank of every unit in every draw, highest first, equal values (to the published four
    decimals) sharing the best rank, as :func:`analysis.rank`."""
    compared = np.round(index, decimals) if decimals is not None else index
    return 1 + (compared[:, None, :] > compared[:, :, None]).sum(axis=-1)
