"""Calibration of weights to known totals (Deville & Särndal 1992): linear (GREG), raking and logit distances,
with bounds on the ratio of calibrated to initial weight or on the weights themselves, as R's ``calibrate``.

The result carries a :class:`~sampling.weights.Calibration` (model matrix, initial weights and g-factors), what
R's ``calibrate`` stores in the design for every distance, so that ``analysis.Design(..., calibrations=[...])``
gives R's standard errors.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.special import expit

from sampling._errors import SamplingError
from sampling.weights import Calibration, Weighting, _margin_codes, _margin_model, _weights, diagnose

METHODS = ("linear", "raking", "logit")


class _Distance:
    """A calibration distance through its g-function ``g = F(x'λ)`` and the slope ``F'``, within bounds on g
    (scalars, or one pair per row when the bounds are on the weights).

    R: ``cal.linear``, ``cal.raking`` and ``cal.logit`` (``Fm1`` = F - 1 and ``dF``).
    """

    def __init__(self, method: str, lower, upper):
        self.method, self.lower, self.upper = method, lower, upper
        if method == "logit":
            # F(u) = (L(U-1) + U(1-L)e^{Au}) / (U-1 + (1-L)e^{Au}) with A = (U-L) / ((U-1)(1-L)), written as
            # L + (U-L) expit(Au + log((1-L)/(U-1))): the same function, without the overflow of e^{Au}
            self.scale = (upper - lower) / ((upper - 1) * (1 - lower))
            self.shift = np.log((1 - lower) / (upper - 1))

    def factor(self, u: np.ndarray) -> np.ndarray:
        if self.method == "linear":
            return np.clip(1 + u, self.lower, self.upper)
        if self.method == "raking":
            with np.errstate(over="ignore"):
                return np.clip(np.exp(u), self.lower, self.upper)
        return self.lower + (self.upper - self.lower) * expit(self.scale * u + self.shift)

    def slope(self, u: np.ndarray) -> np.ndarray:
        if self.method == "linear":
            return ((u > self.lower - 1) & (u < self.upper - 1)).astype(float)
        if self.method == "raking":
            # the slope of exp where it is not clipped (R's cal.raking tests u against the bounds - 1 instead, a
            # different Newton path to the same solution)
            with np.errstate(over="ignore"):
                e = np.exp(u)
            return np.where((e > self.lower) & (e < self.upper), e, 0.0)
        s = expit(self.scale * u + self.shift)
        return (self.upper - self.lower) * self.scale * s * (1 - s)


def _bounds(bounds, method: str, base: np.ndarray, on_weights: bool) -> tuple[float, float]:
    """The bounds as two floats, refused where calibration cannot start from the initial weights."""
    try:
        lower, upper = (float(value) for value in bounds)
    except (TypeError, ValueError):
        lower = upper = float("nan")
    if not lower < upper:  # NaN fails here too
        raise SamplingError(
            "invalid_bounds",
            "calibration bounds must be two numbers, the lower below the upper (not {bounds})",
            bounds=str(bounds),
        )
    if method == "logit" and not (np.isfinite(lower) and np.isfinite(upper)):
        # R: cal.logit stops with "Logit calibration requires finite bounds"
        raise SamplingError(
            "logit_needs_bounds",
            "logit calibration needs finite bounds (not [{lower:g}, {upper:g}])",
            lower=lower,
            upper=upper,
        )
    if not on_weights and not lower < 1 < upper:
        # g starts at 1: outside the bounds, F' is 0 there and Newton never moves (R fails to converge for the
        # linear and raking distances and returns g outside the bounds for logit, without a warning)
        raise SamplingError(
            "bounds_exclude_one",
            "the bounds [{lower:g}, {upper:g}] on the ratio of calibrated to initial weight must have 1 strictly "
            "between them: calibration starts from the initial weights",
            lower=lower,
            upper=upper,
        )
    if on_weights and method == "logit":
        # the logit g-function maps onto (L, U) only when L < 1 < U, so every initial weight must be inside
        # (R returns weights outside the bounds here, without a warning)
        outside = (base > 0) & ((base <= lower) | (base >= upper))
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise SamplingError(
                "weight_outside_bounds",
                "row {row} has an initial weight of {weight:g}, not strictly between the bounds [{lower:g}, "
                "{upper:g}] that logit calibration keeps every weight within",
                row=row,
                weight=float(base[row]),
                lower=lower,
                upper=upper,
            )
    return lower, upper


def calibrate(
    data: pd.DataFrame,
    weights,
    margins: Mapping[str, Mapping | pd.Series] | None = None,
    *,
    totals: Mapping[str, float] | None = None,
    population: float | None = None,
    bounds: tuple[float, float] = (-np.inf, np.inf),
    bounds_on_weights: bool = False,
    method: str = "linear",
    tolerance: float = 1e-10,
    max_iterations: int = 50,
) -> Weighting:
    """Calibrate the weights to known totals: linear (GREG), raking or logit, optionally bounded.

    Parameters
    ----------
    data : DataFrame
        The respondents.
    weights : array
        Their weights before calibration.
    margins : mapping, optional
        Categorical auxiliaries: for every column, the population count of each level.
    totals : mapping, optional
        Numeric auxiliaries: for every column, its population total.
    population : float, optional
        The population size, needed when there is no categorical margin (it gives the intercept's total).
    bounds : (float, float)
        Bounds on g, the ratio of calibrated to initial weight, as R's ``calibrate(bounds = )``: lower < 1 <
        upper. Logit calibration needs both finite.
    bounds_on_weights : bool
        The bounds hold the calibrated weights themselves, not g, as R's ``calibrate(bounds.const = TRUE)``.
        For logit every initial weight must be strictly within them; linear and raking move the initial weights
        outside them in.
    method : {"linear", "raking", "logit"}
        The calibration distance, through its g-function of ``u = x'λ``: linear ``1 + u``, raking ``exp(u)``,
        each clipped to the bounds, or logit, which runs from the lower bound to the upper one and never
        reaches them (Deville & Särndal's logit method).
    tolerance : float
        Calibration stops when every total is within ``tolerance × (1 + |total|)``, as R's ``epsilon``.
    max_iterations : int
        The cap on Newton steps, as R's ``maxit``.

    Returns
    -------
    Weighting
        The calibrated weights, with the :class:`Calibration` that estimation needs for R's standard errors.
        Unbounded linear calibration to totals far from the sample's can make weights negative; they are
        returned as R's ``calibrate(calfun = "linear")`` returns them (without a warning), and the diagnostic
        counts them in ``negative``, with ``clean`` False though ``converged`` is True. ``bounds = (0, np.inf)``
        keeps every weight at or above 0, or fails when no such weights meet the totals.

    Raises
    ------
    SamplingError
        ``unknown_method``; ``invalid_bounds`` (not two numbers, lower below upper), ``bounds_exclude_one``
        (bounds on g without 1 strictly between them), ``logit_needs_bounds``, ``weight_outside_bounds`` (an
        initial weight outside bounds on the weights, with logit) naming the row; the errors of the margins
        (``empty_level``, ``unknown_level``, ``margin_totals_differ``...). When the iterations do not meet the
        totals, naming the total furthest off (``sex = male``, a numeric column, or ``population``):
        ``calibration_no_convergence`` when no weights within the bounds meet every total (a linear
        programme says so), ``calibration_inconsistent_totals`` when no weights at all do (collinear auxiliaries
        with totals that disagree), ``calibration_not_settled`` when such weights exist (or the programme
        cannot tell) but Newton's method did not reach them in ``max_iterations`` steps.

    Notes
    -----
    R: ``calibrate(design, ~margin1 + margin2 + x, population, calfun = , bounds = , bounds.const = )``. The
    model matrix is R's: an intercept, treatment dummies of every margin and the numeric columns; the equations
    are solved by Newton's method from λ = 0 with the step R's ``grake`` takes (halved while a g is not finite).
    The solution does not depend on the path: the calibrated weights minimise a strictly convex distance to the
    initial ones under the constraints. Two things differ from R on purpose: initial weights far below the
    totals (every total over 20 times its estimate) are not rescaled before the bounds apply (R rescales and
    warns that the bounds now mean something else), and bounds that R accepts but cannot start from are
    refused: bounds on g without 1 strictly between them (R fails to converge, or with logit returns g outside
    the bounds), and with logit, bounds on the weights that leave an initial weight outside.

    When the iterations do not meet the totals, a linear programme over the rows' distinct auxiliaries tells
    whether any weights within the bounds meet them, so that the error says whether the bounds or the
    iterations are at fault (R stops with "Calibration failed" either way).

    References
    ----------
    Deville, J.-C. & Särndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87, 376-382.
    """
    if method not in METHODS:
        raise SamplingError("unknown_method", "unknown calibration method {method}", method=method)
    base = _weights(weights, len(data))
    lower, upper = _bounds(bounds, method, base, bounds_on_weights)
    margins = margins or {}
    totals = totals or {}
    prepared = _margin_codes(data, base, margins) if margins else []
    if prepared:
        intercept = prepared[0][2].sum()
        if population is not None and not np.isclose(population, intercept, rtol=1e-9):
            raise SamplingError(
                "margin_totals_differ",
                "margin {margin} adds up to {total:g} but the population is {first_total:g}",
                margin=prepared[0][0],
                total=intercept,
                first="population",
                first_total=population,
            )
    elif population is not None:
        intercept = float(population)
    else:
        raise SamplingError("missing_population", "calibration without a categorical margin needs the population")
    columns = [_margin_model(prepared, len(data))]
    target = [intercept] + [t for _, _, totals_ in prepared for t in totals_[1:]]
    numeric = {}
    for column, total in totals.items():
        if column not in data.columns:
            raise SamplingError("unknown_column", "no column {column} in the data", column=column)
        values = pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise SamplingError("invalid_auxiliary", "column {column} has missing or non-numeric values", column=column)
        numeric[column] = (values, float(total))
        columns.append(sparse.csr_matrix(values.reshape(-1, 1)))
        target.append(float(total))
    model = sparse.hstack(columns, format="csr")
    target = np.asarray(target, dtype=float)

    # rows without weight take no part (their g is left at 1): R's bounds.const leaves their bounds undivided,
    # which for logit would make g meaningless, and they weigh nothing in the totals or the variance
    active = base > 0
    d, x = base[active], model[active]
    if bounds_on_weights:
        distance = _Distance(method, lower / d, upper / d)
    else:
        distance = _Distance(method, lower, upper)
    g, iterations, converged = _newton(x, d, target, distance, tolerance, max_iterations)
    factors = np.ones(len(base))
    factors[active] = g
    calibrated = base * factors
    if not converged:
        _refuse(x, d, target, distance, iterations, calibrated, active, prepared, numeric, margins, (lower, upper))
    return Weighting(
        calibrated,
        diagnose(calibrated, iterations, True),
        Calibration(lambda: model, base, factors, f"calibrate_{method}"),
    )


def _newton(
    model: sparse.csr_matrix, d: np.ndarray, target: np.ndarray, distance: _Distance, tolerance: float, cap: int
) -> tuple[np.ndarray, int, bool]:
    """Newton's method on the calibration equations ``X'(d g) = T`` in λ, from λ = 0 (R: ``grake``).

    :return: the g-factors, the steps taken and whether every total is within ``tolerance (1 + |T|)``; when
        not, the g-factors of the step that came closest, which name the total furthest off more usefully
        than a step that ran away
    """
    sample_total = model.T @ d
    eta = np.zeros(model.shape[1])
    xeta = np.zeros(model.shape[0])
    g, slope = distance.factor(xeta), distance.slope(xeta)
    closest = np.max(np.abs(target - sample_total - model.T @ (d * (g - 1))) / (1 + np.abs(target)))
    closest_g = g
    iterations = 0
    while iterations < cap:
        iterations += 1
        hessian = (model.T @ model.multiply((d * slope)[:, None])).toarray()
        # the misfit as R writes it, Σ d (g - 1) beside the sample totals: no cancellation near the solution
        misfit = target - sample_total - model.T @ (d * (g - 1))
        step = np.linalg.pinv(hessian, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + step
        xeta = model @ eta
        g, slope = distance.factor(xeta), distance.slope(xeta)
        halvings = 0
        # an unbounded raking step can overflow exp: halve it back, as grake does
        while not (np.isfinite(g).all() and np.isfinite(slope).all()) and halvings < 60:
            halvings += 1
            step = step / 2
            eta = eta - step
            xeta = model @ eta
            g, slope = distance.factor(xeta), distance.slope(xeta)
        misfit = target - sample_total - model.T @ (d * (g - 1))
        furthest = np.max(np.abs(misfit) / (1 + np.abs(target)))
        if furthest < tolerance:
            return g, iterations, True
        if furthest < closest:
            closest, closest_g = furthest, g
    return closest_g, iterations, False


def _worst_total(calibrated, prepared, numeric: Mapping, margins: Mapping, population: float) -> tuple[str, float]:
    """The total furthest off, relative to its size, over every level of every margin (the first level
    included, which the model matrix leaves out), the numeric totals, and the population when there is no
    margin: its name (``sex = male``, ``x``, ``population``) and how far off it is."""
    candidates = []
    for (name, codes, totals), key in zip(prepared, margins):
        levels = pd.Series(margins[key]).index
        sums = np.bincount(codes, calibrated, len(totals))
        for level, total, reached in zip(levels, totals, sums):
            label = " × ".join(map(str, level)) if isinstance(level, tuple) else str(level)
            candidates.append((f"{name} = {label}", total - reached, total))
    for column, (values, total) in numeric.items():
        candidates.append((column, total - float(values @ calibrated), total))
    if not prepared:
        candidates.append(("population", population - calibrated.sum(), population))
    name, gap, _ = max(candidates, key=lambda item: abs(item[1]) / (1 + abs(item[2])))
    return name, float(abs(gap))


def _refuse(x, d, target, distance, iterations, calibrated, active, prepared, numeric, margins, bounds):
    """Raise the error that says why calibration did not converge: no weights at all meet the totals, none
    within the bounds, or some do and Newton's method did not reach them."""
    column, gap = _worst_total(calibrated, prepared, numeric, margins, target[0])
    # the rows' auxiliaries as a few columns (the margins' crossing as one code), not the n × p model densified
    cell = np.zeros(int(active.sum()), dtype=np.int64)
    for _, codes, totals in prepared:
        cell = pd.factorize(cell * len(totals) + codes[active])[0]
    keys = np.column_stack([cell.astype(float)] + [values[active] for values, _ in numeric.values()])
    reach = _reachable(x, d, target, distance, keys)
    lower, upper = bounds
    if distance.method == "raking" and not lower > 0:
        lower = 0.0  # exp keeps g above 0 whatever the lower bound says
    if reach == "never":
        raise SamplingError(
            "calibration_inconsistent_totals",
            "no weights meet every total: the total of {column} contradicts the others (the best of {iterations} "
            "iterations misses it by {gap:.3g}); check that the margins and totals describe the same population",
            column=column,
            gap=gap,
            iterations=iterations,
        )
    if reach == "not_within_bounds":
        raise SamplingError(
            "calibration_no_convergence",
            "the bounds [{lower:g}, {upper:g}] leave no calibrated weights that meet every total (the best of "
            "{iterations} iterations misses the total of {column} by {gap:.3g}): widen the bounds or drop a margin",
            iterations=iterations,
            column=column,
            gap=gap,
            lower=lower,
            upper=upper,
        )
    raise SamplingError(
        "calibration_not_settled",
        "calibration did not converge in {iterations} iterations (the best of them misses the total of {column} by "
        "{gap:.3g}): allow more iterations",
        iterations=iterations,
        column=column,
        gap=gap,
    )


def _reachable(
    model: sparse.csr_matrix, d: np.ndarray, target: np.ndarray, distance: _Distance, keys: np.ndarray
) -> str:
    """Whether some g within the bounds meet ``X'(d g) = T``: ``"within_bounds"``, ``"not_within_bounds"``,
    ``"never"`` (not even unbounded g do) or ``"unknown"`` (the linear programme gave no answer).

    Rows with the same auxiliaries (the same ``keys``) share one unknown, the mean h of their g, bounded by the
    means of their bounds. The logit g never reaches its bounds and the raking g never reaches 0: there a slack
    s is maximised inside them, and the bounds leave no room when it is 0.
    """
    _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    rows = model[first].toarray()
    k = len(rows)
    mass = np.bincount(group, d, k)
    coefficients = (rows * mass[:, None]).T / (1 + np.abs(target))[:, None]
    goal = target / (1 + np.abs(target))
    solution = np.linalg.lstsq(coefficients, goal, rcond=None)[0]
    if np.max(np.abs(coefficients @ solution - goal)) > 1e-9:
        return "never"
    lower = np.broadcast_to(np.asarray(distance.lower, dtype=float), d.shape)
    upper = np.broadcast_to(np.asarray(distance.upper, dtype=float), d.shape)
    if distance.method == "raking":
        lower = np.maximum(lower, 0.0)
    low = np.bincount(group, d * lower, k) / mass
    high = np.bincount(group, d * upper, k) / mass
    open_low = distance.method == "logit" or (distance.method == "raking" and not np.all(distance.lower > 0))
    open_high = distance.method == "logit"
    bounds = [
        (None if open_low or not np.isfinite(lo) else lo, None if open_high or not np.isfinite(hi) else hi)
        for lo, hi in zip(low, high)
    ]
    # s in [0, 1], maximised: h - s >= low where the lower end is open, h + s <= high where the upper one is
    identity = sparse.identity(k, format="csr")
    blocks, limits = [], []
    if open_low:
        blocks.append(sparse.hstack([-identity, np.ones((k, 1))]))
        limits.append(-low)
    if open_high:
        blocks.append(sparse.hstack([identity, np.ones((k, 1))]))
        limits.append(high)
    result = linprog(
        c=np.r_[np.zeros(k), -1.0],
        A_ub=sparse.vstack(blocks, format="csr") if blocks else None,
        b_ub=np.concatenate(limits) if limits else None,
        A_eq=sparse.hstack([sparse.csr_matrix(coefficients), np.zeros((len(target), 1))], format="csr"),
        b_eq=goal,
        bounds=bounds + [(0.0, 1.0)],
        method="highs",
    )
    if result.status == 2:
        return "not_within_bounds"
    if result.status != 0:
        return "unknown"
    if (open_low or open_high) and result.x[-1] <= 1e-9:
        return "not_within_bounds"
    return "within_bounds"
