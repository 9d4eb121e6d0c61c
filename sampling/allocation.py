"""Allocating a total sample across strata, in whole numbers that add up to the total exactly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from sampling._errors import SamplingError
from sampling.size import z_value

METHODS = ("equal", "proportional", "neyman", "power")


@dataclass
class Allocation:
    """An allocation: per stratum its population, its size and the precision that size gives.

    ``table`` has one row per stratum with the columns ``population``, ``size`` and ``margin_of_error``
    (the expected half-width of a 95% interval for a proportion of 0.5 from the stratum's respondents).
    """

    method: str
    table: pd.DataFrame
    proportion: float
    confidence: float
    deff: float
    response_rate: float

    @property
    def sizes(self) -> pd.Series:
        return self.table["size"]

    def margin_by(self, groups: Mapping | pd.Series) -> pd.Series:
        """The expected margin of error of a group of strata (a province made of its urban/rural × sex ×
        age strata, say), from the stratified estimator's variance ``Σ W_h² p(1-p)(1-f_h) / n_h``.

        :param groups: the group of every stratum, indexed like the allocation
        """
        groups = pd.Series(groups).reindex(self.table.index)
        if groups.isna().any():
            missing = list(groups[groups.isna()].index[:5])
            raise SamplingError("unknown_stratum", "no group for strata {strata}", strata=missing)
        # grouped by the values, not by a column added to the table: a stratum column may have any name
        group = groups.to_numpy()
        table = self.table
        respondents = table["size"] * self.response_rate
        pq = self.proportion * (1 - self.proportion)
        population = table["population"].groupby(group).transform("sum")
        share = table["population"] / population
        fpc = (1 - respondents / table["population"]).clip(lower=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(respondents > 0, share**2 * pq * fpc / respondents, np.where(share > 0, np.inf, 0))
        variance = pd.Series(part, index=table.index).groupby(group).sum() * self.deff
        return z_value(self.confidence) * np.sqrt(variance)


def _bounded_shares(total: float, weights: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A real allocation proportional to ``weights`` within [low, high] summing to ``total``: strata that
    cross a bound are fixed at it and the rest is shared again until none does."""
    fixed = np.full(len(weights), np.nan)
    while True:
        free = np.isnan(fixed)
        remaining = total - np.nansum(fixed)
        free_weights = weights[free]
        if free_weights.sum() > 0:
            sizes = remaining * free_weights / free_weights.sum()
        else:
            sizes = np.full(free.sum(), remaining / max(free.sum(), 1))
        values = fixed.copy()
        values[free] = sizes
        below = free & (values < low - 1e-12)
        above = free & (values > high + 1e-12)
        if not below.any() and not above.any():
            return values
        # fix the side that is further out of bounds first: fixing both at once can overshoot
        if (low - values)[below].sum() >= (values - high)[above].sum():
            fixed[below] = low[below]
        else:
            fixed[above] = high[above]


def _largest_remainder(values: np.ndarray, total: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    sizes = np.clip(np.floor(values + 1e-9), low, high).astype(np.int64)
    short = total - int(sizes.sum())
    if short > 0:
        remainders = np.where(sizes < high, values - sizes, -np.inf)
        order = np.argsort(-remainders, kind="stable")[:short]
        sizes[order] += 1
    return sizes


def allocate(
    population: Mapping | pd.Series,
    total: int,
    method: str = "proportional",
    *,
    sd: Mapping | pd.Series | None = None,
    power: float = 0.5,
    minimum: int = 0,
    maximum: int | None = None,
    proportion: float = 0.5,
    confidence: float = 0.95,
    deff: float = 1.0,
    response_rate: float = 1.0,
) -> Allocation:
    """Allocate ``total`` across strata.

    Parameters
    ----------
    population : mapping or Series
        Population count of every stratum.
    total : int
        The total sample size to allocate.
    method : {"equal", "proportional", "neyman", "power"}
        Equal sizes; sizes proportional to ``N_h``; to ``N_h S_h`` (Neyman, needs ``sd``); or to ``N_h ** power``
        (power allocation: 0 is equal, 1 proportional; between them small strata keep usable samples).
    sd : mapping or Series, optional
        Standard deviation of the study variable in every stratum, for Neyman allocation. A stratum with a
        standard deviation of 0 gets only its ``minimum`` (more only when the other strata are full, the rest
        then shared equally); at least one stratum with a population must have one above 0.
    power : float
        The exponent of power allocation, in [0, 1].
    minimum, maximum : int
        Bounds on every stratum's size; a stratum never gets more than its population.
    proportion, confidence, deff, response_rate
        What the expected margins of error assume.

    Returns
    -------
    Allocation
        Whole-number sizes that add up to ``total`` exactly and respect the bounds.

    Raises
    ------
    SamplingError
        ``zero_deviations`` for Neyman allocation of a positive total when every stratum's standard deviation
        is 0 (or every stratum with one above 0 is empty): ``N_h S_h / Σ N_h S_h`` is then 0 / 0. No size is
        better than another for the variance, so rather than fall back on equal (or proportional) sizes
        silently, the designer is told: standard deviations of 0 everywhere usually mean a pilot with one
        respondent per stratum or a wrong column, and when they are right a proportional or power
        allocation says what is wanted. Among the other codes: ``missing_sd``, ``invalid_sd``,
        ``total_exceeds_population``, ``minimum_exceeds_total``, ``maximum_below_total``.

    Notes
    -----
    R: ``PracTools::strAlloc(n.tot = total, Nh = population, Sh = sd, alloc = "neyman")`` gives the real
    Neyman sizes ``n N_h S_h / Σ N_h S_h``, without bounds or rounding; it stops with an error when any
    ``S_h`` (or ``N_h``) is 0. Here a stratum with ``S_h`` = 0 is allowed (see ``sd``), and only the case
    with nothing to be proportional to raises.

    Strata whose share falls outside the bounds are fixed at the bound and the rest is shared again among
    the others until no stratum crosses a bound. The real sizes are then rounded by the largest-remainder
    rule: every stratum gets the whole part, and the units left go to the largest fractional parts (ties to
    the stratum listed first).

    References
    ----------
    Bankier, M. D. (1988). Power allocations: determining sample sizes for subnational areas. *The American
    Statistician* 42(3), 174-177.
    """
    counts = pd.Series(population, dtype=float)
    if counts.empty:
        raise SamplingError("empty_frame", "the frame has no stratum")
    if counts.isna().any() or (counts < 0).any():
        bad = counts[counts.isna() | (counts < 0)].index[0]
        raise SamplingError(
            "invalid_stratum_count",
            "stratum {stratum} has an invalid population count {count}",
            stratum=bad,
            count=counts[bad],
        )
    if method not in METHODS:
        raise SamplingError("unknown_method", "unknown allocation method {method}", method=method)
    if total < 0 or int(total) != total:
        raise SamplingError("invalid_total", "the total must be a whole number, got {total}", total=total)
    total = int(total)
    if total > counts.sum():
        raise SamplingError(
            "total_exceeds_population",
            "a total of {total} exceeds the population of {population:g}",
            total=total,
            population=counts.sum(),
        )

    if method == "equal":
        weights = np.ones(len(counts))
    elif method == "proportional":
        weights = counts.to_numpy()
    elif method == "power":
        if not 0 <= power <= 1:
            raise SamplingError("invalid_power", "the power must be in [0, 1], got {power}", power=power)
        weights = counts.to_numpy() ** power
    else:
        if sd is None:
            raise SamplingError("missing_sd", "Neyman allocation needs the standard deviation of every stratum")
        deviations = pd.Series(sd, dtype=float).reindex(counts.index)
        if deviations.isna().any() or (deviations < 0).any():
            bad = deviations[deviations.isna() | (deviations < 0)].index[0]
            raise SamplingError("invalid_sd", "stratum {stratum} has no valid standard deviation", stratum=bad)
        weights = counts.to_numpy() * deviations.to_numpy()
    weights = np.where(counts.to_numpy() > 0, weights, 0.0)
    if method == "neyman" and total > 0 and not weights.sum() > 0:
        # N_h S_h / Σ N_h S_h is 0 / 0: no share to follow, and equal sizes would be a guess nobody asked for
        raise SamplingError(
            "zero_deviations",
            "Neyman allocation needs a standard deviation above 0 in at least one of the {strata} strata",
            strata=len(counts),
        )

    high = counts.to_numpy() if maximum is None else np.minimum(counts.to_numpy(), maximum)
    low = np.minimum(counts.to_numpy(), minimum)
    if low.sum() > total:
        raise SamplingError(
            "minimum_exceeds_total",
            "a minimum of {minimum} in each of {strata} strata needs {needed:g}, more than the total {total}",
            minimum=minimum,
            strata=len(counts),
            needed=low.sum(),
            total=total,
        )
    if high.sum() < total:
        raise SamplingError(
            "maximum_below_total",
            "a maximum of {maximum} per stratum allows {allowed:g}, less than the total {total}",
            maximum=maximum,
            allowed=high.sum(),
            total=total,
        )
    values = _bounded_shares(float(total), weights.astype(float), low.astype(float), high.astype(float))
    sizes = _largest_remainder(values, total, low, high)

    table = pd.DataFrame({"population": counts, "size": sizes}, index=counts.index)
    respondents = table["size"] * response_rate
    z = z_value(confidence)
    fpc = (1 - respondents / table["population"].where(table["population"] > 0)).clip(lower=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["margin_of_error"] = np.where(
            respondents > 0, z * np.sqrt(deff * proportion * (1 - proportion) / respondents * fpc), math.inf
        )
    return Allocation(method, table, proportion, confidence, deff, response_rate)
