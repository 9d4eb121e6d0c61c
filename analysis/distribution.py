"""Quantiles and variances of a survey variable as R's ``survey`` package estimates them, overall and by domain:
``svyquantile`` with Woodruff's confidence intervals and ``svyvar``.

A quantile's interval is found on the scale of the distribution function (Woodruff 1952): the estimated share of
the population at or below the quantile gets a confidence interval from its linearised standard error, and the
interval's ends are turned back into values by the same quantile rule. The standard error reported is R's, derived
from that interval: its width over twice the t quantile. Every domain's weights are those of the design with the
rows outside the domain set to zero (R's ``svyby``), so strata, PSUs and calibrations keep their place.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import beta, norm, t

from analysis._columns import check_domains, column_names, domains_of, numeric
from analysis._errors import EstimationError

#: quantile rules, as R's ``svyquantile(qrule = ...)``: "math" (the same as "hf1") is R's default, "school" is the
#: same as "hf2", "hf7" is R's ``quantile()`` default carried over to weights
RULES = ("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")
#: how the interval of the share below a quantile is made, as R's ``svyquantile(interval.type = ...)``
INTERVAL_TYPES = ("mean", "beta", "xlogit", "asin")
#: columns of a table of quantiles
COLUMNS = ["estimate", "se", "ci_low", "ci_high", "n"]


# --- quantile rules --------------------------------------------------------------------------------------------


def _cumulative(weights: np.ndarray) -> np.ndarray:
    """Running sums of the weights as R's ``cumsum`` makes them: accumulated in extended precision, every sum then
    rounded to a double. Which value a rule picks can hinge on an exact tie between a running sum and ``p`` times the
    total, so the sums are made the way R makes them."""
    return np.cumsum(weights, dtype=np.longdouble).astype(float)


def _search(cumulative: np.ndarray, total: float, p: np.ndarray):
    """R's ``survey:::qs``: the last position whose running weight is at most ``p`` times the total (the first
    position when there is none), the next one (the same at the end), and the shares of weight from ``p`` down to the
    first and up to the second. 0-based positions."""
    n = len(cumulative)
    count = np.searchsorted(cumulative, np.where(np.isnan(p), 0.0, p) * total, side="right")
    low = np.maximum(count, 1) - 1
    up = np.where(low == n - 1, low, low + 1)
    return low, up, p - cumulative[low] / total, cumulative[up] / total - p


def _approx(knots: np.ndarray, values: np.ndarray, at: np.ndarray, constant: bool = False) -> np.ndarray:
    """R's ``approx(knots, values, at, rule = 2)``, linear or (``constant``) a step taking the left value: knots
    sorted (stably) and tied knots merged into the mean of their values, ends held constant outside them."""
    if (np.diff(knots) < 0).any():
        order = np.argsort(knots, kind="stable")
        knots, values = knots[order], values[order]
    if (np.diff(knots) == 0).any():
        knots, group = np.unique(knots, return_inverse=True)
        values = np.bincount(group, values) / np.bincount(group)
    n = len(knots)
    if n == 1:  # R stops ("need at least two non-NA values to interpolate"); the one value is the answer
        return np.where(np.isnan(at), np.nan, values[0])
    i = np.clip(np.searchsorted(knots, at, side="right") - 1, 0, n - 2)
    j = i + 1
    with np.errstate(invalid="ignore", divide="ignore"):
        if constant:
            inside = values[i]
        else:
            inside = values[i] + (values[j] - values[i]) * ((at - knots[i]) / (knots[j] - knots[i]))
    # R's approx1 returns a knot's own value when the point falls on it, so no rounding enters there
    inside = np.where(at == knots[j], values[j], np.where(at == knots[i], values[i], inside))
    result = np.where(at < knots[0], values[0], np.where(at > knots[-1], values[-1], inside))
    return np.where(np.isnan(at), np.nan, result)


def _rule(rule: str, values: np.ndarray, weights: np.ndarray, cumulative: np.ndarray, total: float, p: np.ndarray):
    """The ``p`` quantiles of one domain by R's ``survey:::qrule_<rule>``.

    ``values`` are sorted (ties in their original order, as R's ``order``), ``weights`` follow them (none zero),
    ``cumulative`` are their running sums and ``total`` their sum in the original order (R's ``sum(w)``).
    """
    n = len(values)
    if rule in ("math", "hf1", "school", "hf2", "hf4"):
        low, up, w_low, w_up = _search(cumulative, total, p)
        if rule in ("math", "hf1"):
            result = np.where(w_low == 0, values[low], values[up])
        elif rule in ("school", "hf2"):
            result = np.where(w_low == 0, (values[low] + values[up]) / 2, values[up])
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                gamma = w_low / (w_up + w_low)
            result = values[low] * (1 - gamma) + values[up] * gamma
    elif rule == "hf3":
        # the weights of tied values are pooled first, and the choice at an exact tie depends on the position's parity
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        pooled = np.add.reduceat(weights, starts)
        pooled_cumulative = _cumulative(pooled)
        distinct = values[starts]
        low, up, w_low, _ = _search(pooled_cumulative, pooled_cumulative[-1], p)
        result = np.where((w_low == 0) & ((low + 1) % 2 == 0), distinct[low], distinct[up])
    else:
        before = np.r_[0.0, cumulative[:-1]]
        if rule == "hf5":
            knots = (cumulative - weights / 2) / cumulative[-1]
        elif rule == "hf6":
            knots = cumulative / (cumulative[-1] + weights[-1])
        elif rule == "hf7":
            # R divides by the running weight before the last value, so the last value sits at 1
            knots = before / cumulative[n - 2] if n > 1 else np.zeros(1)
        elif rule == "hf8":
            knots = (before * 1 / 3 + cumulative * 2 / 3) / (cumulative[-1] + weights[-1] / 3)
        elif rule == "hf9":
            knots = (before * 3 / 8 + cumulative * 5 / 8) / (cumulative[-1] + weights[-1] / 4)
        else:  # shahvaish: R's formula subtracts half the raw weight from the running sum of the scaled ones
            knots = (np.cumsum(weights / weights.mean()) + 0.5 - weights / 2) / (n + 1)
        return _approx(knots, values, p, constant=rule == "shahvaish")
    return np.where(np.isnan(p), np.nan, result)


# --- shared pieces ---------------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise EstimationError(
            "invalid_level", "the confidence level must be between 0 and 1, not {level}", level=confidence
        )


def _distinct(domain: np.ndarray, inner: np.ndarray, size: int, n_domains: int) -> np.ndarray:
    """How many distinct codes ``inner`` (from 0 to ``size - 1``) every domain holds."""
    if n_domains * size <= 1 << 24:  # small enough to count in a table
        return (np.bincount(domain * size + inner, minlength=n_domains * size).reshape(n_domains, size) > 0).sum(1)
    return np.bincount(pd.unique(domain * size + inner) // size, minlength=n_domains)


def _degrees_of_freedom(design, codes: np.ndarray, rows: np.ndarray, n_domains: int) -> np.ndarray:
    """Every domain's first-stage PSUs minus strata among ``rows`` (a boolean mask of rows with a value and a weight):
    R's ``degf()`` of the domain's subset design, which ``svyquantile`` uses for its t quantiles."""
    first = design.first_stage()
    n_psus, n_strata = len(first.psu_stratum), len(first.psus)
    psu, domain = first.row_psu[rows], codes[rows]
    if n_psus == len(first.row_psu):  # every row is its own PSU
        psus = np.bincount(domain, minlength=n_domains)
    else:
        psus = _distinct(domain, psu, n_psus, n_domains)
    return psus - _distinct(domain, first.psu_stratum[psu], n_strata, n_domains)


def _t(probability, degf):
    """Student's t quantile; NaN without degrees of freedom, as R's ``qt``."""
    degf = np.asarray(degf, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(degf > 0, t.ppf(probability, np.where(degf > 0, degf, 1.0)), np.nan)


def _share_interval(interval_type, share, se, alpha, degf, n_rows):
    """The interval of the share of the population at or below a quantile, as R's ``survey:::woodruffCI``: the
    share's t interval ("mean"), Clopper-Pearson on its effective sample size ("beta"), or the t interval of its logit
    ("xlogit") or of its angular transform ``asin(sqrt(p))`` ("asin"), transformed back."""
    lower_t, upper_t = _t(alpha / 2, degf), _t(1 - alpha / 2, degf)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if interval_type == "mean":
            return share + lower_t * se, share + upper_t * se
        if interval_type == "xlogit":
            logit, logit_se = np.log(share / (1 - share)), se / (share * (1 - share))
            return 1 / (1 + np.exp(-(logit + lower_t * logit_se))), 1 / (1 + np.exp(-(logit + upper_t * logit_se)))
        if interval_type == "asin":
            angle, angle_se = np.arcsin(np.sqrt(share)), se / (2 * np.sqrt(share * (1 - share)))
            return np.sin(angle + lower_t * angle_se) ** 2, np.sin(angle + upper_t * angle_se) ** 2
        # beta: the effective sample size, widened by the ratio of t quantiles on the rows and on the design's degf
        n_eff = share * (1 - share) / se**2 * (_t(alpha / 2, n_rows - 1) / lower_t) ** 2
        return (
            beta.ppf(alpha / 2, n_eff * share, n_eff * (1 - share) + 1),
            beta.ppf(1 - alpha / 2, n_eff * share + 1, n_eff * (1 - share)),
        )


def _probabilities(probabilities) -> np.ndarray:
    values = np.atleast_1d(np.asarray(probabilities, dtype=object)).ravel()
    result = np.empty(len(values))
    for index, value in enumerate(values):
        try:
            result[index] = float(value)
        except (TypeError, ValueError):
            result[index] = np.nan
        if not 0 <= result[index] <= 1:  # also NaN
            raise EstimationError(
                "invalid_probability", "a probability must be between 0 and 1, not {probability}", probability=value
            )
    return result


# --- quantiles -------------------------------------------------------------------------------------------------


def quantiles(
    design,
    column: str,
    probabilities: float | Sequence[float],
    *,
    by: str | None = None,
    confidence: float = 0.95,
    interval_type: str = "mean",
    rule: str = "math",
) -> pd.DataFrame:
    """Quantiles of a numeric column with Woodruff's confidence intervals, overall or by domain.

    R: ``svyquantile(~column, design, quantiles = probabilities, ci = TRUE, alpha = 1 - confidence,
    interval.type = interval_type, qrule = rule, na.rm = TRUE)``; by domain, ``svyby(~column, ~by, design,
    svyquantile, ...)``.

    Parameters
    ----------
    design : Design
        The survey design (any of strata, clusters, fpc, calibration).
    column : str
        A numeric column; rows where it is missing are left out, as are rows with a zero weight.
    probabilities : float or sequence of float
        The probabilities of the quantiles, each between 0 and 1 (0.5 for the median).
    by : str, optional
        A column of domains.
    confidence : float
        The confidence level of the intervals.
    interval_type : {"mean", "beta", "xlogit", "asin"}
        How the interval of the estimated share at or below the quantile is made before it is turned back into
        values: its t interval ("mean", R's default), Clopper-Pearson on the effective sample size ("beta"), or the t
        interval of its logit ("xlogit") or of ``asin(sqrt(p))`` ("asin").
    rule : str
        The quantile rule, one of ``RULES``: "math" (R's default, the same as "hf1": the smallest value whose
        cumulative weight reaches ``p``), "school" ("hf2": the mean of two values at an exact tie), "hf7" (linear
        interpolation, as R's ``quantile()`` default) and the other Hyndman-Fan types as R's ``survey`` defines them
        with weights, or "shahvaish".

    Returns
    -------
    DataFrame
        Indexed by (domain, probability), the domain level named after ``by`` (or "variable", holding the column's
        name, without ``by``): ``estimate``, ``se`` (R's: the interval's width over twice the t quantile),
        ``ci_low``, ``ci_high`` and ``n`` (respondents with a value and a weight). A bound is NaN where the share's
        interval leaves [0, 1] (as R's).

    Raises
    ------
    EstimationError
        ``unknown_column``; ``not_numeric`` naming the column, the first row (from 0) and its value when a value is
        text that is not a number; ``invalid_probability`` naming a probability outside [0, 1] (or not a number);
        ``invalid_level`` unless 0 < confidence < 1; ``unknown_quantile_rule``; ``unknown_quantile_interval``;
        ``empty_domain`` naming a domain without a respondent with a value and a weight.

    Notes
    -----
    The t quantiles use every domain's own degrees of freedom (its PSUs minus its strata among respondents with a
    value and a weight), as R's ``svyquantile`` takes ``degf()`` of the subset design ``svyby`` gives it. The
    "beta" interval's row count is that of the domain's rows with a value, or of the whole data for a calibrated
    design (whose subsets R keeps whole, with zero weights). With the "math" rule R returns the second smallest value
    for a probability below the first value's share of the weight (so also for 0); this does the same. R stops for a
    domain of one respondent with the interpolating rules; this returns that respondent's value.

    References
    ----------
    Woodruff, R. S. (1952). Confidence intervals for medians and other position measures. *JASA* 47, 635-646.
    Hyndman, R. J. & Fan, Y. (1996). Sample quantiles in statistical packages. *The American Statistician* 50,
    361-365.
    """
    p = _probabilities(probabilities)
    _check_confidence(confidence)
    if rule not in RULES:
        raise EstimationError("unknown_quantile_rule", "the quantile rule must be one of {options}", options=RULES)
    if interval_type not in INTERVAL_TYPES:
        raise EstimationError(
            "unknown_quantile_interval", "the quantile interval must be one of {options}", options=INTERVAL_TYPES
        )
    y = numeric(design.data, column)
    codes, domains = domains_of(design.data, by)
    k, m = len(domains), len(p)
    w = design.weights
    used = np.isfinite(y) & (w > 0)
    counts = np.bincount(codes[used], minlength=k)
    check_domains(counts, domains)
    degf = _degrees_of_freedom(design, codes, used, k)
    rows = np.flatnonzero(used)
    # by domain, the original order kept within each (a small integer type lets numpy sort by radix)
    rows = rows[np.argsort(codes[rows].astype(np.int16 if k < 2**15 else np.int64), kind="stable")]
    ends = np.cumsum(counts)

    # the quantiles, and the influence of the estimated share at or below each of them: column d * m + j holds
    # domain d's rows (in their original order, so the sparse matrix needs no sorting) for probability j
    segments, estimates, shares = [], np.empty((k, m)), np.empty((k, m))
    entries, entry_rows = [], []
    for d in range(k):
        members = rows[ends[d] - counts[d] : ends[d]]
        member_weights = w[members]
        total = float(_cumulative(member_weights)[-1])  # R's sum(w), in the original order
        order = np.argsort(y[members], kind="stable")  # ties in their original order, as R's order()
        values, weights = y[members][order], member_weights[order]
        cumulative = _cumulative(weights)
        segments.append((values, weights, cumulative, total))
        estimates[d] = _rule(rule, values, weights, cumulative, total, p)
        below = np.searchsorted(values, estimates[d], side="right")  # how many values are at most the quantile
        shares[d] = np.where(below > 0, cumulative[np.maximum(below, 1) - 1], 0.0) / cumulative[-1]
        indicator = y[members][None, :] <= estimates[d][:, None]  # m × rows
        entries.append((member_weights * (indicator - shares[d][:, None]) / cumulative[-1]).ravel())
        entry_rows.append(np.tile(members, m))
    indptr = np.r_[0, np.cumsum(np.repeat(counts, m))]
    influence = sparse.csc_matrix((np.concatenate(entries), np.concatenate(entry_rows), indptr), shape=(len(y), k * m))
    share_se = np.sqrt(np.maximum(design.variances(influence), 0.0)).reshape(k, m)

    # the share's interval, turned back into values by the same rule
    alpha = 1 - confidence
    if interval_type == "beta":
        n_rows = np.full(k, len(y)) if design.calibrations else np.bincount(codes[np.isfinite(y)], minlength=k)
    else:
        n_rows = np.zeros(k)
    low_share, high_share = _share_interval(
        interval_type, shares, share_se, alpha, degf[:, None], n_rows[:, None].astype(float)
    )
    low_share = np.where(np.isnan(low_share) | (low_share < 0), np.nan, low_share)
    high_share = np.where(np.isnan(high_share) | (high_share > 1), np.nan, high_share)
    low, high = np.empty((k, m)), np.empty((k, m))
    for d, (values, weights, cumulative, total) in enumerate(segments):
        bounds = _rule(rule, values, weights, cumulative, total, np.r_[low_share[d], high_share[d]])
        low[d], high[d] = bounds[:m], bounds[m:]
    se = (high - low) / (2 * _t(1 - alpha / 2, degf)[:, None])

    index = pd.MultiIndex.from_arrays(
        [np.repeat(np.asarray(domains if by else [column], dtype=object), m), np.tile(p, k)],
        names=[by or "variable", "probability"],
    )
    return pd.DataFrame(
        {
            "estimate": estimates.ravel(),
            "se": se.ravel(),
            "ci_low": low.ravel(),
            "ci_high": high.ravel(),
            "n": np.repeat(counts, m).astype(int),
        },
        index=index,
    )


# --- variance --------------------------------------------------------------------------------------------------


def variance(design, column: str | Sequence[str], *, by: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """The estimated population variance of a numeric column (or the covariances of several), with its linearised
    standard error, overall or by domain.

    R: ``svyvar(~column, design, na.rm = TRUE)`` (``svyvar(~a + b, design, na.rm = TRUE)`` for a covariance matrix);
    by domain, ``svyby(~column, ~by, design, svyvar, na.rm = TRUE)``.

    Parameters
    ----------
    design : Design
        The survey design.
    column : str or sequence of str
        A numeric column, or several for their covariance matrix (rows missing any of them are left out).
    by : str, optional
        A column of domains.
    confidence : float
        The level of the (normal, Wald) interval, as R's ``confint()`` of the result.

    Returns
    -------
    DataFrame
        For one column, indexed by domain (or "variable", holding the column's name): ``estimate`` (the weighted
        variance times ``n / (n - 1)``), ``se``, ``ci_low``, ``ci_high`` and ``n`` (respondents with a value and a
        weight). For several, indexed by (domain,) "row" and "column", one entry of the covariance matrix each
        (``table["estimate"].unstack()`` gives the matrix).

    Raises
    ------
    EstimationError
        ``unknown_column``; ``no_columns`` for an empty list of columns; ``not_numeric`` naming the column, the
        first row and its value; ``invalid_level``; ``empty_domain`` naming a domain without a respondent with a value
        and a weight.

    Notes
    -----
    As R, the variance is the weighted mean of the squared deviations from the weighted mean times ``n / (n - 1)``,
    and its standard error is that of this mean with the deviations taken as fixed. R counts in ``n`` every
    respondent of the domain with a non-zero weight, also those whose value is missing; so does this.
    """
    _check_confidence(confidence)
    columns, _ = column_names(column, "column")
    values = [numeric(design.data, name) for name in columns]
    codes, domains = domains_of(design.data, by)
    k, size = len(domains), len(columns)
    weighted = design.weights != 0
    n_weighted = np.bincount(codes, weighted.astype(float), k)
    used = np.logical_and.reduce([np.isfinite(v) for v in values]) & weighted
    w = np.where(used, design.weights, 0.0)
    population = np.bincount(codes, w, k)
    check_domains(population, domains)
    deviations = []
    for v in values:
        v = np.where(used, v, 0.0)
        deviations.append(np.where(used, v - (np.bincount(codes, w * v, k) / population)[codes], 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = n_weighted / (n_weighted - 1)
    pairs = [(a, b) for a in range(size) for b in range(size)]
    estimates = np.empty((k, len(pairs)))
    blocks = []
    for j, (a, b) in enumerate(pairs):
        with np.errstate(invalid="ignore"):
            z = deviations[a] * deviations[b] * factor[codes]
            estimates[:, j] = np.bincount(codes, w * z, k) / population
            blocks.append(w * (z - estimates[codes, j]) / population[codes])
    row_index = np.arange(len(codes))
    influence = sparse.csc_matrix(
        (
            np.concatenate(blocks),
            (np.tile(row_index, len(pairs)), np.concatenate([codes * len(pairs) + j for j in range(len(pairs))])),
        ),
        shape=(len(codes), k * len(pairs)),
    )
    se = np.sqrt(np.maximum(design.variances(influence), 0.0)).reshape(k, len(pairs))
    z_value = norm.ppf(0.5 + confidence / 2)
    counts = np.repeat(np.bincount(codes, used.astype(float), k).astype(int), len(pairs))
    if size == 1:
        index = pd.Index(domains, name=by) if by else pd.Index(columns, name="variable")
    else:
        names = np.asarray(columns, dtype=object)
        levels = [np.repeat(np.asarray(domains, dtype=object), len(pairs))] if by else []
        levels += [np.tile(names[[a for a, _ in pairs]], k), np.tile(names[[b for _, b in pairs]], k)]
        index = pd.MultiIndex.from_arrays(levels, names=([by] if by else []) + ["row", "column"])
    return pd.DataFrame(
        {
            "estimate": estimates.ravel(),
            "se": se.ravel(),
            "ci_low": estimates.ravel() - z_value * se.ravel(),
            "ci_high": estimates.ravel() + z_value * se.ravel(),
            "n": counts,
        },
        index=index,
    )
