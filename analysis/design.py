"""Design-based estimation in the spirit of R's ``svydesign``: means, totals, proportions and ratios of one or
several variables, overall and by domains of one or several columns, with standard errors by Taylor
linearisation (or the jackknife), their covariance (for ``analysis.contrasts``), confidence intervals, design
effects and unweighted counts.

The variance follows R's ``survey`` package (Lumley) term by term: PSU totals of the influence values,
centred within strata, scaled by ``(1 - f_h) n_h / (n_h - 1)``; a second stage contributes when the
first has a finite population correction; weights adjusted by post-stratification, raking or calibration
are accounted for by replacing the influence values with their calibration residuals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from analysis._calibration import CalibrationResiduals
from analysis._columns import check_domains, domain_index, domains_of, labels, numeric
from analysis._errors import EstimationError
from analysis._estimates import estimate
from analysis._intervals import glm_intercept, proportion_bounds
from analysis.contrasts import Estimates

if TYPE_CHECKING:
    from analysis.replicates import ReplicateDesign

LONELY_PSU = ("fail", "adjust", "certainty")
#: how ``ci_low``/``ci_high`` are made: the normal quantile, or Student's t on the design's degrees of freedom
#: methods of ``Design.proportion_interval``, as R's ``svyciprop(method = ...)``
PROPORTION_METHODS = ("logit", "likelihood", "beta", "xlogit")
#: columns of every table of estimates
COLUMNS = ["estimate", "se", "ci_low", "ci_high", "deff", "n"]
#: influence columns handled at once when they must be made dense
_CHUNK = 16


@dataclass(frozen=True)
class _Stage:
    """One sampling stage: which cluster every row is in, which stratum every cluster is in, and the scale
    of every stratum's sum of squares."""

    row_cluster: np.ndarray  # cluster index per row
    cluster_stratum: np.ndarray  # stratum index per cluster
    n_clusters: np.ndarray  # clusters sampled per stratum
    scale: np.ndarray  # f_h n_h / (n_h - 1), or the lonely rule's value, per stratum
    remaining: np.ndarray  # 1 - n_h / N_h, the share of the stratum left unsampled (1 without an fpc)
    centred: np.ndarray  # whether the stratum's cluster totals are centred on their mean
    aggregate: sparse.csr_matrix  # clusters × rows indicator
    #: every row its own cluster, in row order (a design without clusters): summing by cluster changes nothing
    rows_are_clusters: bool = False

    def by_cluster(self, matrix: sparse.spmatrix) -> sparse.spmatrix:
        """The rows of ``matrix`` summed by cluster (a million-row identity product skipped where it is one)."""
        return matrix if self.rows_are_clusters else self.aggregate @ matrix


@dataclass(frozen=True)
class FirstStage:
    """R: a design's ``design$cluster[, 1]``, ``design$strata[, 1]`` and ``design$fpc``, read as replicate weights need
    them. The first sampling stage as replicate weights need it (``Design.first_stage``): the PSU of every row, the
    stratum of every PSU, and per stratum its PSU count, the share of its PSUs left unsampled and whether it is
    centred (False only for a lonely PSU under ``lonely_psu="adjust"``)."""

    #: index of the PSU of every row
    row_psu: np.ndarray
    #: index of the stratum of every PSU
    psu_stratum: np.ndarray
    #: PSUs sampled in every stratum
    psus: np.ndarray
    #: 1 - n_h / N_h per stratum (1 without an fpc, 0 for a stratum sampled whole)
    unsampled: np.ndarray
    #: per stratum: centred on its own mean (True), or a lonely PSU under "adjust" (False)
    centred: np.ndarray
    #: the strata's labels
    strata: pd.Index


def _nested(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Codes of (outer, inner) pairs, numbered in sorted order."""
    return labels(outer.astype(np.int64) * (int(inner.max()) + 1) + inner)[0]


def _sparse_product(model: sparse.csr_matrix, coefficients: sparse.csr_matrix, totals: sparse.spmatrix) -> bool:
    """Whether ``model @ coefficients`` is sparse enough to subtract from the cluster totals as a sparse matrix:
    at most twice as many entries as the totals and the clusters together (counted from above: every product
    of a row's entries with the coefficients' rows)."""
    per_row = np.diff(coefficients.indptr)
    bound = int(per_row[model.indices].sum())
    return bound <= 2 * (totals.nnz + totals.shape[0])


def _indicator(codes: np.ndarray, size: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(size, len(codes)))


class Design:
    """A survey design over a DataFrame of respondents.

    R: ``svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~weight, fpc = ~fpc1 + fpc2, nest = TRUE)``, with
    ``postStratify``/``rake``/``calibrate`` for ``calibrations``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : str or array
        The (final) weights: a column or an array.
    strata : str, optional
        Column of the first-stage strata.
    clusters : str or list of str, optional
        Column of the first-stage clusters (PSUs), or two columns for a two-stage design; without clusters every
        row is its own PSU.
    fpc : str or list of str, optional
        Finite population correction per stage: the population count of PSUs in the stratum (of SSUs in the
        PSU), or the sampling fraction when every value is at most 1. Stages after the last one given are taken
        as complete.
    lonely_psu : {"fail", "adjust", "certainty"}
        A stratum with a single PSU: raise an error naming it; centre its PSU on the grand mean (R's "adjust");
        or treat it as taken with certainty (no contribution).
    calibrations : sequence of sampling.Calibration
        The adjustments that made the weights, in the order they were applied.

    Raises
    ------
    EstimationError
        ``fpc_missing`` when an fpc column has no value in a row (R's ``svydesign`` stops: "missing values in
        `fpc'"); ``fpc_varies`` when it takes more than one value within a stratum (R's ``svydesign`` warns
        "`fpc' varies within strata" and goes on); both name the column, the stratum and the stage.

    Notes
    -----
    A domain is treated as a subpopulation: rows outside it keep their place in the design with zero
    influence, so that strata and PSUs without domain members still count, as with R's ``subset()`` and
    ``svyby()``.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
    Särndal, C.-E., Swensson, B. & Wretman, J. (1992). *Model Assisted Survey Sampling*. Springer.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | Sequence[float],
        *,
        strata: str | None = None,
        clusters: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: str = "fail",
        calibrations: Sequence = (),
    ):
        if lonely_psu not in LONELY_PSU:
            raise EstimationError("unknown_lonely_psu", "lonely_psu must be one of {options}", options=LONELY_PSU)
        self.data = data.reset_index(drop=True)
        n = len(self.data)
        w = self.data[weights].to_numpy(dtype=float) if isinstance(weights, str) else np.asarray(weights, float)
        if len(w) != n or not np.isfinite(w).all() or (w < 0).any():
            raise EstimationError("invalid_weights", "the weights must be one finite, non-negative value per row")
        self.weights = w
        self.lonely_psu = lonely_psu
        self.calibrations = list(calibrations)
        for calibration in self.calibrations:
            if calibration.model_matrix.shape[0] != n:
                raise EstimationError(
                    "calibration_rows",
                    "a calibration covers {rows} rows, the data {n}",
                    rows=calibration.model_matrix.shape[0],
                    n=n,
                )
        cluster_columns = [] if clusters is None else ([clusters] if isinstance(clusters, str) else list(clusters))
        fpc_columns = [] if fpc is None else ([fpc] if isinstance(fpc, str) else list(fpc))
        if len(cluster_columns) > 2 or len(fpc_columns) > max(len(cluster_columns), 1):
            raise EstimationError("stages", "up to two stages of clusters, and an fpc for each at most")
        self._stages = self._build_stages(strata, cluster_columns, fpc_columns)
        # made when a variance first needs them: the calibrations' fixed part, their models by cluster
        self._residuals: CalibrationResiduals | None = None
        self._cluster_models: dict[tuple[int, int], sparse.csr_matrix] = {}

    # --- design structure ------------------------------------------------------------------------------

    def _build_stages(self, strata, cluster_columns, fpc_columns) -> list[tuple[_Stage, np.ndarray | None]]:
        n = len(self.data)
        stratum_codes, stratum_labels = (
            labels(self.data[strata]) if strata else (np.zeros(n, dtype=np.int64), pd.Index(["all"]))
        )
        # PSUs are identified within their stratum, as R's svydesign(nest = TRUE)
        if cluster_columns:
            psu_codes = _nested(stratum_codes, labels(self.data[cluster_columns[0]])[0])
        else:
            psu_codes = np.arange(n)
        fpc1 = (fpc_columns[0], numeric(self.data, fpc_columns[0])) if fpc_columns else None
        self._strata = stratum_labels
        stage1, stage1_fraction = self._stage(stratum_codes, stratum_labels, psu_codes, fpc1, stage=1)
        stages = [(stage1, None)]
        if len(cluster_columns) == 2 and len(fpc_columns) == 2:
            ssu_codes = _nested(psu_codes, labels(self.data[cluster_columns[1]])[0])
            fpc2 = (fpc_columns[1], numeric(self.data, fpc_columns[1]))
            stage2, _ = self._stage(psu_codes, None, ssu_codes, fpc2, stage=2)
            # R's multistage: a PSU's second-stage variance is scaled by its stratum's sampling fraction
            multiplier = stage1_fraction[stage1.cluster_stratum]
            stages.append((stage2, multiplier))
        return stages

    def _stage(self, stratum_codes, stratum_labels, cluster_codes, fpc, stage: int):
        """One stage's structure; ``fpc`` is ``(column, values)`` or None.

        Raises ``fpc_missing`` when the fpc column has no value in a row (R's ``svydesign`` stops with
        "missing values in `fpc'") and ``fpc_varies`` when it takes more than one value within a stratum (R's
        ``svydesign`` only warns "`fpc' varies within strata", then uses every PSU's own value); both name the
        column, the stratum (at stage 2, the index of the PSU) and the stage; ``fpc_mixed`` when it mixes sampling
        fractions and population sizes (R: "Must have all fpc>=1 or all fpc<=1"); ``not_numeric`` for text in it.
        """
        n_strata = int(stratum_codes.max()) + 1 if len(stratum_codes) else 0
        n_clusters_total = int(cluster_codes.max()) + 1 if len(cluster_codes) else 0
        cluster_stratum = np.zeros(n_clusters_total, dtype=np.int64)
        cluster_stratum[cluster_codes] = stratum_codes
        counts = np.bincount(cluster_stratum, minlength=n_strata).astype(float)
        if fpc is None:
            population = np.full(n_strata, np.inf)
        else:
            column, fpc = fpc
            first_row = np.zeros(n_strata, dtype=np.int64)
            first_row[stratum_codes[::-1]] = np.arange(len(stratum_codes))[::-1]
            missing = np.isnan(fpc)
            if missing.any():
                raise EstimationError(
                    "fpc_missing",
                    "the fpc column {column} has no value in stratum {stratum} at stage {stage}",
                    column=column,
                    stratum=self._stratum_name(stratum_labels, int(stratum_codes[np.flatnonzero(missing)[0]])),
                    stage=stage,
                )
            varies = fpc != fpc[first_row][stratum_codes]
            if varies.any():
                raise EstimationError(
                    "fpc_varies",
                    "the fpc column {column} varies within stratum {stratum} at stage {stage}",
                    column=column,
                    stratum=self._stratum_name(stratum_labels, int(stratum_codes[np.flatnonzero(varies)[0]])),
                    stage=stage,
                )
            if (fpc <= 1).any() and (fpc > 1).any():  # R: "Must have all fpc>=1 or all fpc<=1"
                raise EstimationError(
                    "fpc_mixed",
                    "the fpc column {column} mixes sampling fractions (at most 1) and population sizes",
                    column=column,
                )
            population = fpc[first_row].astype(float)
            if np.all(fpc <= 1):
                population = counts / population  # sampling fractions given: N = n / f
            if (population < counts - 1e-9).any():
                bad = int(np.flatnonzero(population < counts - 1e-9)[0])
                raise EstimationError(
                    "fpc_below_sample",
                    "stratum {stratum} at stage {stage} has more sampled units than its population",
                    stratum=self._stratum_name(stratum_labels, bad),
                    stage=stage,
                )
        finite = np.isfinite(population)
        safe_population = np.where(finite, population, 1.0)
        fraction_left = np.where(finite, (safe_population - counts) / safe_population, 1.0)
        fraction_taken = np.where(finite, counts / safe_population, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(counts > 1, fraction_left * counts / (counts - 1), fraction_left)
        centred = np.ones(n_strata, dtype=bool)
        lonely = (counts == 1) & (fraction_left > 1e-7)
        if lonely.any():
            if self.lonely_psu == "fail":
                bad = int(np.flatnonzero(lonely)[0])
                raise EstimationError(
                    "lonely_psu",
                    "stratum {stratum} has only one PSU at stage {stage}",
                    stratum=self._stratum_name(stratum_labels, bad),
                    stage=stage,
                )
            if self.lonely_psu == "adjust":
                centred[lonely] = False
        own_clusters = n_clusters_total == len(cluster_codes) and bool(
            np.array_equal(cluster_codes, np.arange(len(cluster_codes)))
        )
        return _Stage(
            cluster_codes,
            cluster_stratum,
            counts,
            scale,
            fraction_left,
            centred,
            _indicator(cluster_codes, n_clusters_total),
            own_clusters,
        ), fraction_taken

    @staticmethod
    def _stratum_name(labels, index):
        return labels[index] if labels is not None else index

    # --- variance ----------------------------------------------------------------------------------------

    def _calibration_terms(self, influence: sparse.csc_matrix) -> list[tuple[sparse.csr_matrix, sparse.csr_matrix]]:
        """For every calibration, the sparse matrix ``w ∘ X`` and the sparse coefficients ``B`` such that the
        residual influence is ``influence - Σ (w ∘ X) B`` (R's ``qr.resid`` on the calibration model); what
        depends only on the calibrations is made on the first call (``analysis._calibration``)."""
        if not self.calibrations:
            return []
        if self._residuals is None:
            self._residuals = CalibrationResiduals(self.calibrations)
        return self._residuals.terms(influence)

    def _aggregated(self, stage_number: int, stage: _Stage, weighted_model: sparse.csr_matrix) -> sparse.csr_matrix:
        """``w ∘ X`` summed by the stage's clusters, once per design."""
        key = (stage_number, id(weighted_model))
        if key not in self._cluster_models:
            self._cluster_models[key] = sparse.csr_matrix(stage.by_cluster(weighted_model))
        return self._cluster_models[key]

    def variances(self, influence) -> np.ndarray:
        """The variance of the estimators whose influence values are the columns of ``influence``.

        R: ``diag(svyrecvar(influence, design$cluster, design$strata, design$fpc, postStrata = ...))``.

        Parameters
        ----------
        influence : array or sparse matrix
            n × k: one column of influence values (per row of the data) per estimator.

        Returns
        -------
        ndarray
            The k variances. ``covariance`` gives the whole k × k matrix.
        """
        influence = sparse.csc_matrix(influence)
        terms = self._calibration_terms(influence)
        k = influence.shape[1]
        total = np.zeros(k)
        for number, (stage, multiplier) in enumerate(self._stages):
            cluster_totals = sparse.csc_matrix(stage.by_cluster(influence))
            corrections = [
                (self._aggregated(number, stage, weighted_model), coefficients)
                for weighted_model, coefficients in terms
            ]
            by_stratum = _indicator(stage.cluster_stratum, len(stage.n_clusters))
            stratum_scale = stage.scale if multiplier is None else stage.scale * multiplier
            if all(_sparse_product(model, coefficients, cluster_totals) for model, coefficients in corrections):
                # without calibration, or with one whose fitted parts stay within the estimates' domains (a
                # calibration within units, estimates by unit), the residual cluster totals stay sparse: the
                # stratum sums of them and of their squares need no dense n × k block
                for cluster_model, coefficients in corrections:
                    cluster_totals = (cluster_totals - cluster_model @ coefficients).tocsc()
                sums = np.asarray((by_stratum @ cluster_totals).todense())
                squares = np.asarray((by_stratum @ cluster_totals.multiply(cluster_totals)).todense())
                centring = np.where(stage.centred[:, None], sums**2 / stage.n_clusters[:, None], 0.0)
                total += (stratum_scale[:, None] * (squares - centring)).sum(axis=0)
                continue
            for start in range(0, k, _CHUNK):
                stop = min(start + _CHUNK, k)
                block = cluster_totals[:, start:stop].toarray(
                    order="C"
                )  # row-major: the products below read it by rows
                for cluster_model, coefficients in corrections:
                    block -= cluster_model @ coefficients[:, start:stop].toarray()
                sums = by_stratum @ block
                squares = by_stratum @ (block * block)
                centring = np.where(stage.centred[:, None], sums**2 / stage.n_clusters[:, None], 0.0)
                total[start:stop] += (stratum_scale[:, None] * (squares - centring)).sum(axis=0)
        return total

    def covariance(self, influence) -> np.ndarray:
        """The covariance matrix of the estimators whose influence values are the columns of ``influence``: the
        same sums as ``variances`` with the cross-products of the cluster totals besides their squares.

        R: ``svyrecvar(influence, design$cluster, design$strata, design$fpc, postStrata = ...)``, the ``vcov()`` of
        ``svymean(~x + y, design)`` or of ``svyby(..., covmat = TRUE)``.

        Parameters
        ----------
        influence : array or sparse matrix
            n × k: one column of influence values per estimator.

        Returns
        -------
        ndarray
            k × k, symmetric; its diagonal is ``variances(influence)`` (up to rounding).
        """
        influence = sparse.csc_matrix(influence)
        terms = self._calibration_terms(influence)
        k = influence.shape[1]
        total = np.zeros((k, k))
        for number, (stage, multiplier) in enumerate(self._stages):
            block = sparse.csc_matrix(stage.by_cluster(influence))
            if terms:  # calibration residuals make the cluster totals dense
                block = block.toarray()
                for weighted_model, coefficients in terms:
                    block -= self._aggregated(number, stage, weighted_model) @ coefficients.toarray()
            by_stratum = _indicator(stage.cluster_stratum, len(stage.n_clusters))
            stratum_scale = stage.scale if multiplier is None else stage.scale * multiplier
            # Σ_h scale_h (T_h' T_h - s_h s_h' / n_h), T_h the stratum's cluster totals and s_h their sum
            cross = block.T @ (sparse.diags(stratum_scale[stage.cluster_stratum]) @ block)
            sums = by_stratum @ block
            sums = sums.toarray() if sparse.issparse(sums) else np.asarray(sums)
            centring = np.where(stage.centred, stratum_scale / stage.n_clusters, 0.0)
            cross = cross.toarray() if sparse.issparse(cross) else np.asarray(cross)
            total += cross - sums.T @ (centring[:, None] * sums)
        return (total + total.T) / 2

    # --- estimates ---------------------------------------------------------------------------------------

    def _srs_variance(self, values, member, weights, mean_scale: bool, replace: bool = False) -> np.ndarray:
        """R's ``svyvar`` in every domain, times the simple-random-sampling factor of ``deff``: ``(N - n) / (N n)``
        (without replacement), or ``1 / n`` with ``replace`` (R's ``deff = "replace"``)."""
        codes, n_domains = member
        used = weights > 0
        w = np.where(used, weights, 0.0)
        n = np.bincount(codes, used.astype(float), n_domains)
        population = np.bincount(codes, w, n_domains)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.bincount(codes, w * values, n_domains) / population
            variance = np.bincount(codes, w * (values - mean[codes]) ** 2, n_domains) / population * n / (n - 1)
            factor = 1 / n if replace else (population - n) / (population * n)
            return variance * factor * (1.0 if mean_scale else population**2)

    def _columns(self, domain_codes, n_domains, entries) -> sparse.csc_matrix:
        rows = np.arange(len(domain_codes))
        return sparse.csc_matrix((entries, (rows, domain_codes)), shape=(len(domain_codes), n_domains))

    def total(
        self,
        column: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
        interval: str = "normal",
        deff: bool | str = True,
        listwise: bool = True,
        covariance: bool = False,
    ) -> pd.DataFrame | Estimates:
        """The estimated total of one or several numeric columns, overall or by domain; a column of pandas
        ``category`` dtype gives the estimated count of every level.

        R: ``svytotal(~column, design, na.rm = TRUE)``, ``svytotal(~x + y, design, na.rm = TRUE)``, or
        ``svyby(~column, ~by, design, svytotal)`` (``~a + b`` for several ``by`` columns).

        The parameters and the result are those of ``mean``.
        """
        return estimate(
            self,
            "total",
            column,
            by=by,
            confidence=confidence,
            interval=interval,
            deff=deff,
            listwise=listwise,
            covariance=covariance,
        )

    def mean(
        self,
        column: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
        interval: str = "normal",
        deff: bool | str = True,
        listwise: bool = True,
        covariance: bool = False,
    ) -> pd.DataFrame | Estimates:
        """The estimated mean of one or several numeric columns, overall or by domain; a column of pandas
        ``category`` dtype gives the share of every level, as ``proportion`` does.

        R: ``svymean(~column, design, na.rm = TRUE)``, ``svymean(~x + y, design, na.rm = TRUE)`` (a factor gives its
        levels' shares), or ``svyby(~column, ~by, design, svymean)`` (``~a + b`` for several ``by`` columns, with
        ``covmat = TRUE`` for the covariance).

        Parameters
        ----------
        column : str or list of str
            The analysis variable, or a list of them. Text that is not a number raises ``not_numeric``, even
            where R would take the column as categorical: a categorical variable must say so (``category`` dtype,
            or ``proportion``). Booleans count as 0/1 (the share of True).
        by : str or list of str, optional
            The column(s) whose combinations of values are the domains (subpopulations); only combinations that
            occur are listed, in sorted order (R's ``svyby`` lists the first column fastest).
        confidence : float
            The level of ``ci_low``/``ci_high``.
        interval : {"normal", "t"}
            ``"t"`` uses Student's t on ``degf()`` (the whole design's, also by domain): R's ``confint(estimate,
            df = degf(design))``.
        deff : True or "replace"
            The design effect against simple random sampling without replacement (with the fpc ``(N - n) / N``,
            R's ``deff = TRUE``), or with replacement (R's ``deff = "replace"``).
        listwise : bool
            With several columns, leave out a row missing any of them from every estimate (R's ``na.rm = TRUE``);
            False estimates every column on the rows that have it (as separate calls would).
        covariance : bool
            Return ``Estimates``: the table and the covariance of its estimates (for ``analysis.contrasts``).

        Returns
        -------
        DataFrame or Estimates
            Columns ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n`` (respondents counted). The index:
            one column, no domain: ``variable``; one column by one domain column: the domains (named after it);
            otherwise a MultiIndex of the domain columns, then ``variable`` (when a list of columns was given, or
            without domains), then ``level`` (when a categorical column is among them; "" for a numeric one).
            Rows are domain after domain, each with its variables in the order given.

        Raises
        ------
        EstimationError
            ``unknown_column`` (an analysis or ``by`` column); ``no_columns`` for an empty list; ``not_numeric``
            (naming the column, the first row and its value) when a value is text that is not a number (missing
            values: NaN, None, empty text, are left out); ``empty_domain`` naming a domain without a respondent with
            a weight; ``unknown_interval``; ``unknown_deff``.
        """
        return estimate(
            self,
            "mean",
            column,
            by=by,
            confidence=confidence,
            interval=interval,
            deff=deff,
            listwise=listwise,
            covariance=covariance,
        )

    def proportion(
        self,
        column: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
        interval: str = "normal",
        deff: bool | str = True,
        listwise: bool = True,
        covariance: bool = False,
    ) -> pd.DataFrame | Estimates:
        """The estimated share of every level of one or several categorical columns, by domain (index: domain,
        level; with a list of columns: domain, variable, level). Levels are those that occur, in sorted order.

        R: ``svymean(~factor(column), design)``, or ``svyby(~factor(column), ~by, design, svymean)``. The
        parameters are those of ``mean``; rows missing the column are left out.
        """
        return estimate(
            self,
            "proportion",
            column,
            by=by,
            confidence=confidence,
            interval=interval,
            deff=deff,
            listwise=listwise,
            covariance=covariance,
        )

    def ratio(
        self,
        numerator: str | Sequence[str],
        denominator: str | Sequence[str],
        *,
        by: str | Sequence[str] | None = None,
        confidence: float = 0.95,
        interval: str = "normal",
        deff: bool | str = True,
        listwise: bool = True,
        covariance: bool = False,
    ) -> pd.DataFrame | Estimates:
        """The estimated ratio of two totals, by domain (rows missing either value are left out); with lists, every
        numerator over every denominator, labelled ``numerator/denominator`` (``a/c, b/c, a/d, b/d``, as R).

        R: ``svyratio(~numerator, ~denominator, design)``, ``svyratio(~a + b, ~c + d, design, covmat = TRUE)``, or
        ``svyby(~numerator, ~by, design, svyratio, denominator = ~denominator)``.

        The other parameters and the result are those of ``mean``; ``listwise`` leaves out a row missing any of the
        columns (R's ``na.rm = TRUE``), or with False only one missing a pair's numerator or denominator.

        Raises
        ------
        EstimationError
            As ``mean``, and ``zero_denominator`` naming the domain where the denominator's total is 0.
        """
        return estimate(
            self,
            "ratio",
            numerator,
            denominator=denominator,
            by=by,
            confidence=confidence,
            interval=interval,
            deff=deff,
            listwise=listwise,
            covariance=covariance,
        )

    # --- degrees of freedom and intervals for proportions ----------------------------------------------

    def _degf_rows(self, rows: np.ndarray) -> int:
        """PSUs minus strata of the first stage among ``rows`` (a boolean mask) that have a non-zero weight."""
        stage, _ = self._stages[0]
        inset = rows & (self.weights != 0)
        clusters = np.unique(stage.row_cluster[inset])
        return int(len(clusters) - len(np.unique(stage.cluster_stratum[clusters])))

    def degf(self) -> int:
        """The design's degrees of freedom: the number of first-stage PSUs minus the number of strata, counting
        only rows with a non-zero weight (without clusters every row is a PSU).

        R: ``degf(design)`` (``survey:::degf.survey.design2``).

        Returns
        -------
        int
            The degrees of freedom of the t intervals (``interval="t"``) and of ``proportion_interval``.
        """
        return self._degf_rows(np.ones(len(self.data), dtype=bool))

    def _binary(self, column: str) -> np.ndarray:
        """A 0/1 column as floats (NaN where missing): numbers 0 and 1, booleans, or the texts yes/no."""
        if column not in self.data.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column=column)
        raw = self.data[column]
        text = raw.map(lambda v: v.strip().lower() if isinstance(v, str) else v)
        coded = text.replace({"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0, "": np.nan}).infer_objects()
        values = pd.to_numeric(coded.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v), errors="coerce")
        values = values.to_numpy(dtype=float)
        bad = (~np.isnan(values) & (values != 0) & (values != 1)) | (np.isnan(values) & coded.notna().to_numpy())
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise EstimationError(
                "not_binary",
                "column {column} is not a 0/1 (yes/no) variable: row {row} holds {value}",
                column=column,
                row=row,
                value=str(raw.iloc[row]),
            )
        return values

    def proportion_interval(
        self, column: str, *, level: float = 0.95, method: str = "logit", by: str | None = None
    ) -> pd.DataFrame:
        """The share of respondents with ``column`` equal to 1 (or yes), with a confidence interval that stays
        within [0, 1], overall or by domain.

        R: ``svyciprop(~I(column == 1), design, method = method, level = level)``; by domain, ``svyciprop`` on
        ``subset(design, by == domain)`` (as ``svyby(..., svyciprop)`` does; note that ``confint()`` of a ``svyby``
        result is a plain Wald interval, not these).

        Parameters
        ----------
        column : str
            A 0/1 variable (numbers 0 and 1, booleans, or the texts yes/no); rows where it is missing are left out.
        level : float
            The confidence level.
        method : {"logit", "likelihood", "beta", "xlogit"}
            ``"logit"``: R's Wald interval of the intercept of ``svyglm(y ~ 1, family = quasibinomial)`` on the
            t quantile with ``degf`` degrees of freedom, back-transformed (the same as ``"xlogit"`` up to the
            convergence of R's fit, whose iterations are replayed). ``"likelihood"``: R's profile of that model's
            deviance, divided by the survey variance (``svyvar``) of its Pearson residuals, at the cut-off
            ``qt(a/2, degf) * sqrt(lambda)`` with ``lambda`` the design effect of the intercept, interpolated as R
            does (profile steps of a fifth of its range, an "fmm" spline through them and a linear inverse).
            ``"beta"``: Clopper-Pearson on the effective sample size ``p (1 - p) / var(p)``, multiplied by
            ``(qt(a/2, n - 1) / qt(a/2, degf))^2`` with ``n`` the rows of the design. ``"xlogit"``: the t interval
            of ``logit(p)`` (its standard error by the delta method), back-transformed.
        by : str, optional
            A column of domains; every domain has its own degrees of freedom (its PSUs minus its strata) and row
            count, as R's subset design.

        Returns
        -------
        DataFrame
            Indexed by domain (or the column's name): ``estimate`` (the weighted share), ``se`` (its linearised
            standard error, R's ``SE()`` of the result), ``low``, ``high``, ``degf`` and ``n`` (respondents).

        Raises
        ------
        EstimationError
            ``unknown_column``; ``not_binary`` naming the column, the first row (from 0) and its value when a value
            is neither 0/1 nor yes/no; ``unknown_ci_method`` for another method; ``invalid_level`` unless
            0 < level < 1; ``empty_domain`` for a domain without a respondent with a weight.

        Notes
        -----
        R's ``svyciprop`` returns ``expit`` of the fitted intercept as the estimate of the "logit" and
        "likelihood" methods; this returns the weighted share itself, which differs from it only by the convergence
        of R's iterations (relatively about 1e-9); their bounds replay R's iterations, so they agree with R's. A
        share of 0 or 1 gives no interval (NaN) with the logit methods. The row count of a calibrated design's
        domain is that of the whole design, since R keeps a
        calibrated design's rows in a subset with a zero weight.
        """
        if method not in PROPORTION_METHODS:
            raise EstimationError("unknown_ci_method", "method must be one of {options}", options=PROPORTION_METHODS)
        if not 0 < level < 1:
            raise EstimationError(
                "invalid_level", "the confidence level must be between 0 and 1, not {level}", level=level
            )
        y = self._binary(column)
        valid = np.isfinite(y)
        y = np.where(valid, y, 0.0)
        codes, domains = domains_of(self.data, by)
        k = len(domains)
        w = np.where(valid, self.weights, 0.0)
        population = np.bincount(codes, w, k)
        check_domains(population, domains)
        estimates = np.bincount(codes, w * y, k) / population
        influence = w * (y - estimates[codes]) / population[codes]
        variances = np.maximum(self.variances(self._columns(codes, k, influence)), 0.0)
        members = [codes == domain for domain in range(k)]
        degfs = [self._degf_rows(member) for member in members]
        in_design = [member & valid for member in members]
        n_rows = [int(rows.sum()) if not self.calibrations else int(valid.sum()) for rows in in_design]
        fits: list[tuple[float, float] | None] = [None] * k
        coef_variances = np.full(k, np.nan)
        if method in ("logit", "likelihood"):
            for domain in range(k):
                if 0 < estimates[domain] < 1:
                    rows = in_design[domain]
                    fits[domain] = glm_intercept(y[rows], w[rows] * n_rows[domain] / w[rows].sum())
            mu = np.array([0.5 if fit is None else 1 / (1 + np.exp(-fit[0])) for fit in fits])
            # svyglm's sandwich: the influence of the intercept is w (y - mu) / (sum(w) mu (1 - mu))
            glm_influence = w * (y - mu[codes]) / (population[codes] * (mu * (1 - mu))[codes])
            coef_variances = np.maximum(self.variances(self._columns(codes, k, glm_influence)), 0.0)
        rows = []
        for domain in range(k):
            chosen = in_design[domain]
            rows.append(
                (
                    *proportion_bounds(
                        method,
                        estimates[domain],
                        variances[domain],
                        level,
                        degfs[domain],
                        n_rows[domain],
                        y[chosen],
                        w[chosen],
                        fits[domain],
                        coef_variances[domain],
                    ),
                    degfs[domain],
                )
            )
        low, high, degf = (np.array(values) for values in zip(*rows))
        return pd.DataFrame(
            {
                "estimate": estimates,
                "se": np.sqrt(variances),
                "low": low,
                "high": high,
                "degf": degf.astype(int),
                "n": np.bincount(codes, (w > 0).astype(float), k).astype(int),
            },
            index=domain_index(domains, by, column),
        )

    # --- replicate weights -------------------------------------------------------------------------------

    def first_stage(self) -> FirstStage:
        """The first stage's PSUs and strata, for building replicate weights (see ``analysis.replicates``).

        R: ``design$cluster[, 1]``, ``design$strata[, 1]`` and ``design$fpc`` of a ``svydesign``.
        """
        stage, _ = self._stages[0]
        return FirstStage(
            stage.row_cluster, stage.cluster_stratum, stage.n_clusters, stage.remaining, stage.centred, self._strata
        )

    def jackknife(self, recalibrate: Callable[[np.ndarray], np.ndarray] | None = None) -> ReplicateDesign:
        """The delete-one-PSU jackknife of this design's first stage: ``analysis.replicates.jackknife(self, ...)``.

        R: ``as.svrepdesign(design, type = "JKn")`` (``"JK1"`` for an unstratified design, which is the same).
        """
        from analysis.replicates import jackknife

        return jackknife(self, recalibrate)
