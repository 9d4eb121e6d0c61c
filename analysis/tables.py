"""Two-way tables of a survey design: the estimated population counts and shares of every cell, and the tests of
independence of their rows and columns with Rao and Scott's corrections of Pearson's X², or a design-based Wald
test, as R's ``svytable`` and ``svychisq`` compute them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.stats import chi2, f

from analysis._errors import EstimationError

if TYPE_CHECKING:
    from analysis.design import Design

#: R's ``svychisq(statistic = ...)``: the second-order Rao-Scott F, the first-order corrected chi-square, the Wald
#: test of the difference between the cells and the product of their margins, and its adjusted F
STATISTICS = ("F", "Chisq", "Wald", "adjWald")


@dataclass(frozen=True)
class TableTest:
    """A test of independence in a two-way table of a design (``independence_test``). R: the ``htest`` that
    ``svychisq`` returns (statistic, parameter, p.value), with the table R's ``svytable`` gives."""

    #: "F", "Chisq", "Wald" or "adjWald"
    method: str
    #: F: Pearson's X² over the mean generalised design effect; Chisq: the same, compared with chi-square on
    #: (r - 1)(c - 1) df (R prints Pearson's X² itself, ``pearson`` here); Wald, adjWald: the F statistic
    statistic: float
    #: numerator degrees of freedom (the chi-square's for Chisq)
    ndf: float
    #: denominator degrees of freedom; None for Chisq
    ddf: float | None
    #: the upper tail probability of ``statistic``
    p_value: float
    #: Pearson's X² of the estimated table scaled to the number of rows of the data (R's ``svytable(..., Ntotal)``)
    pearson: float
    #: the eigenvalues of Rao and Scott's matrix of generalised design effects (empty for the Wald tests)
    design_effects: np.ndarray
    #: the estimated population count of every cell: rows × columns
    counts: pd.DataFrame
    #: every cell's share of the population, with its standard error in ``proportion_se``
    proportions: pd.DataFrame
    #: the standard errors of ``proportions``
    proportion_se: pd.DataFrame


def _codes(design: Design, column: str) -> tuple[np.ndarray, pd.Index]:
    if column not in design.data.columns:
        raise EstimationError("unknown_column", "no column {column} in the data", column=column)
    codes, levels = pd.factorize(design.data[column], sort=True)
    return codes, pd.Index(levels, name=column)


def _cells(design: Design, row: str, column: str):
    """Cell codes (column-major as R's ``interaction(row, column)``: rows vary fastest), levels, the weights of rows
    with both values (0 elsewhere) and the cell indicators (n × rc, sparse)."""
    row_codes, row_levels = _codes(design, row)
    column_codes, column_levels = _codes(design, column)
    complete = (row_codes >= 0) & (column_codes >= 0)
    # levels that occur among the rows with both values (R counts a level occurring beside a missing one too, which
    # only adds an empty row or column and no test)
    row_codes, row_levels = _relevel(row_codes, row_levels, complete)
    column_codes, column_levels = _relevel(column_codes, column_levels, complete)
    nr, nc = len(row_levels), len(column_levels)
    if nr < 2 or nc < 2:
        raise EstimationError(
            "table_too_small",
            "a two-way table needs two levels or more in {row} and in {column}; it has {rows} by {columns}",
            row=row,
            column=column,
            rows=nr,
            columns=nc,
        )
    weights = np.where(complete, design.weights, 0.0)
    cells = np.where(complete, row_codes + nr * column_codes, 0)
    indicators = sparse.csc_matrix(
        (complete.astype(float), (np.arange(len(cells)), cells)), shape=(len(cells), nr * nc)
    )
    return cells, row_levels, column_levels, weights, indicators, complete


def _relevel(codes, levels, complete):
    used = np.unique(codes[complete])
    renumber = np.full(len(levels), -1)
    renumber[used] = np.arange(len(used))
    return np.where(codes >= 0, renumber[np.maximum(codes, 0)], -1), levels[used]


def independence_test(design: Design, row: str, column: str, *, statistic: str = "F") -> TableTest:
    """Whether two categorical variables are independent in the population, tested on a design: Pearson's X² of
    the estimated table with Rao and Scott's correction for the design, or a design-based Wald test.

    R: ``svychisq(~row + column, design, statistic = statistic)`` (``survey:::svychisq.survey.design``), and the
    table of ``svytable(~row + column, design)``.

    Parameters
    ----------
    design : Design
        The survey design (any stages, fpc, calibrations).
    row, column : str
        The two categorical columns; rows missing either are left out (R's ``na.rm = TRUE``).
    statistic : {"F", "Chisq", "Wald", "adjWald"}
        ``"F"`` (R's default): the second-order correction, ``X² / tr(Δ)`` on an F distribution with ``d``
        and ``d ν`` degrees of freedom, ``d = tr(Δ)² / tr(Δ²)``, ``ν`` the PSUs minus the strata and ``Δ`` the
        matrix of generalised design effects of the cells' shares in the space of interactions. ``"Chisq"``: the
        first-order correction, ``X²`` over the mean eigenvalue of ``Δ`` on chi-square with ``(r - 1)(c - 1)``
        df. ``"Wald"``: the Wald statistic of the differences between every cell's count and the product of its
        margins over the total (leaving out the first row and column) divided by ``(r - 1)(c - 1)``, on F with
        ``(r - 1)(c - 1)`` and ``ν`` df; ``"adjWald"`` multiplies it by ``(ν - ndf + 1) / ν`` on ``ν - ndf + 1``.

    Returns
    -------
    TableTest
        The statistic, its degrees of freedom, the p-value, Pearson's X², the generalised design effects and the
        table: estimated counts and shares (with standard errors) of every cell, rows × columns.

    Raises
    ------
    EstimationError
        ``unknown_column``; ``unknown_statistic`` for another statistic; ``table_too_small`` naming both columns
        when one has fewer than two levels among the rows with both values; ``empty_table`` when those rows weigh
        nothing.

    Notes
    -----
    ``X²`` is computed on the table scaled to the number of rows of the data, counting rows missing a value, as R
    does (``svytable(..., Ntotal = nrow)``); the degrees of freedom ``ν`` count every PSU and stratum of the first
    stage. A level occurring only beside a missing value of the other variable is left out of the table, where R
    keeps it as an empty row or column (which makes R's test NaN).
    """
    if statistic not in STATISTICS:
        raise EstimationError("unknown_statistic", "statistic must be one of {options}", options=STATISTICS)
    cells, row_levels, column_levels, w, indicators, complete = _cells(design, row, column)
    nr, nc = len(row_levels), len(column_levels)
    n_rows = len(design.data)
    total = w.sum()
    if total <= 0:
        raise EstimationError("empty_table", "no respondent with a weight has both {row} and {column}", row=row,
                              column=column)  # fmt: skip
    counts = np.bincount(cells, w, nr * nc)
    shares = counts / total
    # the cells' shares as means: influence w (1[cell] - p) / W on the rows with both values
    influence = sparse.csc_matrix(indicators.multiply(w[:, None]) / total) - sparse.csc_matrix(
        np.outer(w / total, shares)
    )
    share_cov = design.covariance(influence)
    stage = design.first_stage()
    nu = len(stage.psu_stratum) - len(stage.psus)  # R: PSUs minus strata of the whole design
    # Pearson's X² of the table scaled to the rows of the data (R's svytable(..., Ntotal = nrow))
    scaled = (counts * n_rows / total).reshape(nc, nr).T
    expected = np.outer(scaled.sum(axis=1), scaled.sum(axis=0)) / n_rows
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(((scaled - expected) ** 2 / expected).sum())
    df = (nr - 1) * (nc - 1)
    eigenvalues = np.array([])
    if statistic in ("F", "Chisq"):
        delta = _design_effects(shares, share_cov, nr, nc, n_rows)
        eigenvalues = np.sort(np.linalg.eigvals(delta).real)[::-1]
        trace, trace2 = np.trace(delta), np.trace(delta @ delta)
        if statistic == "F":
            d0 = trace**2 / trace2
            value, ndf, ddf = pearson / trace, d0, d0 * nu
            p_value = float(f.sf(value, ndf, ddf))
        else:
            value, ndf, ddf = pearson / (trace / df), float(df), None
            p_value = float(chi2.sf(value, df))
    else:
        value, ndf, ddf, p_value = _wald(design, cells, w, complete, nr, nc, nu, statistic)
    shape = dict(index=row_levels, columns=column_levels)
    return TableTest(
        statistic,
        float(value),
        float(ndf),
        None if ddf is None else float(ddf),
        p_value,
        pearson,
        eigenvalues,
        pd.DataFrame(counts.reshape(nc, nr).T, **shape),
        pd.DataFrame(shares.reshape(nc, nr).T, **shape),
        pd.DataFrame(np.sqrt(np.maximum(np.diag(share_cov), 0)).reshape(nc, nr).T, **shape),
    )


def _design_effects(shares, covariance, nr, nc, n_rows) -> np.ndarray:
    """Rao and Scott's Δ: the design covariance of the cells' shares against the multinomial one, projected on the
    interaction contrasts orthogonal (unweighted) to the main effects of rows and columns."""
    row_of = np.tile(np.arange(nr), nc)  # cells column-major: rows vary fastest
    column_of = np.repeat(np.arange(nc), nr)
    main = np.column_stack(
        [np.ones(nr * nc)]
        + [(row_of == i).astype(float) for i in range(1, nr)]
        + [(column_of == j).astype(float) for j in range(1, nc)]
    )
    interactions = np.column_stack(
        [((row_of == i) & (column_of == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coefficients, *_ = np.linalg.lstsq(main, interactions, rcond=None)
    contrasts = interactions - main @ coefficients
    with np.errstate(divide="ignore"):
        inverse = np.where(shares == 0, 0.0, 1 / np.where(shares == 0, 1.0, shares))
    weighted = contrasts * inverse[:, None]
    multinomial = contrasts.T @ weighted / n_rows
    design = weighted.T @ covariance @ weighted
    return np.linalg.solve(multinomial, design)


def _wald(design, cells, w, complete, nr, nc, nu, statistic):
    """R's design-based Wald test: the differences ``N_ij - N_i. N_.j / N`` of the cells but the first row and
    column, with their covariance by linearisation (influence ``1[ij] - (N_.j 1[i] + N_i. 1[j]) / N
    + N_i. N_.j 1 / N²``, times the weight)."""
    row_of, column_of = cells % nr, cells // nr
    counts = np.bincount(cells, w, nr * nc).reshape(nc, nr).T
    row_totals, column_totals, total = counts.sum(axis=1), counts.sum(axis=0), counts.sum()
    used = [(i, j) for j in range(1, nc) for i in range(1, nr)]
    values = np.array([counts[i, j] - row_totals[i] * column_totals[j] / total for i, j in used])
    influence = np.column_stack(
        [
            w
            * complete
            * (
                ((row_of == i) & (column_of == j))
                - column_totals[j] / total * (row_of == i)
                - row_totals[i] / total * (column_of == j)
                + row_totals[i] * column_totals[j] / total**2
            )
            for i, j in used
        ]
    )
    covariance = design.covariance(influence)
    # R's solve() stops when the reciprocal condition number is below the machine epsilon: more cells than the
    # PSUs can tell apart
    if not 1 / np.linalg.cond(covariance, 1) >= np.finfo(float).eps:
        raise EstimationError(
            "singular_wald",
            "the Wald test of {cells} cells has a singular covariance (more cells than the PSUs can tell apart): use "
            "statistic F",
            cells=len(values),
        )
    wald = float(values @ np.linalg.solve(covariance, values))
    ndf = (nr - 1) * (nc - 1)
    if statistic == "Wald":
        value, ddf = wald / ndf, nu
    else:
        ddf = nu - ndf + 1
        value = wald * ddf / (ndf * nu)
    return value, ndf, ddf, float(f.sf(value, ndf, ddf))


__all__ = ["STATISTICS", "TableTest", "independence_test"]
