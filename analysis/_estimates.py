"""The arithmetic behind ``Design.total/mean/proportion/ratio``: several variables (a categorical one giving one share
per level) in domains made of several ``by`` columns, as one matrix of influence values whose variances, and on
request covariances, come from one call of the design (R's ``svymean(~x + y)``, ``svyby(~x, ~a + b, svymean)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from analysis._columns import column_names, design_effect, labels, numeric
from analysis._errors import EstimationError
from analysis._intervals import estimates_table, interval_quantile
from analysis.contrasts import Estimates

if TYPE_CHECKING:
    from analysis.design import Design

KINDS = ("total", "mean", "proportion", "ratio")
#: the simple-random-sampling variance of ``deff``: without replacement (with the fpc, R's ``deff = TRUE``) or with
#: replacement (R's ``deff = "replace"``)
DEFFS = (True, "replace")


@dataclass
class _Variable:
    """One estimated quantity per domain: its label, its level (categorical columns), its values and which rows
    it counts (``valid``); a ratio also has its denominator's values."""

    name: str
    level: object
    values: np.ndarray
    valid: np.ndarray
    denominator: np.ndarray | None = None


def _check_columns(data: pd.DataFrame, names: Sequence[str]) -> None:
    for name in names:
        if name not in data.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column=name)


def domains(data: pd.DataFrame, by) -> tuple[np.ndarray, pd.Index | pd.MultiIndex, list[str]]:
    """Domain codes of the rows, the domains' labels (the combinations of the ``by`` columns that occur, in sorted
    order) and the ``by`` columns. ``by`` is None, a column, or a list of columns."""
    if by is None or (not isinstance(by, str) and len(by) == 0):
        return np.zeros(len(data), dtype=np.int64), pd.Index(["all"]), []
    names = [by] if isinstance(by, str) else list(by)
    _check_columns(data, names)
    if len(names) == 1:
        codes, uniques = labels(data[names[0]])
        return codes, uniques, names
    coded = [labels(data[name]) for name in names]
    key = np.zeros(len(data), dtype=np.int64)
    for codes, uniques in coded:
        key = key * len(uniques) + codes  # lexicographic: the first column varies slowest
    codes, combined = pd.factorize(key, sort=True)
    first = np.zeros(len(combined), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    arrays = [uniques.take(column_codes[first]) for column_codes, uniques in coded]
    return codes, pd.MultiIndex.from_arrays(arrays, names=names), names


def _categorical(data: pd.DataFrame, column: str) -> tuple[np.ndarray, pd.Index]:
    """Level codes (-1 where missing) and the levels that occur, in sorted (or category) order."""
    codes, levels = pd.factorize(data[column], sort=True)
    return codes, pd.Index(levels)


def _variables(design: Design, kind: str, columns: list[str], denominators: list[str], listwise: bool):
    """The quantities to estimate; a row missing a value is left out of the column's estimates, or (``listwise``) of
    every column's, as R's ``na.rm = TRUE`` does with several variables."""
    data = design.data
    _check_columns(data, columns + denominators)
    read: dict[str, tuple] = {}
    for column in dict.fromkeys(columns + denominators):
        categorical = kind == "proportion" or (
            kind in ("total", "mean") and isinstance(data[column].dtype, pd.CategoricalDtype)
        )
        if categorical and column in columns:
            codes, levels = _categorical(data, column)
            read[column] = ("levels", codes, levels, codes >= 0)
        else:
            values = numeric(data, column)
            read[column] = ("numeric", values, None, np.isfinite(values))
    together = np.logical_and.reduce([entry[3] for entry in read.values()])
    variables: list[_Variable] = []
    if kind == "ratio":
        # R's svyratio(~a + b, ~c + d) lists a/c, b/c, a/d, b/d
        for denominator in denominators:
            for column in columns:
                valid = together if listwise else read[column][3] & read[denominator][3]
                numerator_values, denominator_values = read[column][1], read[denominator][1]
                variables.append(
                    _Variable(
                        f"{column}/{denominator}",
                        "",
                        np.where(valid, numerator_values, 0.0),
                        valid,
                        np.where(valid, denominator_values, 0.0),
                    )
                )
        return variables, False
    any_levels = False
    for column in columns:
        form, values, levels, present = read[column]
        valid = together if listwise else present
        if form == "levels":
            any_levels = True
            for index, level in enumerate(levels):
                variables.append(_Variable(column, level, (values == index).astype(float), valid))
        else:
            variables.append(_Variable(column, "", np.where(valid, values, 0.0), valid))
    return variables, any_levels


def estimate(
    design: Design,
    kind: str,
    columns,
    *,
    by=None,
    denominator=None,
    confidence: float = 0.95,
    interval: str = "normal",
    deff: bool | str = True,
    listwise: bool = True,
    covariance: bool = False,
) -> pd.DataFrame | Estimates:
    """The table of estimates of ``Design.total/mean/proportion/ratio`` (see there), or ``Estimates`` with their
    covariance when ``covariance`` is true."""
    if deff not in DEFFS or isinstance(deff, (int, float)) and deff is not True:
        raise EstimationError("unknown_deff", "deff must be True or 'replace', not {deff}", deff=str(deff))
    names, several = column_names(columns, "numerator" if kind == "ratio" else "column")
    denominators, several_denominators = column_names(denominator, "denominator") if kind == "ratio" else ([], False)
    codes, domain_labels, by_names = domains(design.data, by)
    variables, any_levels = _variables(design, kind, names, denominators, listwise)
    k, m = len(domain_labels), len(variables)
    estimates = np.empty((k, m))
    srs = np.empty((k, m))
    counts = np.empty((k, m))
    rows, columns_of, entries = [], [], []
    member = (codes, k)
    for j, variable in enumerate(variables):
        w = np.where(variable.valid, design.weights, 0.0)
        y = variable.values
        counts[:, j] = np.bincount(codes, (w > 0).astype(float), k)
        if kind == "total":
            estimates[:, j] = np.bincount(codes, w * y, k)
            influence = w * y
            srs[:, j] = design._srs_variance(y, member, w, mean_scale=False, replace=deff == "replace")
        elif kind == "ratio":
            base = np.bincount(codes, w * variable.denominator, k)
            if (base == 0).any():
                raise EstimationError(
                    "zero_denominator",
                    "the denominator's total is 0 in domain {domain}",
                    domain=_domain_name(domain_labels, int(np.flatnonzero(base == 0)[0])),
                )
            estimates[:, j] = np.bincount(codes, w * y, k) / base
            residual = (y - estimates[codes, j] * variable.denominator) / base[codes]
            influence = w * residual
            srs[:, j] = design._srs_variance(residual, member, w, mean_scale=False, replace=deff == "replace")
        else:
            population = np.bincount(codes, w, k)
            empty = np.flatnonzero(population == 0)
            if empty.size:
                raise EstimationError(
                    "empty_domain",
                    "domain {domain} has no respondent with a weight",
                    domain=_domain_name(domain_labels, int(empty[0])),
                )
            estimates[:, j] = np.bincount(codes, w * y, k) / population
            influence = w * (y - estimates[codes, j]) / population[codes]
            srs[:, j] = design._srs_variance(y, member, w, mean_scale=True, replace=deff == "replace")
        used = np.flatnonzero(influence != 0)
        rows.append(used)
        columns_of.append(codes[used] * m + j)  # domain-major: a domain's variables side by side
        entries.append(influence[used])
    matrix = sparse.csc_matrix(
        (np.concatenate(entries), (np.concatenate(rows), np.concatenate(columns_of))), shape=(len(codes), k * m)
    )
    variances = design.variances(matrix)
    deffs = design_effect(variances, srs.ravel())
    index = _index(
        domain_labels,
        by_names,
        variables,
        variable_level=several or several_denominators or not by_names,
        level_level=any_levels,
    )
    table = estimates_table(
        estimates.ravel(), variances, deffs, counts.ravel(), index, interval_quantile(confidence, interval, design.degf)
    )
    if not covariance:
        return table
    matrix_of = design.covariance(matrix)
    return Estimates(table, pd.DataFrame(matrix_of, index=index, columns=index), design.degf())


def _domain_name(domain_labels, position: int):
    name = domain_labels[position]
    return ", ".join(map(str, name)) if isinstance(name, tuple) else name


def _index(domain_labels, by_names, variables, *, variable_level: bool, level_level: bool) -> pd.Index:
    """(domain columns..., variable, level): the variable when several were asked for (or no domains), the level
    when a categorical column is among them; one level gives a plain Index."""
    k, m = len(domain_labels), len(variables)
    domain_positions = np.repeat(np.arange(k), m)
    arrays, names = [], []
    if by_names:
        if isinstance(domain_labels, pd.MultiIndex):
            for level in range(domain_labels.nlevels):
                arrays.append(domain_labels.get_level_values(level).take(domain_positions))
        else:
            arrays.append(domain_labels.take(domain_positions))
        names.extend(by_names)
    if variable_level:
        arrays.append(pd.Index([variable.name for variable in variables] * k))
        names.append("variable")
    if level_level:
        arrays.append(pd.Index([variable.level for variable in variables] * k))
        names.append("level")
    if len(arrays) == 1:
        return pd.Index(arrays[0], name=names[0])
    return pd.MultiIndex.from_arrays(arrays, names=names)
