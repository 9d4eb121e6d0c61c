"""Estimates with their covariance, and what it allows: linear (and nonlinear) contrasts of estimates of one design,
as R's ``svycontrast``, and the difference of estimates from two independent samples (this year's survey against
last year's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import norm, t

from analysis._errors import EstimationError
from analysis._intervals import check_interval

#: how intervals and p-values are made: the normal distribution, or Student's t on the design's degrees of freedom


@dataclass(frozen=True)
class Estimates:
    """Estimates of one design with their covariance: what ``Design.total/mean/proportion/ratio(...,
    covariance=True)`` and ``contrast`` return.

    R: a ``svystat`` (or ``svyby(..., covmat = TRUE)``) object, whose ``vcov()`` is ``covariance``.
    """

    #: the estimates: ``estimate``, ``se``, ``ci_low``, ``ci_high`` and more columns
    table: pd.DataFrame
    #: k × k, rows and columns labelled as ``table.index``
    covariance: pd.DataFrame
    #: the degrees of freedom of the design (``Design.degf()``), for t intervals and tests
    degf: float | None = None

    def correlation(self) -> pd.DataFrame:
        """The correlation matrix of the estimates. R: ``cov2cor(vcov(estimates))``."""
        se = np.sqrt(np.diag(self.covariance.to_numpy()))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.covariance / np.outer(se, se)


def _quantile_and_p(statistic, confidence: float, interval: str, degf: float | None):
    check_interval(interval, confidence)
    if interval == "normal":
        return norm.ppf(0.5 + confidence / 2), 2 * norm.sf(np.abs(statistic))
    if degf is None or not degf > 0:
        raise EstimationError("no_degf", "a t interval needs positive degrees of freedom, not {degf}", degf=degf)
    return t.ppf(0.5 + confidence / 2, degf), 2 * t.sf(np.abs(statistic), degf)


def _tested(estimates, variances, index, confidence, interval, degf) -> pd.DataFrame:
    se = np.sqrt(np.maximum(variances, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimates / se
    quantile, p_value = _quantile_and_p(statistic, confidence, interval, degf)
    return pd.DataFrame(
        {
            "estimate": estimates,
            "se": se,
            "ci_low": estimates - quantile * se,
            "ci_high": estimates + quantile * se,
            "statistic": statistic,
            "p_value": p_value,
        },
        index=index,
    )


def _position(index: pd.Index, label) -> int:
    found = index.get_indexer([label]) if not isinstance(index, pd.MultiIndex) or isinstance(label, tuple) else [-1]
    if found[0] < 0:
        raise EstimationError(
            "unknown_estimate", "no estimate labelled {label} among {labels}", label=str(label), labels=list(index)
        )
    return int(found[0])


def _row(index: pd.Index, coefficients) -> np.ndarray:
    """One contrast's coefficients over the estimates: from a mapping label → coefficient (labels left out weigh
    0), or a sequence of one number per estimate."""
    if isinstance(coefficients, Mapping):
        row = np.zeros(len(index))
        for label, value in coefficients.items():
            row[_position(index, label)] += float(value)
        return row
    row = np.asarray(coefficients, dtype=float).ravel()
    if len(row) != len(index):
        raise EstimationError(
            "contrast_length",
            "a contrast has {given} coefficients for {expected} estimates",
            given=len(row),
            expected=len(index),
        )
    return row


def _slope(function: Callable[[pd.Series], float], values: pd.Series, position: int, step: float) -> float:
    up, down = values.copy(), values.copy()
    up.iloc[position] += step
    down.iloc[position] -= step
    return (float(function(up)) - float(function(down))) / (2 * step)


def _gradient(function: Callable[[pd.Series], float], values: pd.Series) -> tuple[float, np.ndarray]:
    """The value of ``function`` at ``values`` and its gradient by central differences (Richardson-extrapolated, so
    accurate to about 1e-10 relatively for smooth functions)."""
    centre = float(function(values))
    gradient = np.zeros(len(values))
    for position, value in enumerate(values.to_numpy(dtype=float)):
        step = 1e-3 * max(abs(value), 1e-8)
        half = _slope(function, values, position, step / 2)
        gradient[position] = (4 * half - _slope(function, values, position, step)) / 3
    return centre, gradient


def contrast(
    estimates: Estimates,
    coefficients,
    *,
    confidence: float = 0.95,
    interval: str = "normal",
) -> Estimates:
    """Linear combinations of estimates of one design (differences between domains, sums or differences of several
    variables) with their standard errors, from the estimates' covariance; or a nonlinear function of them by the
    delta method.

    R: ``svycontrast(estimates, coefficients)``: for example ``svycontrast(svyby(~x, ~province, design, svymean,
    covmat = TRUE), c(P01 = 1, P02 = -1))``, or ``svycontrast(svymean(~x + y, design), quote(x / y))``.

    Parameters
    ----------
    estimates : Estimates
        From ``Design.total/mean/proportion/ratio(..., covariance=True)`` (or an earlier ``contrast``).
    coefficients : mapping, sequence, callable, or mapping of them
        One contrast: a mapping from estimates' labels (as in ``estimates.table.index``; tuples for a MultiIndex)
        to coefficients, others weighing 0, as R's named vector; or a sequence of one coefficient per estimate; or
        a function of the estimates (a Series labelled as ``table.index``) returning a number, differentiated
        numerically (R's ``svycontrast`` with an expression, which differentiates symbolically). Several contrasts:
        a mapping from their names to any of these (R's list of contrasts).
    confidence : float
        The level of ``ci_low``/``ci_high``.
    interval : {"normal", "t"}
        The normal distribution, or Student's t on ``estimates.degf`` (R's ``confint(..., df = degf(design))``),
        for the interval and the two-sided p-value.

    Returns
    -------
    Estimates
        ``table`` indexed by the contrasts' names ("contrast" for a single one), with ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``statistic`` (estimate / se) and ``p_value`` (of the hypothesis that the contrast
        is 0); ``covariance`` of the contrasts.

    Raises
    ------
    EstimationError
        ``not_estimates`` unless ``estimates`` is an ``Estimates``; ``unknown_estimate`` naming a label that is not
        among the estimates; ``contrast_length`` naming the number of coefficients given and expected;
        ``unknown_interval``; ``invalid_level``; ``no_degf`` for a t interval without degrees of freedom.
    """
    if not isinstance(estimates, Estimates):
        raise EstimationError(
            "not_estimates", "contrasts need estimates with their covariance (covariance=True), not a {kind}",
            kind=type(estimates).__name__,
        )  # fmt: skip
    index = estimates.table.index
    values = estimates.table["estimate"]
    covariance = estimates.covariance.reindex(index=index, columns=index).to_numpy()
    several = isinstance(coefficients, Mapping) and any(
        isinstance(value, (Mapping, Sequence, np.ndarray)) or callable(value) for value in coefficients.values()
    )
    named = dict(coefficients) if several else {"contrast": coefficients}
    centres, rows = [], []
    for value in named.values():
        if callable(value) and not isinstance(value, Mapping):
            centre, gradient = _gradient(value, values.copy())
        else:
            gradient = _row(index, value)
            centre = float(gradient @ values.to_numpy())
        centres.append(centre)
        rows.append(gradient)
    matrix = np.vstack(rows)
    combined = matrix @ covariance @ matrix.T
    names = pd.Index(list(named), name="contrast")
    table = _tested(np.array(centres), np.diag(combined), names, confidence, interval, estimates.degf)
    return Estimates(table, pd.DataFrame(combined, index=names, columns=names), estimates.degf)


def difference(
    current: pd.DataFrame | Estimates,
    previous: pd.DataFrame | Estimates,
    *,
    confidence: float = 0.95,
    degf: float | None = None,
) -> pd.DataFrame:
    """The change between estimates from two **independent** samples, label by label (this year's survey against
    last year's, per province): ``current - previous`` with the standard error ``sqrt(se1² + se2²)``, and a test
    of no change.

    There is no one R function for it; it is what ``svycontrast`` gives for two estimates whose covariance is 0.
    The samples must be drawn independently of each other: a panel, or samples sharing PSUs, have correlated
    estimates, whose difference this standard error misstates (usually overstates, for a positive correlation);
    for two estimates of the same design use ``contrast``.

    Parameters
    ----------
    current, previous : DataFrame or Estimates
        Tables with ``estimate`` and ``se`` (as ``Design.mean`` returns), labelled alike (by province, say).
    confidence : float
        The level of ``ci_low``/``ci_high``.
    degf : float, optional
        Without it, a z test on the normal distribution; with it, Student's t on these degrees of freedom (a
        cautious choice is the smaller of the two designs' ``degf()``).

    Returns
    -------
    DataFrame
        One row per label of either table (current's order, then previous' own labels): ``estimate`` (the change),
        ``se``, ``ci_low``, ``ci_high``, ``statistic`` (z or t), ``p_value`` (two-sided), ``current`` and
        ``previous`` (the estimates compared). A label in only one table has NaN for the change.

    Raises
    ------
    EstimationError
        ``missing_estimate_columns`` naming the table without an ``estimate`` or ``se`` column; ``no_common_estimates``
        when the two tables share no label; ``invalid_level``; ``no_degf`` for degrees of freedom that are not
        positive.
    """
    tables = []
    for name, table in (("current", current), ("previous", previous)):
        table = table.table if isinstance(table, Estimates) else table
        if not isinstance(table, pd.DataFrame) or not {"estimate", "se"} <= set(table.columns):
            raise EstimationError(
                "missing_estimate_columns", "the {table} estimates need the columns estimate and se", table=name
            )
        tables.append(table)
    now, then = tables
    if not now.index.isin(then.index).any():
        raise EstimationError(
            "no_common_estimates",
            "the two tables have no label in common: {current} against {previous}",
            current=list(now.index),
            previous=list(then.index),
        )
    index = now.index.append(then.index[~then.index.isin(now.index)])
    now, then = now.reindex(index), then.reindex(index)
    change = (now["estimate"] - then["estimate"]).to_numpy(dtype=float)
    variances = (now["se"] ** 2 + then["se"] ** 2).to_numpy(dtype=float)
    table = _tested(change, variances, index, confidence, "normal" if degf is None else "t", degf)
    table["current"] = now["estimate"].to_numpy(dtype=float)
    table["previous"] = then["estimate"].to_numpy(dtype=float)
    return table


__all__ = ["Estimates", "contrast", "difference"]
