"""Data checks before an index is read: how much data every criterion and unit has, how the criteria are
distributed, which values are outliers, and winsorisation as a scenario (never applied to the official method).

The thresholds are the JRC/OECD handbook's as COINr applies them: a criterion is flagged when its absolute
skewness exceeds 2 *and* its kurtosis exceeds 3.5, both sample-adjusted, the kurtosis an *excess* kurtosis
(0 for a normal distribution): COINr's ``skew`` and ``kurt`` are e1071's type 2 (Excel's SKEW and KURT).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._errors import EstimationError
from analysis.audit._model import leaf_table, main_indices
from questionnaires import Framework

#: the JRC flag: |skewness| above this and (excess) kurtosis above ``KURTOSIS_LIMIT``
SKEWNESS_LIMIT = 2.0
KURTOSIS_LIMIT = 3.5
#: Tukey's fences: outside the quartiles by more than this many interquartile ranges
IQR_FENCE = 1.5
#: a value more than this many standard deviations (the sample's, n - 1) from the mean
Z_LIMIT = 3.0
#: COINr's default: at most this many points of a criterion are winsorised
WINSORISE_AT_MOST = 5


def skewness(values) -> float:
    """The sample skewness G1 = g1 √(n (n - 1)) / (n - 2), g1 = m3 / m2^(3/2) with moments about the mean over n.

    NaN with fewer than 3 values or no spread. R: ``e1071::skewness(x, type = 2)`` (COINr's ``skew``).
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    deviations = x - x.mean() if n else x
    m2 = np.mean(deviations**2) if n else 0.0
    if n < 3 or m2 <= 0:
        return float("nan")
    g1 = np.mean(deviations**3) / m2**1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(values) -> float:
    """The sample excess kurtosis G2 = ((n + 1) g2 + 6) (n - 1) / ((n - 2) (n - 3)), g2 = m4 / m2² - 3: 0 for a
    normal distribution, not 3.

    NaN with fewer than 4 values or no spread. R: ``e1071::kurtosis(x, type = 2)`` (COINr's ``kurt``).
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    deviations = x - x.mean() if n else x
    m2 = np.mean(deviations**2) if n else 0.0
    if n < 4 or m2 <= 0:
        return float("nan")
    g2 = np.mean(deviations**4) / m2**2 - 3.0
    return float(((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3)))


def skew_kurtosis_flag(skew: float, kurt: float) -> bool:
    """True when a criterion fails the JRC check (|skewness| > 2 and excess kurtosis > 3.5); False for NaN."""
    return bool(abs(skew) > SKEWNESS_LIMIT and kurt > KURTOSIS_LIMIT)


@dataclass
class DataChecks:
    """What a page shows before the index: one row per criterion, one per unit, one per outlying value."""

    #: node, main_index, excluded, units, with_data, share, mean, sd, minimum, q1, median, q3, maximum, skewness,
    #: kurtosis (excess), flagged (the JRC skew and kurtosis check), outliers_iqr, outliers_z
    criteria: pd.DataFrame
    #: unit, criteria, with_data, share
    units: pd.DataFrame
    #: unit, node, value, iqr (outside Tukey's fences), z (|z| > 3)
    outliers: pd.DataFrame


def data_checks(
    framework: Framework,
    points: pd.DataFrame,
    *,
    excluded: set[str] | frozenset = frozenset(),
    units: list[str] | None = None,
) -> DataChecks:
    """Availability, distribution and outliers of every scored criterion.

    Parameters
    ----------
    framework : Framework
    points : DataFrame
        ``analysis.criterion_points``' table: ``unit``, ``node``, ``points`` (NaN for no data).
    excluded : set of str
        The run's excluded criteria, marked in the table (their data is still described).
    units : list of str, optional
        The units in scope (by default those in ``points``): a unit without a row has no data.

    Returns
    -------
    DataChecks

    Notes
    -----
    Distributions are those of the values reported (points over the criterion's maximum, units without data
    left out, not counted as 0). Quartiles are R's default (type 7). Outliers: outside [Q1 - 1.5 IQR,
    Q3 + 1.5 IQR] (R: ``boxplot.stats``' fences use hinges instead, which may differ for small samples), or
    more than 3 sample standard deviations from the mean (R: ``abs(scale(x)) > 3``).
    """
    table = leaf_table(framework, points, pd.Index(units, name="unit") if units is not None else None)
    if table.empty:
        raise EstimationError("no_audit_units", "there are no units to audit")
    maxima = {node.code: node.points for node in framework.leaves()}
    main_of = main_indices(framework)
    values = table / pd.Series(maxima).reindex(table.columns)
    rows, flagged_values = [], []
    for code in values.columns:
        column = values[code].dropna()
        x = column.to_numpy()
        row = {
            "node": code,
            "main_index": main_of[code],
            "excluded": code in excluded,
            "units": len(values),
            "with_data": len(x),
            "share": len(x) / len(values),
        }
        if len(x):
            q1, median, q3 = np.percentile(x, [25, 50, 75])
            sd = float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")
            skew, kurt = skewness(x), kurtosis(x)
            iqr = q3 - q1
            outside = (x < q1 - IQR_FENCE * iqr) | (x > q3 + IQR_FENCE * iqr)
            far = np.abs(x - x.mean()) / sd > Z_LIMIT if sd > 0 else np.zeros(len(x), dtype=bool)
            row.update(
                mean=float(x.mean()),
                sd=sd,
                minimum=float(x.min()),
                q1=float(q1),
                median=float(median),
                q3=float(q3),
                maximum=float(x.max()),
                skewness=skew,
                kurtosis=kurt,
                flagged=skew_kurtosis_flag(skew, kurt),
                outliers_iqr=int(outside.sum()),
                outliers_z=int(far.sum()),
            )
            for unit, value, by_iqr, by_z in zip(column.index, x, outside, far):
                if by_iqr or by_z:
                    flagged_values.append(
                        {"unit": unit, "node": code, "value": float(value), "iqr": bool(by_iqr), "z": bool(by_z)}
                    )
        else:
            row.update(flagged=False, outliers_iqr=0, outliers_z=0)
        rows.append(row)
    criteria = pd.DataFrame(rows)
    with_data = table.notna().sum(axis=1)
    unit_rows = pd.DataFrame(
        {
            "unit": table.index,
            "criteria": table.shape[1],
            "with_data": with_data.to_numpy(),
            "share": (with_data / table.shape[1]).to_numpy(),
        }
    )
    return DataChecks(
        criteria=criteria,
        units=unit_rows,
        outliers=pd.DataFrame(flagged_values, columns=["unit", "node", "value", "iqr", "z"]),
    )


def winsorise(
    framework: Framework,
    points: pd.DataFrame,
    *,
    nodes: list[str] | None = None,
    at_most: int = WINSORISE_AT_MOST,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A winsorised copy of the points, for a scenario beside the official method (never in its place).

    Each criterion that fails the JRC skew and kurtosis check (or each of ``nodes``) has its most extreme value,
    on the side its skew points to, set to the next value in, one point at a time, until it passes or ``at_most``
    points have been moved (COINr's rule; ties at the extreme move one at a time).

    Returns
    -------
    (DataFrame, DataFrame)
        The points table with the treated points, and one row per move: ``node``, ``unit``, ``points``,
        ``winsorised`` (both in points).
    """
    table = leaf_table(framework, points)
    if nodes is not None:
        unknown = sorted(set(nodes) - set(table.columns))
        if unknown:
            raise EstimationError("unknown_node", "node {node} is not a scored leaf of the framework", node=unknown[0])
    if at_most < 0:
        raise EstimationError("invalid_winsorised", "cannot winsorise {count} points of a criterion", count=at_most)
    moves = []
    treated = points.copy()
    for code in table.columns if nodes is None else nodes:
        column = table[code].dropna()
        x = column.to_numpy(copy=True)
        forced = nodes is not None
        for _ in range(at_most):
            skew = skewness(x)
            if np.isnan(skew) or not (forced or skew_kurtosis_flag(skew, kurtosis(x))):
                break
            position = int(np.argmax(x)) if skew > 0 else int(np.argmin(x))
            rest = np.delete(x, position)
            replacement = rest.max() if skew > 0 else rest.min()
            moves.append(
                {"node": code, "unit": column.index[position], "points": x[position], "winsorised": replacement}
            )
            x[position] = replacement
        for move in (m for m in moves if m["node"] == code):
            mask = (treated["unit"] == move["unit"]) & (treated["node"] == code)
            treated.loc[mask, "points"] = move["winsorised"]
    return treated, pd.DataFrame(moves, columns=["node", "unit", "points", "winsorised"])
