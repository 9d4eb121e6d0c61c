"""Designs whose variances come from replicate weights, as R's ``svrepdesign`` and ``as.svrepdesign``: the
jackknife of a ``Design``'s first stage, and estimates from the replicates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis._columns import labels, numeric
from analysis._errors import EstimationError

if TYPE_CHECKING:
    from analysis.design import Design


def jackknife(design: Design, recalibrate: Callable[[np.ndarray], np.ndarray] | None = None) -> ReplicateDesign:
    """The delete-one-PSU jackknife of this design's first stage.

    R: ``as.svrepdesign(design, type = "JKn")`` (``"JK1"`` for an unstratified design, which is the same).

    Parameters
    ----------
    design : Design
        The design whose first stage is resampled.
    recalibrate : callable, optional
        Turns a replicate's base weights into its final weights, repeating the design's weighting
        adjustments; without it the replicates scale the final weights directly.

    Returns
    -------
    ReplicateDesign
        One replicate per PSU of a stratum with two PSUs or more, with the scale
        ``(1 - f_h) (n_h - 1) / n_h`` (R's ``jknweights``: the fpc of the first stage multiplies the scale;
        later stages' fpcs are dropped, as R drops them with a warning); a stratum sampled whole has no
        replicate. A stratum with a single PSU has none either under ``lonely_psu="certainty"``; under
        ``"adjust"`` it has one that drops its PSU and multiplies every other PSU's weight by
        ``H / (H - 1)``, with the scale ``(H - 1) / H`` for ``H`` strata, as R's ``jknweights`` does with
        ``options(survey.lonely.psu = "adjust")`` (which is not the linearisation's centring on the grand
        mean, so the two standard errors differ).
    """
    stage = design.first_stage()
    base = design.weights
    if recalibrate is not None and design.calibrations:
        base = design.calibrations[0].base_weights
    row_stratum = stage.psu_stratum[stage.row_psu]
    n_strata = len(stage.psus)
    replicates, scales = [], []
    for psu in range(len(stage.psu_stratum)):
        stratum = stage.psu_stratum[psu]
        n_h = stage.psus[stratum]
        if stage.unsampled[stratum] <= 0 or (n_h < 2 and stage.centred[stratum]):
            continue  # sampled whole, or a lonely PSU taken with certainty
        if n_h < 2:  # a lonely PSU under "adjust" (not centred)
            factor = np.where(row_stratum == stratum, 0.0, n_strata / (n_strata - 1))
            scale = (n_strata - 1) / n_strata
        else:
            factor = np.where(row_stratum == stratum, n_h / (n_h - 1), 1.0)
            factor[stage.row_psu == psu] = 0.0
            scale = stage.unsampled[stratum] * (n_h - 1) / n_h
        replicate = base * factor
        replicates.append(recalibrate(replicate) if recalibrate is not None else replicate)
        scales.append(scale)
    if not replicates:  # R: "All strata were exhaustively sampled"
        raise EstimationError("no_replicates", "every stratum was sampled whole: no replicate can vary")
    return ReplicateDesign(design.data, design.weights, np.column_stack(replicates), np.array(scales))


class ReplicateDesign:
    """A design whose variances come from replicate weights: ``Σ_r scale_r (θ_r - θ̄)²`` with θ̄ the mean of
    the replicates (R's default, ``mse = FALSE``)."""

    def __init__(self, data: pd.DataFrame, weights: np.ndarray, replicates: np.ndarray, scales: np.ndarray):
        self.data = data
        self.weights = weights
        self.replicates = replicates
        self.scales = scales

    def degf(self) -> int:
        """The degrees of freedom: the rank of the replicate weights minus 1.

        R: ``degf(repdesign)`` (``survey:::degf.svyrep.design``: ``qr(weights(design, "analysis"), tol = 1e-5)$rank
        - 1`` when the design stores no ``degf``).
        """
        return int(np.linalg.matrix_rank(self.replicates)) - 1

    def _variance(self, statistic: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        full = statistic(self.weights)
        thetas = np.array([statistic(self.replicates[:, r]) for r in range(self.replicates.shape[1])])
        centre = thetas.mean(axis=0)
        return full, (self.scales[:, None] * (thetas - centre) ** 2).sum(axis=0)

    def _table(self, estimates, variances, counts, index, confidence):
        se = np.sqrt(variances)
        z = norm.ppf(0.5 + confidence / 2)
        return pd.DataFrame(
            {
                "estimate": estimates,
                "se": se,
                "ci_low": estimates - z * se,
                "ci_high": estimates + z * se,
                "deff": np.nan,
                "n": counts.astype(int),
            },
            index=index,
        )

    def _prepared(self, column: str, by: str | None):
        y = numeric(self.data, column)
        valid = np.isfinite(y)
        codes, domains = labels(self.data[by]) if by else (np.zeros(len(y), dtype=np.int64), pd.Index([column]))
        counts = np.bincount(codes, (valid & (self.weights > 0)).astype(float), len(domains))
        return np.where(valid, y, 0.0), valid, codes, pd.Index(domains, name=by or "variable"), counts

    def mean(self, column: str, *, by: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """The mean of a numeric column from the replicates, by domain. R: ``svymean(~column, repdesign)``.

        Raises ``EstimationError`` ``not_numeric`` when a value is text that is not a number, as ``Design.mean``.
        """
        y, valid, codes, domains, counts = self._prepared(column, by)
        k = len(domains)

        def statistic(weights):
            w = np.where(valid, weights, 0.0)
            return np.bincount(codes, w * y, k) / np.bincount(codes, w, k)

        estimates, variances = self._variance(statistic)
        return self._table(estimates, variances, counts, domains, confidence)

    def total(self, column: str, *, by: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """The total of a numeric column from the replicates, by domain. R: ``svytotal(~column, repdesign)``.

        Raises ``EstimationError`` ``not_numeric`` when a value is text that is not a number, as ``Design.total``.
        """
        y, valid, codes, domains, counts = self._prepared(column, by)
        k = len(domains)
        estimates, variances = self._variance(lambda weights: np.bincount(codes, np.where(valid, weights, 0) * y, k))
        return self._table(estimates, variances, counts, domains, confidence)
