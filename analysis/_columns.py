"""What the estimators share: analysis variables read as numbers, design variables as codes, the design effect."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis._errors import EstimationError


def design_effect(variances: np.ndarray, srs_variances: np.ndarray) -> np.ndarray:
    """The design effect; undefined (NaN or infinite) where simple random sampling has no variance, as for a
    domain of one respondent or one where everyone answered alike."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return variances / srs_variances


def labels(values: pd.Series | np.ndarray) -> tuple[np.ndarray, pd.Index]:
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    if (codes < 0).any():
        raise EstimationError(
            "missing_design_value",
            "row {row} has no value for a design variable",
            row=int(np.flatnonzero(codes < 0)[0]),
        )
    return codes, pd.Index(uniques)


def numeric(data: pd.DataFrame, column: str) -> np.ndarray:
    """The values of an analysis variable as floats, NaN where missing (NaN, None, an empty or blank text).

    Parameters
    ----------
    data : DataFrame
        The respondents.
    column : str
        The analysis variable.

    Returns
    -------
    ndarray
        One float per row.

    Raises
    ------
    EstimationError
        ``unknown_column`` without such a column; ``not_numeric`` naming the column, the first row (counted from
        0) and the value when a value is text that is not a number, instead of taking it as missing. R's
        ``svymean``/``svytotal`` would instead treat a column of text as categorical (shares of its levels).
    """
    if column not in data.columns:
        raise EstimationError("unknown_column", "no column {column} in the data", column=column)
    raw = data[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    for row in np.flatnonzero(np.isnan(values) & ~raw.isna().to_numpy()):
        value = raw.iloc[row]
        if isinstance(value, str) and not value.strip():
            continue
        try:
            missing = np.isnan(float(value))  # "NaN" is a missing value written out
        except (TypeError, ValueError):
            missing = False
        if not missing:
            raise EstimationError(
                "not_numeric",
                "column {column} is not numeric: row {row} holds {value}",
                column=column,
                row=int(row),
                value=str(value),
            )
    return values


def column_names(columns, argument: str) -> tuple[list[str], bool]:
    """The column names of ``columns`` (a name or a list of names) and whether a list was given."""
    if isinstance(columns, str):
        return [columns], False
    names = list(columns) if columns is not None else []
    if not names or not all(isinstance(name, str) for name in names):
        raise EstimationError(
            "no_columns", "{argument} must be a column name or a non-empty list of them", argument=argument
        )
    return names, True


def domains_of(data: pd.DataFrame, by: str | None) -> tuple[np.ndarray, pd.Index]:
    """The domain of every row (its index in the sorted domains) and the domains; one domain "all" without ``by``.

    Raises ``EstimationError`` ``unknown_column`` without such a column, ``missing_design_value`` for a row
    without a domain."""
    if by is None:
        return np.zeros(len(data), dtype=np.int64), pd.Index(["all"])
    if by not in data.columns:
        raise EstimationError("unknown_column", "no column {column} in the data", column=by)
    return labels(data[by])


def domain_index(domain_labels, by: str | None, name: str) -> pd.Index:
    """The index of a table of estimates: the domains named after ``by``, or the estimate's name."""
    return pd.Index(domain_labels, name=by) if by else pd.Index([name], name="variable")


def check_domains(population: np.ndarray, domain_labels) -> None:
    """Raise ``empty_domain`` naming the first domain whose weights add up to 0 (R stops on such a subset)."""
    empty = np.flatnonzero(population == 0)
    if empty.size:
        raise EstimationError(
            "empty_domain", "domain {domain} has no respondent with a weight", domain=domain_labels[int(empty[0])]
        )
