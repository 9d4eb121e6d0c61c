"""Survey weights: base weights, non-response adjustment, post-stratification, raking and trimming, each with
a diagnostic; calibration by a distance (linear, raking, logit) is in :mod:`sampling.calibration`.

The adjustments that calibrate the weights to known totals (post-stratification, raking, calibration)
also return a :class:`Calibration`: what the estimation in ``analysis`` needs so that standard errors
account for the adjustment from the calibration residuals, as R's ``survey`` package does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from sampling._errors import SamplingError


@dataclass(frozen=True)
class Calibration:
    """An adjustment of weights to known totals, as estimation needs to know it.

    ``model_matrix`` (n × p) holds the calibration variables (dummies of post-strata or margin levels, numeric
    auxiliaries), ``base_weights`` the weights before the adjustment and ``factors`` the ratio of the weights
    after it to those before. The matrix is built when first asked for: weighting alone never needs it.
    """

    build_model_matrix: Callable[[], sparse.csr_matrix] = field(repr=False)
    base_weights: np.ndarray
    factors: np.ndarray
    kind: str

    @cached_property
    def model_matrix(self) -> sparse.csr_matrix:
        return self.build_model_matrix()


@dataclass(frozen=True)
class Diagnostics:
    """How a set of weights came out.

    Every weight is counted: ``n`` is the number of weights, ``zero`` how many of them are 0 (the
    non-respondents after :func:`adjust_nonresponse`) and ``negative`` how many are below 0 (linear calibration
    can give them, as R's ``calibrate(calfun = "linear")`` does, without a warning in either).

    The other figures are over the units with a nonzero weight, negative ones included: ``total``, ``minimum``
    and ``maximum`` (the true smallest and largest of them, so a negative weight shows), ``ratio`` =
    maximum / minimum (NaN when the minimum is negative), ``effective_n`` = (Σw)² / Σw² and ``deff_weighting``,
    Kish's design effect from unequal weights, ``1 + CV²`` = m Σw² / (Σw)² over those m units.

    ``converged`` says only that the iterations met their tolerance; :attr:`clean` says that and that no
    weight is negative.
    """

    iterations: int
    converged: bool
    n: int
    total: float
    minimum: float
    maximum: float
    ratio: float
    effective_n: float
    deff_weighting: float
    zero: int = 0
    negative: int = 0

    @property
    def clean(self) -> bool:
        """Whether the weights can be used as they are: the iterations converged and no weight is negative."""
        return self.converged and self.negative == 0


@dataclass(frozen=True)
class Weighting:
    weights: np.ndarray
    diagnostics: Diagnostics
    calibration: Calibration | None = None


def diagnose(weights: np.ndarray, iterations: int = 0, converged: bool = True) -> Diagnostics:
    """The diagnostic of a set of weights, every weight counted (see :class:`Diagnostics`).

    Parameters
    ----------
    weights : array
        The weights, zero and negative ones included.
    iterations, converged : int, bool
        What the adjustment that made them reports.

    Notes
    -----
    R: ``summary(weights(design))`` for the minimum and maximum, which also counts every weight.
    """
    weights = np.asarray(weights, dtype=float)
    nonzero = weights[weights != 0]
    zero = int(weights.size - nonzero.size)
    negative = int((nonzero < 0).sum())
    if nonzero.size == 0:
        return Diagnostics(
            iterations, converged, int(weights.size), 0.0, 0.0, 0.0, float("nan"), 0.0, float("nan"), zero, 0
        )
    total, squares = nonzero.sum(), np.square(nonzero).sum()
    minimum, maximum = float(nonzero.min()), float(nonzero.max())
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = float(nonzero.size * squares / total**2) if total != 0 else float("nan")
        effective = float(total**2 / squares)
    return Diagnostics(
        iterations,
        converged,
        int(weights.size),
        float(total),
        minimum,
        maximum,
        maximum / minimum if minimum > 0 else float("nan"),
        effective,
        deff,
        zero,
        negative,
    )


def _weights(weights, n: int | None = None, *, negative: bool = False) -> np.ndarray:
    """The weights as a float array, checked: finite, and unless ``negative`` is allowed, not below 0."""
    array = np.asarray(weights, dtype=float)
    if array.ndim != 1 or (n is not None and len(array) != n):
        raise SamplingError("weights_length", "the weights must be one per row ({n} rows)", n=n)
    invalid = ~np.isfinite(array) if negative else ~np.isfinite(array) | (array < 0)
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        raise SamplingError(
            "invalid_weight", "row {row} has an invalid weight {weight}", row=row, weight=float(array[row])
        )
    return array


def base_weights(probabilities) -> Weighting:
    """Design weights, the inverse of the inclusion probabilities. R: ``weights(svydesign(ids = ~1, probs = ~p))``."""
    probability = np.asarray(probabilities, dtype=float)
    if not np.isfinite(probability).all() or ((probability <= 0) | (probability > 1)).any():
        row = int(np.flatnonzero(~np.isfinite(probability) | (probability <= 0) | (probability > 1))[0])
        raise SamplingError(
            "invalid_probability",
            "row {row} has an inclusion probability outside (0, 1]: {probability}",
            row=row,
            probability=float(probability[row]),
        )
    weights = 1.0 / probability
    return Weighting(weights, diagnose(weights))


def adjust_nonresponse(weights, responded, classes) -> Weighting:
    """Spread the weight of non-respondents over the respondents of their weighting class.

    R has no one function for it in ``survey``; it is ``w * ave(w, class, FUN = sum) / ave(w * responded, class,
    FUN = sum)`` on the respondents (``PracTools`` calls these weighting-class adjustments).

    Within class c every respondent's weight is multiplied by Σ_c w / Σ_{c, responded} w; non-respondents get 0.

    :raises SamplingError: ``class_without_respondents`` naming the class
    """
    w = _weights(weights)
    answered = np.asarray(responded, dtype=bool)
    codes, labels = pd.factorize(pd.Series(classes), sort=True)
    if (codes < 0).any():
        raise SamplingError("missing_class", "row {row} has no weighting class", row=int(np.flatnonzero(codes < 0)[0]))
    all_total = np.bincount(codes, w, len(labels))
    respondent_total = np.bincount(codes, np.where(answered, w, 0.0), len(labels))
    empty = np.flatnonzero((respondent_total == 0) & (all_total > 0))
    if empty.size:
        raise SamplingError(
            "class_without_respondents", "weighting class {level} has no respondent", level=labels[empty[0]]
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(respondent_total > 0, all_total / respondent_total, 0.0)
    adjusted = np.where(answered, w * factor[codes], 0.0)
    return Weighting(adjusted, diagnose(adjusted))


def _codes(data: pd.DataFrame, column: str | list[str]) -> pd.Series:
    """One label per row for a variable or a crossing of variables (tuples for several)."""
    columns = [column] if isinstance(column, str) else list(column)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise SamplingError("unknown_column", "no column {column} in the data", column=missing[0])
    if len(columns) == 1:
        return data[columns[0]]
    return pd.Series(list(zip(*(data[c] for c in columns))), index=data.index)


def _margin_name(margin: str | Sequence[str]) -> str:
    """A margin as errors name it: its column, or its columns crossed ("unit × sex")."""
    return margin if isinstance(margin, str) else " × ".join(margin)


def _levels(labels: pd.Series, targets: pd.Series, margin: str, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row codes into ``targets``' levels, after checking that sample and targets agree level by level."""
    targets = pd.Series(targets, dtype=float)
    if targets.isna().any() or (targets < 0).any():
        bad = targets[targets.isna() | (targets < 0)].index[0]
        raise SamplingError(
            "invalid_target", "margin {margin} has an invalid total for level {level}", margin=margin, level=bad
        )
    index = pd.Index(targets.index)
    # hash the labels once and look up only the distinct ones: a million strings cost one factorize
    row_codes, uniques = pd.factorize(labels, sort=False)
    codes = index.get_indexer(pd.Index(uniques))[row_codes] if len(uniques) else row_codes
    if (row_codes < 0).any():
        codes = np.where(row_codes < 0, -1, codes)
    if (codes < 0).any():
        level = labels.iloc[int(np.flatnonzero(codes < 0)[0])]
        raise SamplingError(
            "unknown_level",
            "level {level} of margin {margin} is in the sample but has no total",
            margin=margin,
            level=level,
        )
    sums = np.bincount(codes, weights, len(index))
    empty = np.flatnonzero((sums == 0) & (targets.to_numpy() > 0))
    if empty.size:
        raise SamplingError(
            "empty_level",
            "level {level} of margin {margin} has a total of {target:g} but no respondent",
            margin=margin,
            level=index[empty[0]],
            target=targets.iloc[empty[0]],
        )
    return codes, targets.to_numpy()


def _dummies(codes: np.ndarray, levels: int, drop_first: bool) -> sparse.csr_matrix:
    n = len(codes)
    matrix = sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, levels))
    return matrix[:, 1:] if drop_first else matrix


def poststratify(data: pd.DataFrame, weights, cells: str | list[str], targets: Mapping | pd.Series) -> Weighting:
    """Scale the weights in every post-stratum to its known population count.

    R: ``weights(postStratify(design, ~cells, population))``.

    Parameters
    ----------
    data : DataFrame
        The respondents.
    weights : array
        Their weights before the adjustment.
    cells : str or list of str
        The column, or columns whose crossing, defines the post-strata.
    targets : mapping or Series
        The population count of every post-stratum (keyed by tuples for several columns).

    Raises
    ------
    SamplingError
        ``empty_level`` for a post-stratum with a count but no respondent, ``unknown_level`` for a respondent's
        post-stratum without a count.
    """
    w = _weights(weights, len(data))
    codes, totals = _levels(_codes(data, cells), pd.Series(targets), _margin_name(cells), w)
    sums = np.bincount(codes, w, len(totals))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, totals / sums, 0.0)
    adjusted = w * factor[codes]
    calibration = Calibration(lambda: _dummies(codes, len(totals), drop_first=False), w, factor[codes], "poststratify")
    return Weighting(adjusted, diagnose(adjusted), calibration)


def _margin_codes(data, weights, margins) -> list[tuple[str, np.ndarray, np.ndarray]]:
    prepared = []
    for margin, targets in margins.items():
        codes, totals = _levels(_codes(data, margin), pd.Series(targets), _margin_name(margin), weights)
        prepared.append((_margin_name(margin), codes, totals))
    first_name, _, first = prepared[0]
    for name, _, totals in prepared[1:]:
        if not np.isclose(totals.sum(), first.sum(), rtol=1e-9, atol=1e-9):
            raise SamplingError(
                "margin_totals_differ",
                "margin {margin} adds up to {total:g} but margin {first} to {first_total:g}",
                margin=name,
                total=totals.sum(),
                first=first_name,
                first_total=first.sum(),
            )
    return prepared


def _margin_model(prepared, n: int) -> sparse.csr_matrix:
    """Intercept and treatment dummies of every margin: the model matrix R's ``calibrate`` uses for ``~a + b``."""
    blocks = [sparse.csr_matrix(np.ones((n, 1)))]
    blocks += [_dummies(codes, len(totals), drop_first=True) for _, codes, totals in prepared]
    return sparse.hstack(blocks, format="csr")


def _margin_indicators(prepared, n: int) -> sparse.csr_matrix:
    """The dummies of every level of every margin: the span of ``_margin_model``'s columns (each margin's dummies
    add up to its intercept), so the same calibration residuals and standard errors. Without the intercept a
    margin crossed with the unit keeps each unit's columns to its own rows, which lets the variances of
    estimates by unit stay sparse (``analysis._calibration``)."""
    return sparse.hstack(
        [_dummies(codes, len(totals), drop_first=False) for _, codes, totals in prepared], format="csr"
    )


def rake(
    data: pd.DataFrame,
    weights,
    margins: Mapping[str | tuple, Mapping | pd.Series],
    *,
    tolerance: float = 1e-10,
    max_iterations: int = 100,
) -> Weighting:
    """Rake the weights to several margins by iterative proportional fitting.

    Parameters
    ----------
    data : DataFrame
        The respondents.
    weights : array
        Their weights before raking.
    margins : mapping
        For every margin, a column name (or a tuple of columns crossed) and the population count of each of its
        levels. All margins must add up to the same population.
    tolerance : float
        Raking stops when every level of every margin is within this relative distance of its count.
    max_iterations : int
        The cap on full cycles through the margins.

    Raises
    ------
    SamplingError
        ``empty_level`` or ``unknown_level`` naming margin and level; ``margin_totals_differ`` naming the two
        margins; ``no_convergence`` naming the margin and level furthest from its count.

    Notes
    -----
    The fixed point is the raking-ratio calibration estimator (Deville & Särndal 1992), the solution R's
    ``calibrate(..., calfun = "raking")`` finds; standard errors use its linearisation.

    References
    ----------
    Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency table when the
    expected marginal totals are known. *Annals of Mathematical Statistics* 11(4), 427-444.
    Deville, J.-C. & Särndal, C.-E. (1992). Calibration estimators in survey sampling. *JASA* 87, 376-382.
    """
    if not margins:
        raise SamplingError("no_margin", "raking needs at least one margin")
    base = _weights(weights, len(data))
    prepared = _margin_codes(data, base, margins)
    # Every raking factor depends on the respondent's cell of the margins' crossing only, so the fitting runs
    # on the table of cells (a few thousand) and the factors are spread back to the rows once at the end.
    cell = np.zeros(len(data), dtype=np.int64)
    for _, codes, totals in prepared:
        cell = cell * len(totals) + codes
    cell, cell_ids = pd.factorize(cell, sort=False)
    cell_margin_codes = []
    for _, codes, _ in prepared:
        first_row = np.zeros(len(cell_ids), dtype=np.int64)
        first_row[cell[::-1]] = np.arange(len(cell))[::-1]
        cell_margin_codes.append(codes[first_row])
    cell_weight = np.bincount(cell, base, len(cell_ids))
    factor_of_cell = np.ones(len(cell_ids))
    iterations, converged = 0, False
    worst = (0.0, prepared[0][0], None)
    while iterations < max_iterations:
        iterations += 1
        for (_, _, totals), codes in zip(prepared, cell_margin_codes):
            sums = np.bincount(codes, cell_weight * factor_of_cell, len(totals))
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(sums > 0, totals / sums, 0.0)
            factor_of_cell *= factor[codes]
        worst = (0.0, prepared[0][0], None)
        for (name, _, totals), codes in zip(prepared, cell_margin_codes):
            sums = np.bincount(codes, cell_weight * factor_of_cell, len(totals))
            gaps = np.abs(sums - totals) / np.where(totals > 0, totals, 1.0)
            if gaps.max() > worst[0]:
                worst = (float(gaps.max()), name, int(gaps.argmax()))
        if worst[0] < tolerance:
            converged = True
            break
    if not converged:
        name, level = worst[1], worst[2]
        levels = pd.Series(margins[next(k for k in margins if str(k) == name)]).index
        raise SamplingError(
            "no_convergence",
            "raking did not converge in {iterations} iterations: level {level} "
            "of margin {margin} is still {gap:.3g} off its count",
            iterations=iterations,
            margin=name,
            level=levels[level],
            gap=worst[0],
        )
    factors = factor_of_cell[cell]
    w = base * factors
    calibration = Calibration(lambda: _margin_indicators(prepared, len(data)), base, factors, "rake")
    return Weighting(w, diagnose(w, iterations, True), calibration)


def trim(
    weights, *, lower: float = -np.inf, upper: float = np.inf, strict: bool = True, max_iterations: int = 100
) -> Weighting:
    """Trim weights to [lower, upper], sharing the trimmed amount equally among the untrimmed weights so that
    the total is kept, as R's ``trimWeights`` does.

    Parameters
    ----------
    weights : array
        The weights; negative ones (from linear calibration) are allowed, and ``lower = 0`` trims them.
    lower, upper : float
        The bounds.
    strict : bool
        True (the default here): trim again until no weight is outside, as R's ``trimWeights(strict = TRUE)``.
        False: trim once, as R's default ``trimWeights(strict = FALSE)``; the untrimmed weights that receive
        the trimmed amount may then end up outside the bounds, which the diagnostic reports as not converged.
    max_iterations : int
        The cap on passes with ``strict``.

    Returns
    -------
    Weighting
        The trimmed weights; ``diagnostics.converged`` is False when a single pass (``strict=False``) left some
        weight outside the bounds.

    Raises
    ------
    SamplingError
        ``impossible_bounds`` when the bounds cannot hold the total; ``trim_no_convergence`` (with ``strict``)
        when weights are still outside after ``max_iterations`` passes, naming how many and how far.

    Notes
    -----
    R: ``trimWeights(design, upper, lower, strict = FALSE)``. The default here differs from R's on purpose:
    the service (``survey_app.sampling.operations._trim_within_units``) calls ``trim`` without ``strict`` and
    promises every weight within the bounds it shows, which a single pass does not guarantee.

    When every weight is outside, the excess goes to those clipped on the other side (R divides by zero
    there). Where the strict passes do not settle (weights at a bound take a share of the next trimming and
    cross it again, so R's ``trimWeights(strict = TRUE)`` recurses until its stack runs out), trimming stops
    after ``max_iterations`` passes with an error.
    """
    w = _weights(weights, negative=True).copy()
    n = len(w)
    if lower * n > w.sum() or upper * n < w.sum():
        raise SamplingError(
            "impossible_bounds",
            "bounds [{lower:g}, {upper:g}] cannot hold a total of {total:g} over {n} weights",
            lower=lower,
            upper=upper,
            total=w.sum(),
            n=n,
        )
    iterations = 0
    while iterations < max_iterations:
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        iterations += 1
        trimmed = np.clip(w, lower, upper)
        excess = (w - trimmed).sum()
        receivers = ~outside
        if not receivers.any():
            # every weight was out of bounds (R divides by zero here): those clipped on the side the excess
            # moves away from take it, which the feasibility check above guarantees they can
            receivers = trimmed < upper if excess > 0 else trimmed > lower
        w = trimmed + np.where(receivers, excess / receivers.sum(), 0.0)
        if not strict:
            break
    outside = (w < lower) | (w > upper)
    if strict and outside.any():
        raise SamplingError(
            "trim_no_convergence",
            "trimming did not settle in {iterations} passes: {outside} weights are still outside the bounds, "
            "the furthest by {gap:.3g}",
            iterations=iterations,
            outside=int(outside.sum()),
            gap=float(np.max(np.maximum(lower - w, w - upper))),
        )
    return Weighting(w, diagnose(w, iterations, not outside.any()))
