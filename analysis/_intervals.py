"""The arithmetic behind confidence intervals of proportions as R's ``svyciprop`` computes them (logit and
likelihood from a quasi-binomial intercept-only GLM, beta on the effective sample size, xlogit), and the
small numerical pieces it needs (t quantiles, R's fmm spline). Used by ``Design.proportion_interval``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta, f, norm, t

from analysis._errors import EstimationError

#: how ``ci_low``/``ci_high`` are made: the normal quantile, or Student's t on the design's degrees of freedom
INTERVALS = ("normal", "t")


def check_interval(interval: str, confidence: float) -> None:
    """Raise ``unknown_interval`` for an interval not in ``INTERVALS``, ``invalid_level`` unless 0 < confidence < 1."""
    if interval not in INTERVALS:
        raise EstimationError("unknown_interval", "interval must be one of {options}", options=INTERVALS)
    if not 0 < confidence < 1:
        raise EstimationError(
            "invalid_level", "the confidence level must be between 0 and 1, not {level}", level=confidence
        )


def interval_quantile(confidence: float, interval: str, degf) -> float:
    """The quantile multiplying a standard error: normal, or t on ``degf()`` (a callable, asked only for a t
    interval; R's ``confint(..., df = degf(design))``), NaN without degrees of freedom."""
    check_interval(interval, confidence)
    if interval == "normal":
        return norm.ppf(0.5 + confidence / 2)
    return t_quantile(0.5 + confidence / 2, degf())


def estimates_table(estimates, variances, deffs, counts, index, quantile: float) -> pd.DataFrame:
    """A table of estimates: estimate, se, the interval ``estimate ± quantile × se``, deff and the unweighted n."""
    se = np.sqrt(np.maximum(variances, 0.0))
    return pd.DataFrame(
        {
            "estimate": estimates,
            "se": se,
            "ci_low": estimates - quantile * se,
            "ci_high": estimates + quantile * se,
            "deff": deffs,
            "n": np.asarray(counts).astype(int),
        },
        index=index,
    )


def t_quantile(probability: float, degf: float) -> float:
    return t.ppf(probability, degf) if degf > 0 else np.nan


def fmm_spline(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """R's ``spline(method = "fmm")`` through ``(x, y)`` (x increasing) evaluated at ``at``: the cubic spline
    whose end third derivatives are those of the cubics through the first and the last four points (Forsythe,
    Malcolm & Moler), ported from R's ``fmm_spline`` and ``spline_eval``."""
    n = len(x)
    if n < 3:
        slope = (y[1] - y[0]) / (x[1] - x[0])
        return y[0] + slope * (at - x[0])
    b, c, d = np.zeros(n), np.zeros(n), np.zeros(n)
    d[0] = x[1] - x[0]
    c[1] = (y[1] - y[0]) / d[0]
    for i in range(1, n - 1):
        d[i] = x[i + 1] - x[i]
        b[i] = 2.0 * (d[i - 1] + d[i])
        c[i + 1] = (y[i + 1] - y[i]) / d[i]
        c[i] = c[i + 1] - c[i]
    b[0], b[-1] = -d[0], -d[n - 2]
    c[0] = c[-1] = 0.0
    if n > 3:
        c[0] = c[2] / (x[3] - x[1]) - c[1] / (x[2] - x[0])
        c[-1] = c[n - 2] / (x[n - 1] - x[n - 3]) - c[n - 3] / (x[n - 2] - x[n - 4])
        c[0] = c[0] * d[0] * d[0] / (x[3] - x[0])
        c[-1] = -c[-1] * d[n - 2] * d[n - 2] / (x[n - 1] - x[n - 4])
    for i in range(1, n):
        ratio = d[i - 1] / b[i - 1]
        b[i] -= ratio * d[i - 1]
        c[i] -= ratio * c[i - 1]
    c[-1] /= b[-1]
    for i in range(n - 2, -1, -1):
        c[i] = (c[i] - d[i] * c[i + 1]) / b[i]
    b[-1] = (y[-1] - y[-2]) / d[n - 2] + d[n - 2] * (c[n - 2] + 2.0 * c[-1])
    for i in range(n - 1):
        b[i] = (y[i + 1] - y[i]) / d[i] - d[i] * (c[i + 1] + 2.0 * c[i])
        d[i] = (c[i + 1] - c[i]) / d[i]
        c[i] = 3.0 * c[i]
    c[-1] = 3.0 * c[-1]
    d[-1] = d[n - 2]
    i = np.clip(np.searchsorted(x, at, side="right") - 1, 0, n - 1)
    dx = at - x[i]
    return y[i] + dx * (b[i] + dx * (c[i] + dx * d[i]))


def glm_intercept(y: np.ndarray, prior: np.ndarray) -> tuple[float, float]:
    """The intercept of R's ``glm(y ~ 1, family = quasibinomial, weights = prior)`` by R's own iterations
    (``glm.fit``: start at ``(prior y + 0.5) / (prior + 1)``, stop when the deviance changes relatively by less
    than 1e-8), and the ``sum(prior * mu (1 - mu))`` of its last working weights (taken before the last update,
    as glm's unscaled covariance is). Replaying them reproduces R's logit and likelihood intervals to the digit
    rather than to the convergence tolerance."""

    def deviance(mu):
        return -2.0 * (prior * np.where(y == 1, np.log(mu), np.log1p(-mu))).sum()

    mu = (prior * y + 0.5) / (prior + 1)
    eta = np.log(mu / (1 - mu))
    old = deviance(mu)
    good = prior > 0
    for _ in range(25):
        slope = mu * (1 - mu)
        working = eta + (y - mu) / slope
        weight = np.where(good, prior * slope, 0.0)
        coefficient = (weight * working).sum() / weight.sum()
        eta = np.full(len(y), coefficient)
        mu = 1 / (1 + np.exp(-eta))
        new = deviance(mu)
        if abs(new - old) / (abs(new) + 0.1) < 1e-8:
            break
        old = new
    return float(coefficient), float(weight.sum())


def likelihood_bounds(fit, coef_variance, level, degf, y, w, n_rows) -> tuple[float, float]:
    """R's ``confint(svyglm(y ~ 1, family = quasibinomial), method = "likelihood", ddf = degf)`` on the logit
    scale (``survey:::confint.svyglm``, ``MASSprofile_glm`` and ``confint_profile``)."""
    b0, information = fit
    p = 1 / (1 + np.exp(-b0))
    scaled = w * n_rows / w.sum()  # svyglm(rescale = TRUE): the weights over their mean
    std_err = np.sqrt(coef_variance)  # the sandwich standard error of the intercept
    lam = coef_variance * information  # over glm's unscaled variance 1 / information
    alpha = norm.cdf(t_quantile((1 - level) / 2, degf) * np.sqrt(lam)) / 2
    # the dispersion: svyvar() of the Pearson residuals, n / (n - 1) with n the rows of non-zero weight
    pearson = (y - p) / np.sqrt(p * (1 - p))  # survey:::residuals.svyglm divides the prior weights out again
    m = (w != 0).sum()
    centre = (w * pearson).sum() / w.sum()
    dispersion = (w * (pearson - centre) ** 2).sum() / w.sum() * m / (m - 1)

    def deviance(mu):
        return -2.0 * (scaled * np.where(y == 1, np.log(mu), np.log1p(-mu))).sum()

    original = deviance(p)
    zmax = np.sqrt(f.isf(alpha, 1, n_rows - 1))
    step_size = zmax / 5
    points, zs = [b0], [0.0]
    for sign in (-1, 1):
        step, z = 0, 0.0
        while (step := step + 1) < 10 and abs(z) < zmax:
            bi = b0 + sign * step * step_size * std_err
            zz = max((deviance(1 / (1 + np.exp(-bi))) - original) / dispersion, 0.0)
            z = sign * np.sqrt(zz)
            points.append(bi)
            zs.append(z)
    order = np.argsort(points)
    x, z = np.asarray(points)[order], np.asarray(zs)[order]
    grid = np.linspace(x[0], x[-1], 3 * len(x))
    curve = fmm_spline(x, z, grid)
    cutoff = norm.ppf([2 * alpha, 1 - 2 * alpha])
    order = np.argsort(curve, kind="stable")
    inside = (cutoff >= curve.min()) & (cutoff <= curve.max())
    return tuple(np.where(inside, np.interp(cutoff, curve[order], grid[order]), np.nan))


def proportion_bounds(method, p, variance, level, degf, n_rows, y, w, fit, coef_variance) -> tuple[float, float]:
    """The bounds of R's ``svyciprop`` for a share ``p`` with variance ``variance`` (``survey:::svyciprop``);
    ``fit`` and ``coef_variance`` are R's glm intercept and its survey variance (methods logit and likelihood)."""
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if method == "xlogit":
            logit = np.log(p / (1 - p))
            half = t_quantile(1 - alpha / 2, degf) * np.sqrt(variance) / (p * (1 - p))
            return tuple(1 / (1 + np.exp(-np.array([logit - half, logit + half]))))
        if method == "beta":
            n_eff = p * (1 - p) / variance
            n_eff *= (t_quantile(alpha / 2, n_rows - 1) / t_quantile(alpha / 2, degf)) ** 2
            return (
                float(beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)),
                float(beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))),
            )
        if fit is None or not degf > 0:
            return (np.nan, np.nan)
        if method == "logit":
            half = t_quantile(1 - alpha / 2, degf) * np.sqrt(coef_variance)
            low, high = fit[0] - half, fit[0] + half
        else:
            low, high = likelihood_bounds(fit, coef_variance, level, degf, y, w, n_rows)
        return tuple(1 / (1 + np.exp(-np.array([low, high]))))


def share_bounds(p, se, n, degf, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised bounds of shares that stay within [0, 1], and which method made each.

    ``"logit"`` where 0 < p < 1 with a standard error and degrees of freedom to go on (R's
    ``svyciprop(method = "logit")``: ``expit(logit(p) ± t(degf) se / (p (1 - p)))``); otherwise (everyone
    answered alike, or a single respondent) ``"beta"``, Clopper-Pearson on the ``n`` respondents with ``p n``
    successes, which for p = 0 is the exact binomial ``[0, 1 - (a/2)^(1/n)]``."""
    p, se, n, degf = (np.asarray(v, dtype=float) for v in (p, se, n, degf))
    alpha = 1 - confidence
    logit = (p > 0) & (p < 1) & (se > 0) & (degf >= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        quantile = t.ppf(1 - alpha / 2, np.maximum(degf, 1))
        safe = np.where(logit, p, 0.5)
        centre = np.log(safe / (1 - safe))
        half = quantile * se / (safe * (1 - safe))
        successes = p * n
        exact_low = np.where(successes > 0, beta.ppf(alpha / 2, successes, n - successes + 1), 0.0)
        exact_high = np.where(successes < n, beta.ppf(1 - alpha / 2, successes + 1, n - successes), 1.0)
    low = np.where(logit, 1 / (1 + np.exp(-(centre - half))), exact_low)
    high = np.where(logit, 1 / (1 + np.exp(-(centre + half))), exact_high)
    missing = ~np.isfinite(p) | (n < 1)
    method = np.where(logit, "logit", "beta")
    return np.where(missing, np.nan, low), np.where(missing, np.nan, high), method
