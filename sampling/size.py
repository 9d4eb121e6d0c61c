"""Sample sizes for a proportion or a mean at a stated precision."""

from __future__ import annotations

import math

from scipy.stats import norm

from sampling._errors import SamplingError


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (1.959964 for 0.95).

    R: ``qnorm(1 - (1 - confidence) / 2)``."""
    if not 0 < confidence < 1:
        raise SamplingError(
            "invalid_confidence", "confidence must be in (0, 1), got {confidence}", confidence=confidence
        )
    return float(norm.ppf(0.5 + confidence / 2))


def _finish(n0: float, population: float | None, deff: float, response_rate: float) -> int:
    if deff <= 0:
        raise SamplingError("invalid_deff", "the design effect must be positive, got {deff}", deff=deff)
    if not 0 < response_rate <= 1:
        raise SamplingError(
            "invalid_response_rate", "the response rate must be in (0, 1], got {rate}", rate=response_rate
        )
    n = n0 * deff
    if population is not None:
        if population <= 0:
            raise SamplingError(
                "invalid_population", "the population must be positive, got {population}", population=population
            )
        n = n / (1 + (n - 1) / population)
    n = n / response_rate
    # the float noise of the formula must not add a respondent: 384.00000001 is 384
    return int(math.ceil(round(n, 9)))


def sample_size_proportion(
    margin: float,
    *,
    proportion: float = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
    population: float | None = None,
    response_rate: float = 1.0,
) -> int:
    """The number of invitations needed to estimate a proportion within ``margin``.

    R: ``PracTools::nProp(V0 = (margin / z)^2, N = population, pU = proportion)`` times ``deff``, divided by the
    response rate and rounded up.

    Parameters
    ----------
    margin : float
        Half-width of the confidence interval, as a proportion (0.05 for ±5 points).
    proportion : float
        The expected proportion; 0.5 gives the largest, safest size.
    confidence : float
        Confidence level of the interval.
    deff : float
        Design effect of the sample design (clustering, unequal weights).
    population : float, optional
        Population size, for the finite population correction.
    response_rate : float
        Expected share of invitees who answer; the size is inflated by its inverse.

    Returns
    -------
    int
        The size, rounded up.

    Notes
    -----
    ``n0 = z² p (1 - p) / e²``, times ``deff``; with a population ``N``, ``n = n0 / (1 + (n0 - 1) / N)``
    (Cochran 1977, eq. 4.2); then ``n / response_rate``, rounded up.

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., §4.4. Wiley.
    """
    if not 0 < margin < 1:
        raise SamplingError("invalid_margin", "the margin must be in (0, 1), got {margin}", margin=margin)
    if not 0 < proportion < 1:
        raise SamplingError(
            "invalid_proportion", "the proportion must be in (0, 1), got {proportion}", proportion=proportion
        )
    z = z_value(confidence)
    return _finish(z * z * proportion * (1 - proportion) / (margin * margin), population, deff, response_rate)


def sample_size_mean(
    margin: float,
    sd: float,
    *,
    confidence: float = 0.95,
    deff: float = 1.0,
    population: float | None = None,
    response_rate: float = 1.0,
) -> int:
    """The number of invitations needed to estimate a mean within ``margin`` (in the variable's units).

    R: ``PracTools::nCont(e = margin / z, S2 = sd^2, N = population)`` times ``deff``, divided by the response
    rate and rounded up.

    ``n0 = z² σ² / e²``, then as :func:`sample_size_proportion`.
    """
    if margin <= 0 or sd <= 0:
        raise SamplingError(
            "invalid_margin", "margin and sd must be positive, got {margin} and {sd}", margin=margin, sd=sd
        )
    z = z_value(confidence)
    return _finish((z * sd / margin) ** 2, population, deff, response_rate)


def margin_of_error(
    n: float, *, proportion: float = 0.5, confidence: float = 0.95, deff: float = 1.0, population: float | None = None
) -> float:
    """The margin of error of a proportion estimated from ``n`` respondents (inverse of the size formula,
    with the finite population correction ``1 - n / N``). R: ``z * sqrt(deff * p * (1 - p) / n * (1 - n / N))``."""
    if n <= 0:
        return math.inf
    fpc = 1.0 if population is None else max(0.0, 1 - n / population)
    return z_value(confidence) * math.sqrt(deff * proportion * (1 - proportion) / n * fpc)
