"""The expert channel: each unit's panel scores aggregated per item, the panel's agreement, experts far from
their panel flagged for review, the 40/30/30 composition restored by weighting, and the channel's values.

Scores arrive long: one row per expert and item (a main index, sub-index or criterion), with the score on the
questionnaire's scale or NaN for "I cannot judge this", which is not a score and is left out.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from analysis._errors import EstimationError
from analysis.merge import external_values
from questionnaires import Framework

#: the default trim of the trimmed mean: 10% of the answers cut at each end (floor of 0.1 n, as R's mean(trim=))
DEFAULT_TRIM = 0.1
#: a robust z-score above this flags an expert for review (Iglewicz and Hoaglin's 3.5)
OUTLIER_THRESHOLD = 3.5
REQUIRED = ("unit", "expert", "item", "score")


def _check(scores: pd.DataFrame, columns=REQUIRED) -> None:
    missing = [column for column in columns if column not in scores.columns]
    if missing:
        raise EstimationError("unknown_column", "no column {column} in the data", column=missing[0])


def trimmed_mean(values, trim: float = DEFAULT_TRIM) -> float:
    """The mean after cutting floor(trim × n) answers at each end."""
    values = np.sort(np.asarray(values, dtype=float))
    if not len(values):
        return np.nan
    cut = int(np.floor(trim * len(values)))
    return float(values[cut : len(values) - cut].mean())


def aggregate(scores: pd.DataFrame, *, trim: float = DEFAULT_TRIM) -> pd.DataFrame:
    """Per unit and item: valid answers, mean, median, trimmed mean, standard deviation and interquartile range.

    The trimmed mean is the channel's aggregate by default: one or two extreme forms move it little. The
    quartiles are R's default (type 7).
    """
    _check(scores)
    valid = scores.dropna(subset=["score"])
    rows = []
    for (unit, item), group in valid.groupby(["unit", "item"], sort=True):
        values = group["score"].to_numpy(dtype=float)
        q1, q3 = np.percentile(values, [25, 75])
        rows.append(
            {
                "unit": unit,
                "item": item,
                "n": len(values),
                "mean": values.mean(),
                "median": float(np.median(values)),
                "trimmed_mean": trimmed_mean(values, trim),
                "sd": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                "iqr": float(q3 - q1),
            }
        )
    answered = pd.DataFrame(rows, columns=["unit", "item", "n", "mean", "median", "trimmed_mean", "sd", "iqr"])
    # an item every expert of a unit declined to judge is there with no answer, not absent
    every = scores[["unit", "item"]].drop_duplicates()
    table = every.merge(answered, on=["unit", "item"], how="left")
    table["n"] = table["n"].fillna(0).astype(int)
    return table.sort_values(["unit", "item"]).reset_index(drop=True)


def _ratings(scores: pd.DataFrame) -> np.ndarray:
    """Items × experts, complete items only (an item any expert could not judge is left out, as irr does; an
    expert who judged no item is not a rater)."""
    matrix = scores.pivot_table(index="item", columns="expert", values="score", aggfunc="first")
    return matrix.dropna(axis=0, how="any").to_numpy(dtype=float)


def kendall_w(ratings: np.ndarray) -> tuple[float, float, int, float]:
    """Kendall's W of an items × raters matrix, corrected for ties: (W, chi-square, df, p).

    W = 12 S / (m² (n³ - n) - m T), S the sum of squared deviations of the items' rank sums from their mean,
    T = Σ (t³ - t) over each rater's groups of tied ranks; chi-square = m (n - 1) W on n - 1 degrees of
    freedom (Siegel and Castellan 1988, as R's irr::kendall(correct = TRUE)).
    """
    n, m = ratings.shape
    if n < 2 or m < 2:
        raise EstimationError("too_few_ratings", "agreement needs 2 items and 2 raters, got {n} and {m}", n=n, m=m)
    ranks = np.column_stack([stats.rankdata(ratings[:, j]) for j in range(m)])
    sums = ranks.sum(axis=1)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(ratings[:, j], return_counts=True)
        ties += float((counts**3 - counts).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator <= 0:
        # every rater gave every item the same score: no ranking of the items to agree on (R gives NaN too)
        return math.nan, math.nan, n - 1, math.nan
    w = 12 * s / denominator
    chi_square = m * (n - 1) * w
    return w, chi_square, n - 1, float(stats.chi2.sf(chi_square, n - 1))


def icc_2k(ratings: np.ndarray) -> float:
    """ICC(2,k) of an items × raters matrix: (MSR - MSE) / (MSR + (MSC - MSE) / n) (McGraw and Wong 1996;
    Shrout and Fleiss 1979), as R's irr::icc(model = "twoway", type = "agreement", unit = "average")."""
    n, k = ratings.shape
    grand = ratings.mean()
    ss_rows = k * ((ratings.mean(axis=1) - grand) ** 2).sum()
    ss_columns = n * ((ratings.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((ratings - grand) ** 2).sum() - ss_rows - ss_columns
    ms_rows, ms_columns = ss_rows / (n - 1), ss_columns / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    denominator = ms_rows + (ms_columns - ms_error) / n
    if denominator == 0:
        # every rater gave every item the same score: no variation to agree on (R's irr gives NaN too)
        return math.nan
    return float((ms_rows - ms_error) / denominator)


def agreement(scores: pd.DataFrame) -> pd.DataFrame:
    """Per unit: the items and raters used, Kendall's W with its chi-square test, and ICC(2,k); NaN for a
    panel with fewer than two complete items or two experts."""
    _check(scores)
    rows = []
    for unit, group in scores.groupby("unit", sort=True):
        ratings = _ratings(group)
        row = {"unit": unit, "items": ratings.shape[0], "raters": ratings.shape[1] if ratings.size else 0}
        if ratings.shape[0] >= 2 and ratings.shape[1] >= 2:
            w, chi_square, df, p = kendall_w(ratings)
            row.update(kendall_w=w, chi_square=chi_square, df=df, p_value=p, icc=icc_2k(ratings))
        rows.append(row)
    return pd.DataFrame(rows, columns=["unit", "items", "raters", "kendall_w", "chi_square", "df", "p_value", "icc"])


def outlying_experts(scores: pd.DataFrame, *, threshold: float = OUTLIER_THRESHOLD) -> pd.DataFrame:
    """Per unit and expert: the mean absolute distance of their scores from the panel's median on each item,
    its robust z-score among the panel (0.6745 (d - median d) / MAD d), and a flag above ``threshold``.

    A flag asks for review; nothing is removed. When the MAD is 0 (most distances equal, as whole-number scores
    often give), 1.2533 times the mean absolute deviation from the median stands in for 1.4826 MAD; a panel
    whose distances do not vary at all flags nobody.
    """
    _check(scores)
    valid = scores.dropna(subset=["score"])
    medians = valid.groupby(["unit", "item"])["score"].transform("median")
    distances = (valid["score"] - medians).abs().groupby([valid["unit"], valid["expert"]]).mean()
    rows = []
    for unit, d in distances.groupby(level=0):
        values = d.to_numpy(dtype=float)
        centre = np.median(values)
        mad = np.median(np.abs(values - centre))
        mean_deviation = np.mean(np.abs(values - centre))
        if mad > 0:
            z = 0.6745 * (values - centre) / mad
        elif mean_deviation > 0:
            z = (values - centre) / (1.253314 * mean_deviation)
        else:
            z = np.zeros(len(values))
        for (_, expert), distance, score in zip(d.index, values, z):
            rows.append(
                {
                    "unit": unit,
                    "expert": expert,
                    "distance": distance,
                    "robust_z": score,
                    "flagged": bool(score > threshold),
                }
            )
    return pd.DataFrame(rows, columns=["unit", "expert", "distance", "robust_z", "flagged"])


def composition_weighted(
    scores: pd.DataFrame, composition: Mapping[str, float], *, trim: float = DEFAULT_TRIM
) -> pd.DataFrame:
    """Per unit and item, the mean that restores the panel's composition: each category's mean weighted by its
    share (shares renormalised over the categories that answered the item), beside the plain trimmed mean.

    The submitted forms of a panel can depart from 40/30/30 (a declined invitation not replaced, a form not
    returned); weighting the categories back keeps one category's view from counting for more than its share.
    """
    _check(scores, REQUIRED + ("category",))
    valid = scores.dropna(subset=["score"])
    unknown = sorted(set(valid["category"].astype(str)) - set(map(str, composition)))
    if unknown:
        raise EstimationError("unknown_category", "no share for category {category}", category=unknown[0])
    shares = {str(category): float(share) for category, share in composition.items()}
    rows = []
    for (unit, item), group in valid.groupby(["unit", "item"], sort=True):
        means = group.groupby(group["category"].astype(str))["score"].mean()
        weights = np.array([shares[c] for c in means.index])
        counts = group["category"].astype(str).value_counts()
        rows.append(
            {
                "unit": unit,
                "item": item,
                "trimmed_mean": trimmed_mean(group["score"], trim),
                "composition_mean": float((means.to_numpy() * weights).sum() / weights.sum()),
                **{f"n_{c}": int(counts.get(c, 0)) for c in shares},
            }
        )
    return pd.DataFrame(rows)


def channel_values(
    aggregates: pd.DataFrame, scale: tuple[float, float], *, column: str = "trimmed_mean"
) -> pd.DataFrame:
    """The expert channel's values in [0, 1] for ``analysis.compute``: the aggregate rescaled from the
    questionnaire's scale; an item nobody judged has no value (the index scores it 0 and marks it missing)."""
    low, high = scale
    if not high > low:
        raise EstimationError(
            "invalid_scale", "the scale's top {high} must exceed its bottom {low}", low=low, high=high
        )
    values = ((aggregates[column] - low) / (high - low)).clip(0, 1)
    return pd.DataFrame({"unit": aggregates["unit"], "node": aggregates["item"], "channel": "expert", "value": values})


def value_se(aggregates: pd.DataFrame, scale: tuple[float, float]) -> pd.Series:
    """The standard error of each item's channel value in [0, 1]: the panel's standard deviation over the
    square root of its answers, rescaled like the value (NaN with fewer than two answers). It treats the panel
    as a sample of the experts who could have sat on it: the spread the rank simulation propagates."""
    low, high = scale
    if not high > low:
        raise EstimationError(
            "invalid_scale", "the scale's top {high} must exceed its bottom {low}", low=low, high=high
        )
    counts = aggregates["n"].astype(float)
    return (aggregates["sd"] / np.sqrt(counts.where(counts > 1)) / (high - low)).rename("value_se")


def channel_points(framework: Framework, values: pd.DataFrame) -> pd.DataFrame:
    """The expert channel's points per unit and node: the value in [0, 1] times the node's points, and, where
    the framework splits the score by channel (Decision 1726: experts 10%), the rows ``analysis.compute`` reads
    for each pillar (or the whole framework): the node-points-weighted mean of the values of the items under it.

    :param values: ``channel_values``' table (unit, node, channel, value)
    :return: ``(points, external)``: columns unit, node, value, points, maximum; and unit, node, channel, value
        (empty when the framework has no channel shares)
    """
    nodes = {node.code: node for node, _ in framework.walk()}
    unknown = sorted(set(values["node"]) - set(nodes))
    if unknown:
        raise EstimationError("unknown_node", "node {node} is not in the framework", node=unknown[0])
    points = values[["unit", "node", "value"]].copy()
    points["maximum"] = [nodes[code].points for code in points["node"]]
    points["points"] = points["value"] * points["maximum"]
    points = points[["unit", "node", "value", "points", "maximum"]]
    external = external_values(framework, points[["unit", "node", "value"]], "expert")
    return points.reset_index(drop=True), external
