"""Design-based regression in the spirit of R's ``svyglm``: a linear or logistic model fitted with the survey
weights, its coefficients' covariance by the sandwich of the weighted information (the bread) and the design
variance of the estimating functions (the meat), t statistics and p-values on the design's residual degrees of
freedom, and Wald confidence intervals as R's ``confint(svyglm)``.

The fit replays R's ``glm.fit`` (iteratively reweighted least squares from the same starting values, stopping on
the same relative change of the deviance), so that the coefficients, the number of iterations and the weights of
the last iteration, on which R's standard errors rest, are R's own. Rows with a missing value in the outcome or a
predictor are left out of the fit but keep their place in the design, as R's ``svyglm`` subsets its design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Hashable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import norm, t

from analysis._columns import numeric
from analysis._errors import EstimationError
from analysis._intervals import check_interval

if TYPE_CHECKING:
    from analysis.design import Design

#: the families of ``regression``: R's ``gaussian()``, ``binomial()`` and ``quasibinomial()`` (the last two give
#: the same coefficients and standard errors under a survey design; R only warns about non-integer successes)
FAMILIES = ("gaussian", "binomial", "quasibinomial")
#: how ``ci_low``/``ci_high`` are made: Student's t on the residual degrees of freedom (R), or the normal quantile
#: R's ``glm.control()``: the relative change of the deviance that ends the iterations, and their largest number
TOLERANCE = 1e-8
MAX_ITERATIONS = 25
#: the smallest share of a predictor's (weighted, centred) sum of squares that the earlier predictors may leave
#: unexplained before it is taken as a linear combination of them
COLLINEARITY = 1e-10
#: pairwise sums of influence columns handed to ``Design.variances`` at once (each is a dense column of n rows)
_CHUNK = 8
#: the most patterns (distinct rows of the model matrix) whose design covariance is taken column by column
_PATTERN_COLUMNS = 2000
_EPSILON = np.finfo(float).eps  # R's DBL_EPSILON, the bound of the logistic link's mean
_INTERCEPT = "(Intercept)"


@dataclass(frozen=True)
class _Term:
    """One predictor: its column, its levels when categorical (the first is the reference) and its coefficients'
    names (R's: the column, or the column followed by the level)."""

    column: str
    levels: tuple | None
    names: tuple[str, ...]


@dataclass(frozen=True)
class Regression:
    """A fitted design-based regression (what ``regression`` returns).

    Attributes
    ----------
    coefficients : DataFrame
        Indexed by term (``(Intercept)``, then every predictor's, named as R names them: ``x``, ``sexmale``):
        ``estimate``, ``se`` (design-based), ``t``, ``p`` (two-sided, Student's t on ``degf``), ``ci_low`` and
        ``ci_high``. R: ``summary(fit)$coefficients`` and ``confint(fit)``.
    covariance : DataFrame
        The coefficients' design-based covariance. R: ``vcov(fit)``.
    degf : int
        The residual degrees of freedom: the design's (its PSUs minus its strata, among the rows used) plus one,
        minus the number of coefficients. R: ``fit$df.residual``.
    dispersion : float
        The survey variance of the Pearson residuals, R's ``summary(fit)$dispersion`` (its point estimate).
    iterations : int
        The iterations of reweighted least squares. R: ``fit$iter``.
    converged : bool
        Always True: a fit that does not converge raises ``EstimationError`` ``no_convergence``.
    family : str
        ``"gaussian"``, ``"binomial"`` or ``"quasibinomial"``.
    outcome : str
        The outcome's column.
    n : int
        The rows used in the fit (with every value present). R: ``length(fit$y)``, except in a domain of a
        calibrated design, where R also counts the rows outside it (kept with weight 0).
    terms : tuple
        The predictors as fitted, with their levels (what ``predict`` needs).
    """

    coefficients: pd.DataFrame
    covariance: pd.DataFrame
    degf: int
    dispersion: float
    iterations: int
    converged: bool
    family: str
    outcome: str
    n: int
    terms: tuple[_Term, ...]

    def predict(self, data: pd.DataFrame, *, scale: str = "response") -> np.ndarray:
        """The model's prediction for every row of ``data``: the mean (``scale="response"``, a probability for a
        logistic model) or the linear predictor (``scale="link"``); NaN where a predictor is missing.

        R: ``predict(fit, newdata = data, type = scale)`` (its values, without their standard errors).

        Raises
        ------
        EstimationError
            ``unknown_column``; ``unknown_level`` naming the column and the level when a categorical predictor
            holds a level the model was not fitted on; ``unknown_scale``; ``not_numeric`` as ``regression``.
        """
        if scale not in ("response", "link"):
            raise EstimationError("unknown_scale", "scale must be one of {options}", options=("response", "link"))
        model, present = _model_matrix(data, self.terms)
        eta = np.where(present, model @ self.coefficients["estimate"].to_numpy(), np.nan)
        if scale == "link" or self.family == "gaussian":
            return eta
        return _logistic_mean(eta)


def regression(
    design: Design,
    outcome: str,
    predictors: str | Sequence[str],
    *,
    family: str = "gaussian",
    by: str | None = None,
    confidence: float = 0.95,
    interval: str = "t",
) -> Regression | dict[Hashable, Regression]:
    """A linear (``family="gaussian"``) or logistic (``"binomial"``, ``"quasibinomial"``) regression of ``outcome``
    on ``predictors`` with the design's weights and design-based standard errors.

    R: ``svyglm(outcome ~ predictors, design, family = gaussian())`` (or ``quasibinomial()``, ``binomial()``),
    ``summary()`` of it for the standard errors, t statistics and p-values, ``confint()`` for the intervals; with
    ``by``, ``svyglm(..., subset(design, by == domain))`` for every domain (as ``svyby(formula, ~by, design,
    svyglm)``).

    Parameters
    ----------
    design : Design
        The survey design; its data hold the outcome and the predictors.
    outcome : str
        A numeric column; for a logistic model every value is between 0 and 1 (usually 0 or 1; booleans count).
    predictors : str or sequence of str
        Numeric columns enter as they are; a column of text, booleans or a pandas categorical enters as treatment
        dummies, one per level after the first (levels sorted, or in the categorical's order; levels without a row
        in the fit are dropped, as R's ``glm`` drops unused factor levels), named as R names them (``sexmale``,
        ``bigTRUE``). A column of numeric codes is numeric, as in R: make it categorical (``astype("category")``)
        to have dummies; a column of objects mixing numbers and text is numeric, its text an error.
    family : {"gaussian", "binomial", "quasibinomial"}
        The model: identity link with constant variance, or logit link with binomial variance.
    by : str, optional
        A column of domains: one model per domain, fitted on the domain as a subpopulation (the rows outside it
        keep their place in the design with zero weight), with its own degrees of freedom.
    confidence : float
        The level of the intervals.
    interval : {"t", "normal"}
        The intervals' quantile: Student's t on the residual degrees of freedom, as R's ``confint(svyglm)``, or the
        normal one (R's ``confint.default``); a residual df of 0 or less gives NaN bounds and p-values.

    Returns
    -------
    Regression, or dict of Regression
        The fit, or with ``by`` one fit per domain (keyed by the domain's value, in sorted order).

    Raises
    ------
    EstimationError
        ``unknown_column``; ``not_numeric`` (the column, its first row and value) for text in a numeric column;
        ``unknown_family``; ``unknown_interval``; ``invalid_level`` unless 0 < confidence < 1; ``no_predictors``;
        ``outcome_among_predictors`` naming the column; ``outcome_out_of_range`` naming the column, the first row
        and its value when a logistic model's outcome is outside [0, 1] (R: "y values must be 0 <= y <= 1");
        ``no_complete_rows`` when no row with a weight has every value; ``collinear`` naming the coefficient and its
        column when it is a linear combination of the intercept and the earlier ones (a constant column, a level
        that only rows without weight hold, a duplicated column; R gives it an ``NA`` coefficient);
        ``no_convergence`` naming the outcome's column and the iterations when the deviance still changes after
        25 of them (R warns "algorithm did not converge"), which happens when a predictor separates the 0s from the
        1s; ``single_level`` naming the column and its level when a categorical predictor has one level among the
        rows with every value (R: "contrasts can be applied only to factors with 2 or more levels");
        ``empty_domain`` for a domain without a complete row with a weight.

    Notes
    -----
    The covariance is the sandwich ``A⁻¹ V A⁻¹`` with ``A`` the weighted information at the last iteration and
    ``V`` the design covariance of the rows' estimating functions ``x_i w_i (y_i - μ_i)`` (with both links here),
    linearised through calibration as the design does (R's ``svy.varcoef``): ``Design.covariance`` of the
    influence columns, or, for a design that only has ``variances``, the variances of sums of standardised
    columns (``Var(a + b) = 2 + 2 ρ`` when ``a`` and ``b`` have variance 1). When the predictors are categorical
    (or take few values) the fit and the covariance run on the distinct rows of the model matrix, which makes a
    million rows with a handful of categorical predictors a fraction of a second.

    The dispersion is R's when no row is left out for a missing value. Otherwise R's ``summary()`` departs from
    the survey variance of the Pearson residuals: without calibration it rescales the weights to their mean over
    the rows kept, having fitted with their mean over all rows, so its dispersion is this one times the ratio of
    the two means; with calibration it counts the rows left out with a residual of 0.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex surveys.
    *International Statistical Review* 51, 279-292.
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, chapter 5. Wiley.
    """
    if family not in FAMILIES:
        raise EstimationError("unknown_family", "family must be one of {options}", options=FAMILIES)
    check_interval(interval, confidence)
    predictors = [predictors] if isinstance(predictors, str) else list(predictors)
    if not predictors:
        raise EstimationError("no_predictors", "a regression needs at least one predictor")
    if outcome in predictors:
        raise EstimationError("outcome_among_predictors", "the outcome {column} is also a predictor", column=outcome)
    data = design.data
    for column in [outcome, *predictors]:
        if column not in data.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column=column)
    y = numeric(data, outcome)
    if by is None:
        return _fit(design, y, np.ones(len(data), dtype=bool), outcome, predictors, family, confidence, interval)
    if by not in data.columns:
        raise EstimationError("unknown_column", "no column {column} in the data", column=by)
    codes, domains = pd.factorize(data[by], sort=True)
    return {
        domain: _fit(design, y, codes == index, outcome, predictors, family, confidence, interval, domain)
        for index, domain in enumerate(domains)
    }


# --- the model matrix ----------------------------------------------------------------------------------------------


def _categorical(series: pd.Series) -> bool:
    """Whether a predictor enters as dummies: a categorical, booleans or text. A column of Python objects that
    mixes numbers with text is numeric, so that its stray text is reported (``not_numeric``) rather than every
    number becoming a level."""
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(series.dtype):
        return True
    if pd.api.types.is_numeric_dtype(series.dtype):
        return False
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "boolean", "empty")


def _level_name(column: str, level) -> str:
    # R writes a logical's levels FALSE and TRUE
    return f"{column}{str(level).upper() if isinstance(level, (bool, np.bool_)) else level}"


def _terms(data: pd.DataFrame, predictors: list[str], rows: np.ndarray):
    """The predictors' terms, which of ``rows`` have every predictor, and every predictor's values: a numeric
    column's numbers (NaN where missing), a categorical one's level codes (-1 where missing or outside the levels).
    The levels are those of the rows with every value, as R's ``glm`` drops the unused ones."""
    present = rows.copy()
    parts = []
    for column in predictors:
        series = data[column]
        if not _categorical(series):
            values = numeric(data, column)
            present &= np.isfinite(values)
            parts.append((values, None))
            continue
        if isinstance(series.dtype, pd.CategoricalDtype):
            codes, levels = series.cat.codes.to_numpy().astype(np.int64), series.cat.categories
        else:
            codes, levels = pd.factorize(series, sort=True)
        present &= codes >= 0
        parts.append((codes, levels))
    terms, values = [], []
    everyone = present.all()  # then no row needs leaving out
    for column, (codes, levels) in zip(predictors, parts):
        if levels is None:
            terms.append(_Term(column, None, (column,)))
            values.append(codes)
            continue
        used = np.bincount(codes if everyone else codes[present], minlength=len(levels)) > 0
        kept = tuple(levels[used])
        if len(kept) == 1:  # R: "contrasts can be applied only to factors with 2 or more levels"
            raise EstimationError(
                "single_level",
                "column {column} has a single level, {level}, among the rows with every value",
                column=column,
                level=str(kept[0]),
            )
        terms.append(_Term(column, kept, tuple(_level_name(column, level) for level in kept[1:])))
        if not used.all():
            renumbered = np.where(used, np.cumsum(used) - 1, -1)
            codes = np.where(codes >= 0, renumbered[codes], -1)
        values.append(codes)
    return tuple(terms), present, values


def _matrix(terms: tuple[_Term, ...], values: list[np.ndarray], rows: np.ndarray | slice) -> np.ndarray:
    """The model matrix (intercept first, then every term's columns, treatment dummies for levels) of ``rows``."""
    width = 1 + sum(len(term.names) for term in terms)
    model = np.zeros((len(rows) if isinstance(rows, np.ndarray) else len(values[0]), width))
    model[:, 0] = 1.0
    offset = 1
    for term, part in zip(terms, values):
        if term.levels is None:
            model[:, offset] = part[rows]
        else:
            codes = part[rows]
            dummy = np.flatnonzero(codes > 0)
            model[dummy, offset + codes[dummy] - 1] = 1.0
        offset += len(term.names)
    return model


def _patterns(terms, values, rows: np.ndarray, take: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray | None]:
    """The distinct rows of the model matrix of ``rows`` (``take`` selects them: ``rows``, or every row) and the one
    of every row, or the model matrix itself and None when there are more than half as many distinct rows as rows
    (a continuous predictor). Categorical predictors make few distinct rows, and the fit then needs their weighted
    sums only."""
    n = len(rows)
    key, size = np.zeros(n, dtype=np.int64), 1
    for term, part in zip(terms, values):
        if term.levels is None:
            codes, uniques = pd.factorize(part[take])
            count = len(uniques)
        else:
            codes, count = part[take], len(term.levels)
        if count > n // 2:
            return _matrix(terms, values, take), None
        if size * count >= 2**62:  # renumber the combinations seen so far before the key overflows
            key, seen = pd.factorize(key)
            size = len(seen)
        key, size = key * count + codes, size * count
    if size <= min(_PATTERN_COLUMNS, n // 2) and all(term.levels is not None for term in terms):
        # few combinations of levels: every one is a pattern, those without a row have no weight in the fit
        return _combinations(terms), key
    codes, uniques = pd.factorize(key)
    if len(uniques) > n // 2:
        return _matrix(terms, values, take), None
    first = np.zeros(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(n)[::-1]
    return _matrix(terms, values, rows[first]), codes.astype(np.int64)


def _combinations(terms) -> np.ndarray:
    """The model matrix of every combination of the categorical terms' levels, numbered as ``_patterns`` numbers
    them (the last term's level varying fastest)."""
    counts = [len(term.levels) for term in terms]
    levels = np.indices(counts).reshape(len(counts), -1)
    return _matrix(terms, list(levels), slice(None))


def _model_matrix(data: pd.DataFrame, terms: tuple[_Term, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The model matrix of every row of new data with the levels of a fit, and which rows have every predictor."""
    present = np.ones(len(data), dtype=bool)
    values = []
    for term in terms:
        if term.column not in data.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column=term.column)
        if term.levels is None:
            part = numeric(data, term.column)
            present &= np.isfinite(part)
            values.append(np.where(np.isfinite(part), part, 0.0))
            continue
        series = data[term.column]
        codes = pd.Index(term.levels).get_indexer(series)
        unknown = (codes < 0) & series.notna().to_numpy()
        if unknown.any():
            raise EstimationError(
                "unknown_level",
                "column {column} holds {level}, a level the model was not fitted on",
                column=term.column,
                level=str(series.iloc[int(np.flatnonzero(unknown)[0])]),
            )
        present &= codes >= 0
        values.append(codes)
    return _matrix(terms, values, np.arange(len(data))), present


def _check_rank(model: np.ndarray, weights: np.ndarray, names: list[str], columns: list[str]) -> None:
    """Raise ``collinear`` for the first coefficient that the intercept and the earlier ones explain (R's pivoting
    QR gives the later of collinear columns an ``NA``). The predictors are centred first, so that a column with a
    large mean and a small spread is not mistaken for the intercept."""
    centred = model - (weights @ model / weights.sum())
    centred[:, 0] = 1.0
    gram = centred.T @ (centred * weights[:, None])
    kept = [0]
    for j in range(1, model.shape[1]):
        share = 0.0
        if gram[j, j] > 0:
            cross = gram[kept, j]
            share = (gram[j, j] - cross @ np.linalg.solve(gram[np.ix_(kept, kept)], cross)) / gram[j, j]
        if share < COLLINEARITY:
            raise EstimationError(
                "collinear",
                "the coefficient {term} of column {column} is a linear combination of the intercept and the "
                "earlier predictors",
                term=names[j],
                column=columns[j],
            )
        kept.append(j)


# --- the fit -------------------------------------------------------------------------------------------------------


def _logistic_mean(eta: np.ndarray) -> np.ndarray:
    """R's ``binomial()$linkinv``: the logistic function, kept DBL_EPSILON away from 0 and 1."""
    with np.errstate(over="ignore"):
        mu = 1.0 / (1.0 + np.exp(-eta))
    return np.where(eta < -30, _EPSILON, np.where(eta > 30, 1 - _EPSILON, mu))


def _logistic_slope(eta: np.ndarray) -> np.ndarray:
    """R's ``binomial()$mu.eta``: dμ/dη, DBL_EPSILON beyond |η| > 30."""
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(eta))
    return np.where(np.abs(eta) > 30, _EPSILON, e / (1 + e) ** 2)


def _xlogx(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(x), 0.0)


def _solve(gram: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``gram⁻¹ right``, scaled to a unit diagonal first (the weighted sums of squares differ by orders)."""
    scale = 1 / np.sqrt(np.diag(gram))
    scaled = scale[:, None] * right if right.ndim == 2 else scale * right
    solved = np.linalg.solve(gram * np.outer(scale, scale), scaled)
    return scale[:, None] * solved if right.ndim == 2 else scale * solved


@dataclass(frozen=True)
class _Fit:
    coefficients: np.ndarray
    mu: np.ndarray  # the final mean of every pattern
    slope: np.ndarray  # dμ/dη there (1 for the identity link)
    factor: np.ndarray  # the last iteration's working weight over the prior weight, of every pattern or row
    factor_of_rows: bool  # whether ``factor`` is per row (a fit that stops at its first iteration) or per pattern
    gram: np.ndarray  # the last iteration's weighted information
    iterations: int


def _irls(family: str, patterns: np.ndarray, codes: np.ndarray | None, y, prior, outcome: str) -> _Fit:
    """R's ``glm.fit`` on the rows whose model-matrix rows are ``patterns[codes]`` (``patterns`` itself when
    ``codes`` is None).

    The starting mean is ``y`` (gaussian) or ``(prior y + 1/2) / (prior + 1)`` (logistic), row by row; every
    iteration solves the weighted least squares of the working response, and the iterations stop when the deviance
    changes by less than ``TOLERANCE`` relatively (``|dev - old| / (|dev| + 0.1)``); a deviance that is not finite
    halves the step towards the previous coefficients, as R does. After the first iteration the mean is the same
    in all rows of a pattern, so the weighted least squares need the patterns' sums of the prior weights and of
    the prior weights times the outcome only. R keeps the working weights of the last iteration, computed before
    its update: so does this, for the standard errors rest on them.
    """
    logistic = family != "gaussian"
    m = len(patterns)

    def total(values):
        return values if codes is None else np.bincount(codes, values, m)

    prior_sum, outcome_sum = total(prior), total(prior * y)
    if logistic:
        mu = (prior * y + 0.5) / (prior + 1)
        log_mu, log_complement = np.log(mu), np.log1p(-mu)
        eta = log_mu - log_complement
        # dμ/dη = μ (1 - μ) where the start lies (R's mu.eta departs from it only beyond |η| > 30)
        slope = factor = mu * (1 - mu)
        weight_sum, working_sum = total(prior * factor), total(prior * (factor * eta + (y - mu)))
        # R's deviance 2 Σ prior (y log(y/μ) + (1-y) log((1-y)/(1-μ))): its part free of μ (0 for a 0/1 outcome),
        # then the rest by pattern
        fractional = (y > 0) & (y < 1)
        constant = 2 * (prior[fractional] * (_xlogx(y[fractional]) + _xlogx(1 - y[fractional]))).sum()
        old = constant - 2 * (prior * (y * log_mu + (1 - y) * log_complement)).sum()
    else:
        factor = np.ones(len(y))
        weight_sum, working_sum = prior_sum, outcome_sum
        old = 0.0  # R starts from μ = y
    factor_of_rows, previous = True, None

    def deviance(coefficients):
        eta = patterns @ coefficients
        if not logistic:
            fitted = eta if codes is None else eta[codes]
            return eta, eta, float((prior * (y - fitted) ** 2).sum())
        mu = _logistic_mean(eta)
        with np.errstate(divide="ignore"):
            loss = outcome_sum * np.log(mu) + (prior_sum - outcome_sum) * np.log1p(-mu)
        return eta, mu, float(constant - 2 * loss.sum())

    for iteration in range(1, MAX_ITERATIONS + 1):
        gram = patterns.T @ (patterns * weight_sum[:, None])
        coefficients = _solve(gram, patterns.T @ working_sum)
        eta, mu, dev = deviance(coefficients)
        halvings = 0
        while not np.isfinite(dev) and previous is not None and halvings < MAX_ITERATIONS:
            halvings += 1
            coefficients = (coefficients + previous) / 2
            eta, mu, dev = deviance(coefficients)
        if not np.isfinite(dev):
            break
        if abs(dev - old) / (abs(dev) + 0.1) < TOLERANCE:
            slope = _logistic_slope(eta) if logistic else np.ones(m)
            return _Fit(coefficients, mu, slope, factor, factor_of_rows, gram, iteration)
        old, previous = dev, coefficients
        if logistic:
            slope = _logistic_slope(eta)
            factor = slope**2 / (mu * (1 - mu))
            weight_sum = prior_sum * factor
            working_sum = factor * (prior_sum * eta + (outcome_sum - prior_sum * mu) / slope)
        else:
            factor = np.ones(m)
        factor_of_rows = codes is None
    raise EstimationError(
        "no_convergence",
        "the regression of {column} did not converge in {iterations} iterations (does a predictor separate its "
        "values?)",
        column=outcome,
        iterations=MAX_ITERATIONS,
    )


# --- the covariance ------------------------------------------------------------------------------------------------


def _covariance_from_variances(design: Design, influence: np.ndarray) -> np.ndarray:
    """The design covariance of the columns of ``influence`` (n × k) from ``Design.variances`` alone: the
    variances of the columns, then of the sums of every pair of them divided by their standard errors
    (``Var(a + b) = 2 + 2 ρ``)."""
    variances = np.maximum(design.variances(influence), 0.0)
    k = influence.shape[1]
    se = np.sqrt(variances)
    scaled = influence / np.where(se > 0, se, 1.0)
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k) if se[i] > 0 and se[j] > 0]
    covariance = np.diag(variances)
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        sums = np.column_stack([scaled[:, i] + scaled[:, j] for i, j in chunk])
        for (i, j), variance in zip(chunk, design.variances(sums)):
            covariance[i, j] = covariance[j, i] = (variance - 2) / 2 * se[i] * se[j]
    return covariance


def _sandwich(design: Design, fit: _Fit, patterns, codes, rows, residual) -> np.ndarray:
    """The coefficients' design covariance: the rows' estimating functions ``x_i w_i (y_i - μ_i) / (dμ/dη)``
    (``residual``, times the pattern's ``x_i``) through the inverse information, then the design covariance of
    these influence columns (R's ``svy.varcoef``).

    With few patterns and no calibration the design covariance is taken of one sparse column per pattern (each
    row's residual in its pattern's column) and carried to the coefficients by the patterns' rows: the same
    covariance, since it is bilinear, from n values instead of n × k."""
    n = len(design.data)
    through = patterns @ _solve(fit.gram, np.eye(patterns.shape[1]))  # every pattern's influence per unit residual
    covariance = getattr(design, "covariance", None)  # Design.covariance, where the design has it
    small = len(patterns) <= (through.shape[1] if design.calibrations else _PATTERN_COLUMNS)
    if covariance is not None and codes is not None and small:
        order = np.argsort(codes.astype(np.int16), kind="stable")  # a radix sort: the patterns are few
        starts = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(patterns)))])
        columns = sparse.csc_matrix((residual[order], rows[order], starts), shape=(n, len(patterns)))
        result = through.T @ np.asarray(covariance(columns)) @ through
    else:
        influence = np.zeros((n, through.shape[1]))
        influence[rows] = residual[:, None] * (through if codes is None else through[codes])
        result = (
            np.asarray(covariance(influence))
            if covariance is not None
            else _covariance_from_variances(design, influence)
        )
    return (result + result.T) / 2


def _degf(design: Design, rows: np.ndarray) -> int:
    """R's ``degf()`` of the design subset to ``rows``: its first-stage PSUs minus strata with a non-zero weight."""
    stage = design.first_stage()
    psus = np.bincount(stage.row_psu[rows & (design.weights != 0)], minlength=len(stage.psu_stratum)) > 0
    return int(psus.sum() - (np.bincount(stage.psu_stratum[psus], minlength=len(stage.psus)) > 0).sum())


def _fit(design, y, domain, outcome, predictors, family, confidence, interval, domain_label=None) -> Regression:
    data = design.data
    terms, present, values = _terms(data, predictors, domain & np.isfinite(y))
    names = [_INTERCEPT, *(name for term in terms for name in term.names)]
    columns = ["", *(term.column for term in terms for _ in term.names)]
    # R rescales the weights to their mean over the design's rows (a subset without calibration loses its other
    # rows; a calibrated one keeps them with weight 0): the starting mean of a logistic fit depends on it
    if domain.all():
        prior = design.weights / design.weights.mean()
    else:
        scope = domain if not design.calibrations else np.ones(len(data), dtype=bool)
        domain_weights = np.where(domain, design.weights, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):  # a domain without weight: no row left, an error below
            prior = domain_weights / domain_weights[scope].mean()
    rows = np.flatnonzero(present & (prior > 0))
    take = slice(None) if len(rows) == len(data) else rows  # every row, without copying
    if not len(rows):
        if domain_label is not None:
            raise EstimationError(
                "empty_domain", "domain {domain} has no respondent with a weight", domain=domain_label
            )
        raise EstimationError(
            "no_complete_rows", "no row with a weight has a value in {column} and every predictor", column=outcome
        )
    response, weights = y[take], prior[take]
    if family != "gaussian":
        outside = (response < 0) | (response > 1)
        if outside.any():
            row = int(rows[np.flatnonzero(outside)[0]])
            raise EstimationError(
                "outcome_out_of_range",
                "the outcome {column} of a logistic regression must be between 0 and 1: row {row} holds {value}",
                column=outcome,
                row=row,
                value=str(data[outcome].iloc[row]),
            )
    patterns, codes = _patterns(terms, values, rows, take)
    _check_rank(patterns, weights if codes is None else np.bincount(codes, weights, len(patterns)), names, columns)
    fit = _irls(family, patterns, codes, response, weights, outcome)

    def spread(per_pattern):
        return per_pattern if codes is None else per_pattern[codes]

    deviation = response - spread(fit.mu)
    if fit.factor_of_rows:
        residual = weights * (fit.factor / spread(fit.slope)) * deviation
    else:
        residual = weights * spread(fit.factor / fit.slope) * deviation
    covariance = _sandwich(design, fit, patterns, codes, rows, residual)

    coefficients = fit.coefficients
    se = np.sqrt(np.maximum(np.diag(covariance), 0.0))
    degf = _degf(design, present) + 1 - len(names)
    statistic = coefficients / se
    with np.errstate(invalid="ignore"):
        p = 2 * t.sf(np.abs(statistic), degf) if degf > 0 else np.full(len(names), np.nan)
        if interval == "normal":
            quantile = norm.ppf(0.5 + confidence / 2)
        else:
            quantile = t.ppf(0.5 + confidence / 2, degf) if degf > 0 else np.nan
    # summary.svyglm's dispersion: svyvar() of the Pearson residuals, n / (n - 1) with n the rows in the fit
    pearson = deviation * spread(1 / np.sqrt(fit.mu * (1 - fit.mu))) if family != "gaussian" else deviation
    m, weighted = len(response), weights * pearson
    centre = weighted.sum() / weights.sum()
    spread_sum = weighted @ pearson - centre * weighted.sum()  # Σ w (r - r̄)²
    dispersion = float(spread_sum / weights.sum() * m / (m - 1)) if m > 1 else np.nan
    index = pd.Index(names, name="term")
    return Regression(
        coefficients=pd.DataFrame(
            {
                "estimate": coefficients,
                "se": se,
                "t": statistic,
                "p": p,
                "ci_low": coefficients - quantile * se,
                "ci_high": coefficients + quantile * se,
            },
            index=index,
        ),
        covariance=pd.DataFrame(covariance, index=index, columns=index),
        degf=int(degf),
        dispersion=dispersion,
        iterations=fit.iterations,
        converged=True,
        family=family,
        outcome=outcome,
        n=int(present.sum()),
        terms=terms,
    )
