"""Designs whose variances come from replicate weights, as R's ``svrepdesign`` and ``as.svrepdesign``: replicates
built from a ``Design``'s first stage (jackknife, balanced repeated replication, Fay's method, the bootstrap), a
design from replicate weights given with the data, and estimates from the replicates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from analysis._columns import check_domains, design_effect, domain_index, domains_of, numeric
from analysis._errors import EstimationError
from analysis._hadamard import hadamard
from analysis._intervals import estimates_table, interval_quantile

if TYPE_CHECKING:
    from analysis.design import Design

#: the replicates ``as_replicate_design`` builds, as R's ``as.svrepdesign(type = ...)``
BUILT_TYPES = ("JKn", "JK1", "BRR", "Fay", "bootstrap", "subbootstrap")
#: the kinds of replicate weights ``replicate_design`` takes, as R's ``svrepdesign(type = ...)``
GIVEN_TYPES = ("other", "JK1", "JKn", "BRR", "Fay", "bootstrap")
# --- replicates of a design's first stage ---------------------------------------------------------------


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
    return ReplicateDesign(design.data, design.weights, np.column_stack(replicates), np.array(scales), type="JKn")


def _psus_in_order(stage) -> list[np.ndarray]:
    """Per stratum, its PSUs in the order of their first row in the data (R numbers PSUs as they appear), the
    strata in the order of their labels as text (R's ``brrweights`` sorts ``as.character(strata)``)."""
    first_row = np.full(len(stage.psu_stratum), len(stage.row_psu))
    np.minimum.at(first_row, stage.row_psu, np.arange(len(stage.row_psu)))
    order = sorted(range(len(stage.psus)), key=lambda stratum: str(stage.strata[stratum]))
    return [
        np.flatnonzero(stage.psu_stratum == stratum)[np.argsort(first_row[stage.psu_stratum == stratum])]
        for stratum in order
    ]


def _brr_factors(stage, rho: float) -> np.ndarray:
    """PSUs × replicates: ``2 - rho`` for the half-sample a replicate keeps, ``rho`` for the other (R's
    ``brrweights``): replicate ``r`` keeps the first PSU of the ``j``-th stratum where row ``1 + j``, column
    ``r`` of ``hadamard(strata)`` is 1, the second where it is 0."""
    for stratum, count in enumerate(stage.psus):
        if count != 2:  # R: "Some strata have fewer than 2 PSUs" (more are split into pairs, which is not done here)
            raise EstimationError(
                "brr_psus",
                "BRR and Fay replicates need exactly 2 PSUs in every stratum: stratum {stratum} has {psus}",
                stratum=stage.strata[stratum],
                psus=int(count),
            )
    pairs = _psus_in_order(stage)
    h = hadamard(len(pairs))
    factors = np.empty((len(stage.psu_stratum), h.shape[1]))
    for j, (first, second) in enumerate(pairs):
        keeps_first = h[1 + j] == 1
        factors[first] = np.where(keeps_first, 2 - rho, rho)
        factors[second] = np.where(keeps_first, rho, 2 - rho)
    return factors


def _bootstrap_factors(stage, replicates: int, rng: np.random.Generator, subsample: bool) -> np.ndarray:
    """PSUs × replicates: how many times every PSU is drawn when every stratum's ``n_h`` PSUs are resampled
    (R's ``bootweights``): ``n_h`` of them with replacement, or, when the design has an fpc, ``n_h`` without
    replacement from ``N_h`` copies of them in turn (in a random order, so that which PSUs have one copy more is
    random). For the subbootstrap (R's ``subbootweights``) ``n_h - 1`` with replacement, times ``n_h / (n_h - 1)``."""
    factors = np.empty((len(stage.psu_stratum), replicates))
    for stratum in range(len(stage.psus)):
        psus = np.flatnonzero(stage.psu_stratum == stratum)
        n_h = len(psus)
        if subsample:
            if n_h < 2:  # R would divide by zero
                raise EstimationError(
                    "few_psus",
                    "replicates of type {type} need at least 2 PSUs in stratum {stratum}, which has {psus}",
                    type="subbootstrap",
                    stratum=stage.strata[stratum],
                    psus=n_h,
                )
            draws = rng.multinomial(n_h - 1, np.full(n_h, 1 / n_h), size=replicates) * n_h / (n_h - 1)
        elif stage.unsampled[stratum] >= 1:  # no fpc: with replacement
            draws = rng.multinomial(n_h, np.full(n_h, 1 / n_h), size=replicates)
        else:
            # N_h copies: R's rep(psus, length = N_h), which truncates a population size that is not whole
            population = int(np.floor(n_h / (1 - stage.unsampled[stratum]) + 1e-9))
            shuffled = rng.permutation(n_h)
            draws = np.array(
                [
                    np.bincount(shuffled[rng.choice(population, n_h, replace=False) % n_h], minlength=n_h)
                    for _ in range(replicates)
                ]
            )
        factors[psus] = draws.T
    return factors


def _check_rho(type: str, rho: float | None) -> float:
    if type == "Fay":
        if rho is not None and 0 <= rho < 1:
            return float(rho)
    elif rho is None:
        return 0.0
    raise EstimationError(
        "invalid_rho",
        "rho {rho} does not fit type {type}: Fay needs 0 <= rho < 1, other types none",
        rho=rho,
        type=type,
    )


def as_replicate_design(
    design: Design,
    type: str = "JKn",
    *,
    rho: float | None = None,
    replicates: int = 50,
    random_state: int | np.random.Generator | None = None,
    recalibrate: Callable[[np.ndarray], np.ndarray] | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """Replicate weights made from a design's first stage (its strata and PSUs).

    R: ``as.svrepdesign(design, type = type, fay.rho = rho, replicates = replicates, mse = mse)``.

    Parameters
    ----------
    design : Design
        The design whose first stage is resampled; later stages are not (their variance is carried by the PSUs).
    type : {"JKn", "JK1", "BRR", "Fay", "bootstrap", "subbootstrap"}
        ``"JKn"``: the stratified delete-one-PSU jackknife, ``jackknife(design, recalibrate)`` (R's ``jknweights``).
        ``"JK1"``: the same for a design without strata (R's ``jk1weights``: weights ``n / (n - 1)``, the scale
        ``(1 - f) (n - 1) / n`` with the first stage's fpc). ``"BRR"``: balanced repeated replication (R's
        ``brrweights``): every stratum must have exactly 2 PSUs; replicate ``r`` doubles the weights of one PSU of
        every stratum and zeroes the other's, as column ``r`` of ``hadamard(strata)`` says, with the scale
        ``1 / R``. ``"Fay"``: the same with ``2 - rho`` and ``rho`` instead of 2 and 0, and the scale
        ``1 / (R (1 - rho)^2)``. ``"bootstrap"``: R's ``bootweights``, each stratum's PSUs resampled ``n_h`` from
        ``n_h`` with replacement (without replacement from ``N_h`` copies of them when the design has an fpc),
        with the scale ``n / ((n - 1) (R - 1))`` for the harmonic mean ``n`` of the PSUs per stratum.
        ``"subbootstrap"``: R's ``subbootweights``, ``n_h - 1`` PSUs drawn with replacement, weights times
        ``n_h / (n_h - 1)``, the scale ``1 / (R - 1)``.
    rho : float, optional
        Fay's coefficient, ``0 <= rho < 1``; only with ``type="Fay"`` (``rho=0`` is BRR).
    replicates : int
        The number of bootstrap replicates (R's default 50); BRR and Fay have as many as the Hadamard matrix has
        columns, the jackknife one per PSU.
    random_state : int or numpy Generator, optional
        The seed of the bootstrap's draws. R's own draws cannot be reproduced: to use them, pass R's replicate
        weights to ``replicate_design``.
    recalibrate : callable, optional
        Turns a replicate's base weights (the first calibration's, when the design has calibrations) into its final
        weights, repeating the weighting adjustments; without it the replicates scale the final weights.
    mse : bool
        Centre the variance on the full-sample estimate instead of the replicates' mean (R's ``mse = TRUE``).

    Returns
    -------
    ReplicateDesign
        The design's data and weights with the replicate weights as columns.

    Raises
    ------
    EstimationError
        ``unknown_replicate_type``; ``invalid_rho`` for a ``rho`` outside [0, 1) with Fay, or given with another
        type; ``jk1_stratified`` for JK1 on a design with more than one stratum (R: "Can't use JK1 for a stratified
        design"); ``brr_psus`` naming a stratum without exactly 2 PSUs for BRR and Fay (R refuses fewer; it would
        split a stratum of an even number more into pairs, which is not done here); ``few_psus`` naming a stratum
        of 1 PSU for the subbootstrap, or the first stratum when no stratum has 2 PSUs for the bootstrap;
        ``invalid_replicates`` for fewer than 2 bootstrap replicates; ``no_replicates`` from ``jackknife``.

    Notes
    -----
    As R, BRR and Fay ignore the fpc (R drops it with a warning), and the subbootstrap too. BRR and Fay keep
    R's order: strata sorted by their labels as text (so 10 before 9, as R; by code point, which is R's order in
    the C locale and in others for labels of digits and letters of one case), PSUs in the order of their first
    row in the data, and ``hadamard`` built as R builds it, so that the replicate weights are R's own (except
    where R would use its ready-made matrices of order 28 or 36, see ``hadamard``). The bootstrap is random: its
    standard errors vary from seed to seed around the linearisation's (R's scale takes the harmonic mean of the
    PSU counts, so they are a little off where the counts differ between strata).
    """
    if type not in BUILT_TYPES:
        raise EstimationError("unknown_replicate_type", "type must be one of {options}", options=BUILT_TYPES)
    rho = _check_rho(type, rho)
    stage = design.first_stage()
    if type in ("JKn", "JK1"):
        if type == "JK1" and len(stage.psus) > 1:
            raise EstimationError(
                "jk1_stratified",
                "JK1 replicates are for a design without strata; this one has {strata}: use JKn",
                strata=len(stage.psus),
            )
        if len(stage.psus) == 1 and stage.psus[0] < 2:  # a single PSU: nothing to delete (R divides by zero)
            raise EstimationError(
                "few_psus",
                "replicates of type {type} need at least 2 PSUs in stratum {stratum}, which has {psus}",
                type=type,
                stratum=stage.strata[0],
                psus=int(stage.psus[0]),
            )
        made = jackknife(design, recalibrate)
        return ReplicateDesign(made.data, made.weights, made.replicates, made.scales, type=type, mse=mse)
    if type in ("bootstrap", "subbootstrap") and not (isinstance(replicates, (int, np.integer)) and replicates >= 2):
        raise EstimationError(
            "invalid_replicates",
            "the number of replicates must be a whole number of at least 2, not {replicates}",
            replicates=replicates,
        )
    if type in ("BRR", "Fay"):
        factors = _brr_factors(stage, rho)
        scale = 1 / (factors.shape[1] * (1 - rho) ** 2)
    else:
        if type == "bootstrap" and (stage.psus < 2).all():
            raise EstimationError(
                "few_psus",
                "replicates of type {type} need at least 2 PSUs in stratum {stratum}, which has {psus}",
                type=type,
                stratum=stage.strata[0],
                psus=int(stage.psus[0]),
            )
        factors = _bootstrap_factors(stage, replicates, np.random.default_rng(random_state), type == "subbootstrap")
        if type == "bootstrap":
            per_stratum = 1 / np.mean(1 / stage.psus)  # the harmonic mean of the PSUs per stratum
            scale = per_stratum / ((per_stratum - 1) * (replicates - 1))
        else:
            scale = 1 / (replicates - 1)
    base = design.weights
    if recalibrate is not None and design.calibrations:
        base = design.calibrations[0].base_weights
    weights = base[:, None] * factors[stage.row_psu]
    if recalibrate is not None:
        weights = np.column_stack([recalibrate(weights[:, r]) for r in range(weights.shape[1])])
    return ReplicateDesign(
        design.data, design.weights, weights, np.full(weights.shape[1], scale), type=type, rho=rho, mse=mse
    )


def replicate_design(
    data: pd.DataFrame,
    weights: str | Sequence[float],
    replicates: Sequence[str] | np.ndarray | pd.DataFrame,
    *,
    type: str = "other",
    scale: float | None = None,
    rscales: float | Sequence[float] | None = None,
    rho: float | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """A design from replicate weights given with the data (the full weights of every replicate, not factors).

    R: ``svrepdesign(data = data, weights = ~weights, repweights = replicates, type = type, scale = scale,
    rscales = rscales, rho = rho, mse = mse, combined.weights = TRUE)``.

    The variance of an estimate ``θ`` is ``scale Σ_r rscales_r (θ_r - θ̄)²``, with ``θ̄`` the mean of the
    replicates whose ``rscales`` is not 0 (or ``θ`` itself with ``mse=True``).

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : str or array
        The full-sample weights: a column or one value per row.
    replicates : list of str, array or DataFrame
        The replicate weights: columns of ``data``, or an array (rows × replicates), or a DataFrame of them.
    type : {"other", "JK1", "JKn", "BRR", "Fay", "bootstrap"}
        Sets R's default ``scale`` and ``rscales``: BRR ``1 / R`` and Fay ``1 / (R (1 - rho)^2)``, both fixed
        (a ``scale`` given raises ``fixed_scale``, where R ignores it with a warning); JK1 ``(R - 1) / R`` (R's
        guess, with a warning, that there is one replicate per PSU); JKn needs ``rscales`` (R: "Must provide
        rscales for combined JKn weights") and its scale is 1; bootstrap ``1 / (R - 1)``; other 1 (R warns).
        ``rscales`` are 1 by default.
    scale, rscales : float, optional
        The overall scale and one per replicate (or one for all).
    rho : float, optional
        Fay's coefficient, only with ``type="Fay"``, which needs it.
    mse : bool
        Centre on the full-sample estimate instead of the replicates' mean (R's ``mse = TRUE``).

    Raises
    ------
    EstimationError
        ``unknown_replicate_type``; ``unknown_column`` for a replicate column not in the data;
        ``invalid_weights`` unless there is one finite, non-negative weight per row; ``invalid_replicate_weights``
        unless the replicate weights are finite (R: "Missing values not allowed in 'repweights'") with one row per
        respondent; ``invalid_rho`` as ``as_replicate_design``; ``jkn_rscales`` for JKn without ``rscales``;
        ``rscales_length`` when ``rscales`` has neither 1 nor ``R`` values (R: "rscales has length ...");
        ``fixed_scale`` when a ``scale`` is given with BRR or Fay, whose scale is fixed (R ignores it with a warning).
    """
    if type not in GIVEN_TYPES:
        raise EstimationError("unknown_replicate_type", "type must be one of {options}", options=GIVEN_TYPES)
    rho = _check_rho(type, rho)
    data = data.reset_index(drop=True)
    n = len(data)
    if isinstance(weights, str) and weights not in data.columns:
        raise EstimationError("unknown_column", "no column {column} in the data", column=weights)
    w = data[weights].to_numpy(dtype=float) if isinstance(weights, str) else np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any():
        raise EstimationError("invalid_weights", "the weights must be one finite, non-negative value per row")
    if isinstance(replicates, pd.DataFrame):
        matrix = replicates.to_numpy(dtype=float)
    elif isinstance(replicates, np.ndarray) and replicates.dtype.kind in "fiub":
        matrix = replicates.astype(float)
    else:
        for column in replicates:
            if column not in data.columns:
                raise EstimationError("unknown_column", "no column {column} in the data", column=column)
        matrix = data[list(replicates)].to_numpy(dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != n or matrix.shape[1] < 1 or not np.isfinite(matrix).all():
        raise EstimationError(
            "invalid_replicate_weights",
            "the replicate weights must be finite numbers, {n} rows (one per respondent) by at least one replicate",
            n=n,
        )
    count = matrix.shape[1]
    if type in ("BRR", "Fay") and scale is not None:
        raise EstimationError("fixed_scale", "type {type} fixes its own scale: give none", type=type)
    if type == "JKn" and rscales is None:
        raise EstimationError("jkn_rscales", "JKn replicate weights need their rscales, (n_h - 1) / n_h each")
    if rscales is None:
        rscales = np.ones(count)
    rscales = np.atleast_1d(np.asarray(rscales, dtype=float))
    if len(rscales) not in (1, count):
        raise EstimationError(
            "rscales_length",
            "rscales has {length} values; there are {count} replicates",
            length=len(rscales),
            count=count,
        )
    if scale is None:
        scale = {"BRR": 1 / count, "Fay": 1 / (count * (1 - rho) ** 2), "JK1": (count - 1) / count}.get(type, 1.0)
        if type == "bootstrap":
            scale = 1 / (count - 1) if count > 1 else np.nan
    scales = float(scale) * np.broadcast_to(rscales, (count,)).astype(float)
    return ReplicateDesign(data, w, matrix, scales, type=type, rho=rho if type == "Fay" else None, mse=mse)


class ReplicateDesign:
    """A design whose variances come from replicate weights: ``Σ_r scale_r (θ_r - θ̄)²`` with θ̄ the mean of the
    replicates of a positive scale (R's default, ``mse = FALSE``), or the full-sample estimate (``mse=True``).

    Made by ``jackknife``, ``as_replicate_design`` or ``replicate_design``; R's ``svyrep.design``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : array
        The full-sample weights.
    replicates : array
        Rows × replicates: every replicate's full weights (R's ``weights(design, "analysis")``).
    scales : array
        Per replicate, R's ``scale * rscales``.
    type : str
        The kind of replicates, as R's ``design$type``.
    rho : float, optional
        Fay's coefficient.
    mse : bool
        Centre on the full-sample estimate.

    Notes
    -----
    As R's ``svrVar``, a replicate whose estimate is undefined (NaN, such as the mean of a domain the replicate
    leaves without weight) is left out of that estimate's variance (R warns that it was discarded). Estimates by
    domain are those of R's ``svyby`` on the design, and so are their design effects (R's ``deff = TRUE``, which
    counts every row of the domain, with a weight or not).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: np.ndarray,
        replicates: np.ndarray,
        scales: np.ndarray,
        *,
        type: str = "other",
        rho: float | None = None,
        mse: bool = False,
    ):
        self.data = data
        self.weights = weights
        self.replicates = replicates
        self.scales = scales
        self.type = type
        self.rho = rho
        self.mse = mse

    def degf(self) -> int:
        """The degrees of freedom: the rank of the replicate weights minus 1.

        R: ``degf(repdesign)`` (``survey:::degf.svyrep.design``: ``qr(weights(design, "analysis"), tol = 1e-5)$rank
        - 1`` when the design stores no ``degf``).
        """
        return int(np.linalg.matrix_rank(self.replicates)) - 1

    # --- the machinery -----------------------------------------------------------------------------------

    def _sums(self, codes: np.ndarray, k: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The weighted sums of ``values`` per domain: with the full weights (k) and every replicate's (R × k)."""
        indicator = sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(k, len(codes)))
        return np.bincount(codes, self.weights * values, k), np.asarray(
            indicator @ (self.replicates * values[:, None])
        ).T

    def _spread(self, full: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """R's ``svrVar`` column by column: replicates with a NaN estimate left out, centred on the mean of those of
        a positive scale (or on the full-sample estimate with ``mse``)."""
        present = ~np.isnan(thetas)
        if self.mse:
            centre = full
        else:
            used = present & (self.scales > 0)[:, None]
            with np.errstate(invalid="ignore", divide="ignore"):
                centre = np.where(used, thetas, 0.0).sum(axis=0) / used.sum(axis=0)
        deviations = np.where(present, thetas - centre, 0.0)
        variances = (self.scales[:, None] * deviations**2).sum(axis=0)
        return np.where(present.any(axis=0), variances, np.nan)  # R: "All replicates contained NAs"

    def _srs_variance(self, codes, k, values, valid, total: bool) -> np.ndarray:
        """The variance under simple random sampling that R's ``deff = TRUE`` divides by: ``svyvar`` (with
        ``n / (n - 1)`` for the ``n`` rows of the domain, weighted or not) over ``n``, times ``(N - n) / N``;
        times ``N²`` for a total."""
        w = np.where(valid, self.weights, 0.0)
        n = np.bincount(codes, valid.astype(float), k)
        population = np.bincount(codes, w, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.bincount(codes, w * values, k) / population
            variance = np.bincount(codes, w * (values - mean[codes]) ** 2, k) / population * n / (n - 1)
            return variance / n * (population - n) / population * (population**2 if total else 1.0)

    def _prepared(self, columns: list[str], by: str | None):
        """Domain codes and labels, the columns' values (0 where any is missing) and which rows have them all."""
        codes, domains = domains_of(self.data, by)
        values = [numeric(self.data, column) for column in columns]
        valid = np.logical_and.reduce([np.isfinite(v) for v in values])
        return codes, domains, [np.where(valid, v, 0.0) for v in values], valid

    def _counts(self, codes, k, valid):
        return np.bincount(codes, (valid & (self.weights > 0)).astype(float), k)

    def _mean_of(self, codes, k, y, valid):
        """The domain means of ``y`` over the rows ``valid``: full sample, replicates, variances, design effects."""
        population, replicate_population = self._sums(codes, k, valid.astype(float))
        weighted, replicate_weighted = self._sums(codes, k, np.where(valid, y, 0.0))
        estimates = weighted / population
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = replicate_weighted / replicate_population
        variances = self._spread(estimates, thetas)
        deffs = design_effect(variances, self._srs_variance(codes, k, y, valid, total=False))
        return estimates, variances, deffs

    # --- estimates -----------------------------------------------------------------------------------------

    def mean(
        self, column: str, *, by: str | None = None, confidence: float = 0.95, interval: str = "normal"
    ) -> pd.DataFrame:
        """The mean of a numeric column from the replicates (rows with a missing value left out), by domain.

        R: ``svymean(~column, repdesign, na.rm = TRUE, deff = TRUE)``, by domain ``svyby(~column, ~by, repdesign,
        svymean, na.rm = TRUE, deff = TRUE)``; the interval ``confint(estimate, level = confidence, df = degf)``
        with ``interval="t"`` (``degf(repdesign)`` of the whole design), the normal one otherwise.

        Returns
        -------
        DataFrame
            ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n`` (respondents with a weight and a value)
            by domain (or the column's name).

        Raises
        ------
        EstimationError
            ``not_numeric`` naming the column, the first row and its value when a value is text that is not a
            number; ``unknown_column``; ``empty_domain`` for a domain without a respondent with a weight and a
            value; ``unknown_interval``.
        """
        codes, domains, (y,), valid = self._prepared([column], by)
        k = len(domains)
        check_domains(np.bincount(codes, np.where(valid, self.weights, 0.0), k), domains)
        estimates, variances, deffs = self._mean_of(codes, k, y, valid)
        counts = self._counts(codes, k, valid)
        return estimates_table(
            estimates,
            variances,
            deffs,
            counts,
            domain_index(domains, by, column),
            interval_quantile(confidence, interval, self.degf),
        )

    def total(
        self, column: str, *, by: str | None = None, confidence: float = 0.95, interval: str = "normal"
    ) -> pd.DataFrame:
        """The total of a numeric column from the replicates (rows with a missing value left out), by domain.

        R: ``svytotal(~column, repdesign, na.rm = TRUE, deff = TRUE)``, by domain ``svyby(..., svytotal)``; the
        interval as ``mean``'s.

        Raises
        ------
        EstimationError
            ``not_numeric`` naming the column, the first row and its value when a value is text that is not a
            number; ``unknown_column``; ``unknown_interval``. A domain without respondents has a total of 0, as
            ``Design.total``.
        """
        codes, domains, (y,), valid = self._prepared([column], by)
        k = len(domains)
        estimates, thetas = self._sums(codes, k, y)
        variances = self._spread(estimates, thetas)
        deffs = design_effect(variances, self._srs_variance(codes, k, y, valid, total=True))
        counts = self._counts(codes, k, valid)
        return estimates_table(
            estimates,
            variances,
            deffs,
            counts,
            domain_index(domains, by, column),
            interval_quantile(confidence, interval, self.degf),
        )

    def ratio(
        self,
        numerator: str,
        denominator: str,
        *,
        by: str | None = None,
        confidence: float = 0.95,
        interval: str = "normal",
    ) -> pd.DataFrame:
        """The ratio of two totals from the replicates (rows missing either value left out), by domain.

        R: ``svyratio(~numerator, ~denominator, repdesign, na.rm = TRUE, deff = TRUE)``, by domain
        ``svyby(~numerator, ~by, repdesign, svyratio, denominator = ~denominator, ...)``. The design effect is
        the one R's code for replicate designs means: ``deff(svytotal(numerator - ratio * denominator, repdesign,
        deff = TRUE))``, the replicates' variance of that total over its variance under simple random sampling
        (not the ratio's own replicate variance). R's ``svyratio(..., deff = TRUE)`` itself stops with "incorrect
        number of dimensions" on replicate designs (survey 4.1.1); the tests compare with that expression.

        Raises
        ------
        EstimationError
            ``not_numeric`` for text that is not a number in either column; ``zero_denominator`` naming the domain
            whose denominator totals 0; ``unknown_column``; ``unknown_interval``.
        """
        codes, domains, (y, x), valid = self._prepared([numerator, denominator], by)
        k = len(domains)
        numerator_total, numerator_thetas = self._sums(codes, k, y)
        denominator_total, denominator_thetas = self._sums(codes, k, x)
        if (denominator_total == 0).any():
            raise EstimationError(
                "zero_denominator",
                "the denominator's total is 0 in domain {domain}",
                domain=domains[int(np.flatnonzero(denominator_total == 0)[0])],
            )
        estimates = numerator_total / denominator_total
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = numerator_thetas / denominator_thetas
        variances = self._spread(estimates, thetas)
        residual = np.where(valid, y - estimates[codes] * x, 0.0)
        residual_total, residual_thetas = self._sums(codes, k, residual)
        deffs = design_effect(
            self._spread(residual_total, residual_thetas), self._srs_variance(codes, k, residual, valid, total=True)
        )
        counts = self._counts(codes, k, valid)
        index = domain_index(domains, by, f"{numerator}/{denominator}")
        return estimates_table(
            estimates, variances, deffs, counts, index, interval_quantile(confidence, interval, self.degf)
        )

    def proportion(
        self, column: str, *, by: str | None = None, confidence: float = 0.95, interval: str = "normal"
    ) -> pd.DataFrame:
        """The share of every level of a categorical column (rows where it is missing left out), by domain; the
        index is (domain, level), as ``Design.proportion``'s.

        R: ``svymean(~factor(column), repdesign, na.rm = TRUE, deff = TRUE)``, by domain ``svyby(~factor(column),
        ~by, repdesign, svymean, ...)``; the interval as ``mean``'s.

        Raises
        ------
        EstimationError
            ``unknown_column``; ``empty_domain`` for a domain where no respondent with a weight has a value;
            ``unknown_interval``.
        """
        if column not in self.data.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column=column)
        valid = self.data[column].notna().to_numpy()
        level_codes, levels = pd.factorize(self.data[column], sort=True)
        codes, domains = domains_of(self.data, by)
        k = len(domains)
        check_domains(np.bincount(codes, np.where(valid, self.weights, 0.0), k), domains)
        counts = self._counts(codes, k, valid)
        tables = []
        for level_index, level in enumerate(levels):
            y = (level_codes == level_index).astype(float)
            estimates, variances, deffs = self._mean_of(codes, k, y, valid)
            index = pd.MultiIndex.from_arrays(
                [domains if by else [column] * k, [level] * k], names=[by or "variable", "level"]
            )
            tables.append(
                estimates_table(
                    estimates, variances, deffs, counts, index, interval_quantile(confidence, interval, self.degf)
                )
            )
        return pd.concat(tables).sort_index(level=0, sort_remaining=False)
