"""Drawing invitees from a list frame, reproducibly from a seed, with their inclusion probabilities."""

from __future__ import annotations

import zlib
from typing import Mapping

import numpy as np
import pandas as pd

from sampling._errors import SamplingError

METHODS = ("srs", "systematic", "pps_systematic")
PROBABILITY = "inclusion_probability"


def _srs(n: int, population: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    chosen = np.sort(rng.choice(population, size=n, replace=False))
    return chosen, np.full(n, n / population)


def _systematic(n: int, population: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    interval = population / n
    start = rng.uniform(0, interval)
    chosen = np.floor(start + interval * np.arange(n)).astype(np.int64)
    return chosen, np.full(n, n / population)


def pps_probabilities(size: np.ndarray, n: int) -> np.ndarray:
    """Inclusion probabilities proportional to size for a sample of ``n``.

    Units whose probability would reach 1 are taken with certainty (probability 1) and the rest of the sample
    is shared again among the others in proportion to their sizes, until no probability passes 1; the
    probabilities then add up to ``n``. A unit of size 0 gets probability 0.

    Parameters
    ----------
    size : array
        The size measure of every unit, finite and not negative.
    n : int
        The sample size, a whole number from 0 to the number of units with a positive size.

    Returns
    -------
    array
        One probability in [0, 1] per unit, adding up to ``n``.

    Raises
    ------
    SamplingError
        ``invalid_size`` naming the first unit (``row``, its position) with a negative or missing size;
        ``invalid_total`` for a negative or fractional ``n``; ``sample_exceeds_sized_units`` when ``n`` is more
        than the number of units with a positive size, so that no probabilities can add up to it.

    Notes
    -----
    R: ``sampling::inclusionprobabilities(size, n)``, which for an ``n`` above the units with a positive size
    returns probabilities adding up to less than ``n`` (and shifts negative sizes to 0 with a warning); we
    raise instead.
    """
    size = np.asarray(size, dtype=float)
    invalid = ~np.isfinite(size) | (size < 0)
    if invalid.any():
        row = int(np.flatnonzero(invalid)[0])
        raise SamplingError(
            "invalid_size", "row {row} has an invalid size measure {value}", row=row, value=float(size[row])
        )
    if not np.isfinite(n) or n < 0 or int(n) != n:
        raise SamplingError("invalid_total", "the total must be a whole number, got {total}", total=n)
    sized = int((size > 0).sum())
    if n > sized:
        raise SamplingError(
            "sample_exceeds_sized_units",
            "a sample of {n} needs as many units with a positive size, but there are {units}",
            n=int(n),
            units=sized,
        )
    probability = np.zeros(len(size))
    certain = np.zeros(len(size), dtype=bool)
    while True:
        remaining = n - certain.sum()
        rest = size[~certain].sum()
        probability[~certain] = remaining * size[~certain] / rest if rest > 0 else 0.0
        newly = ~certain & (probability >= 1)
        if not newly.any():
            break
        certain |= newly
        probability[certain] = 1.0
    return probability


def _pps_systematic(n: int, size: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    probability = pps_probabilities(size, n)
    certain = np.flatnonzero(probability >= 1)
    others = np.flatnonzero(probability < 1)
    m = n - len(certain)
    chosen = certain
    if m > 0:
        cumulative = np.cumsum(probability[others])  # adds up to m: a systematic draw with interval 1
        points = rng.uniform(0, 1) + np.arange(m)
        chosen = np.concatenate([certain, others[np.searchsorted(cumulative, points, side="right")]])
    chosen = np.sort(chosen)
    return chosen, probability[chosen]


def select(
    frame: pd.DataFrame,
    n: int | Mapping,
    *,
    method: str = "srs",
    strata: str | list[str] | None = None,
    size: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Select units from a list frame.

    R: ``sampling::srswor`` / ``sampling::strata(method = "srswor")`` for simple random sampling,
    ``sampling::UPsystematic`` on ``sampling::inclusionprobabilities`` for PPS systematic (R's draws come from
    R's random numbers, so the samples differ; the inclusion probabilities are the same).

    Parameters
    ----------
    frame : DataFrame
        One row per unit that can be invited.
    n : int or mapping
        The sample size; with ``strata``, a mapping from every stratum (a tuple for several columns) to its size,
        as :func:`sampling.allocate` gives.
    method : {"srs", "systematic", "pps_systematic"}
        Simple random sampling without replacement; systematic sampling with a random start in frame order
        (sort the frame first for implicit stratification); systematic sampling with probability proportional
        to ``size`` (units above the interval taken with certainty).
    strata : str or list of str, optional
        Columns that define the strata; each stratum is drawn independently.
    size : str, optional
        Column of the size measure, for ``pps_systematic``.
    seed : int
        The same seed, frame and sizes draw the same sample.

    Returns
    -------
    DataFrame
        The selected rows in frame order, with a column ``inclusion_probability``.
    """
    if method not in METHODS:
        raise SamplingError("unknown_method", "unknown selection method {method}", method=method)
    if method == "pps_systematic":
        if size is None or size not in frame.columns:
            raise SamplingError("missing_size", "PPS selection needs a size column")
        measure = pd.to_numeric(frame[size], errors="coerce")
        if measure.isna().any() or (measure <= 0).any():
            position = int(np.flatnonzero((measure.isna() | (measure <= 0)).to_numpy())[0])
            raise SamplingError(
                "invalid_size",
                "row {row} has no positive size measure: {value}",
                row=frame.index[position],
                value=frame[size].iloc[position],
            )
    rng = np.random.default_rng(seed)
    if strata is None:
        groups = {None: np.arange(len(frame))}
        sizes = {None: n}
    else:
        columns = [strata] if isinstance(strata, str) else list(strata)
        groups = {
            key: idx
            for key, idx in frame.groupby(columns if len(columns) > 1 else columns[0], sort=True).indices.items()
        }
        sizes = dict(n)
        unknown = [key for key in sizes if key not in groups and sizes[key] > 0]
        if unknown:
            raise SamplingError("empty_stratum", "stratum {stratum} has no unit in the frame", stratum=unknown[0])
    chosen_rows, probabilities = [], []
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        rows = groups[key]
        k = int(sizes.get(key, 0))
        if k == 0:
            continue
        if k > len(rows):
            raise SamplingError(
                "size_exceeds_stratum",
                "stratum {stratum} has {available} units, {n} asked",
                stratum=key,
                available=len(rows),
                n=k,
            )
        # each stratum draws from its own stream, so a change in one stratum leaves the others' draws alone
        stream = np.random.default_rng([seed, zlib.crc32(str(key).encode())]) if strata is not None else rng
        if method == "srs":
            picked, probability = _srs(k, len(rows), stream)
        elif method == "systematic":
            picked, probability = _systematic(k, len(rows), stream)
        else:
            picked, probability = _pps_systematic(k, measure.to_numpy()[rows], stream)
        chosen_rows.append(rows[picked])
        probabilities.append(probability)
    if not chosen_rows:
        return frame.iloc[0:0].assign(**{PROBABILITY: []})
    order = np.concatenate(chosen_rows)
    result = frame.iloc[order].assign(**{PROBABILITY: np.concatenate(probabilities)})
    return result.sort_index(kind="stable") if frame.index.is_monotonic_increasing else result
