"""Sampling frames: a population frame (strata with population counts) and a list frame (the units that can
be invited), read from CSV or Excel (``questionnaires.tables``) with errors that name the row and the column."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from questionnaires.tables import TableError, header_key, read_table
from sampling._errors import SamplingError


def _read_table(
    source: str | Path | bytes | BinaryIO | pd.DataFrame, name: str | None, columns: list[str]
) -> pd.DataFrame:
    """The rows that hold anything, indexed by their row in the file (the header is row 1), every cell as text;
    ``columns`` found whatever their case and spacing in the file, and named as given."""
    if isinstance(source, pd.DataFrame):
        table = source.copy()
        table.index = pd.RangeIndex(2, len(table) + 2, name="row")
    else:
        try:
            table = read_table(source, name or "").frame()
        except TableError as error:
            raise SamplingError(error.code, error.message, **error.params) from None
    wanted = {header_key(column): column for column in columns}
    return table.rename(columns=lambda column: wanted.get(header_key(column), column))


def _first(bad: pd.Series) -> tuple[int, int]:
    """The position of the first true value, and the row of the file it stands on."""
    position = int(bad.to_numpy().nonzero()[0][0])
    return position, int(bad.index[position])


def _require(table: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise SamplingError("missing_column", "the frame has no column {column}", column=missing[0])
    for column in columns:
        blank = table[column].isna() | (table[column].astype(str).str.strip() == "")
        if blank.any():
            raise SamplingError(
                "missing_value", "row {row} has no value in column {column}", row=_first(blank)[1], column=column
            )


def _population_table(
    source, strata: list[str], count: str, name: str | None, extra: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, pd.Series]:
    """The frame's rows, their stratum columns stripped, and their counts as numbers; a row that repeats another
    in every column but the count is refused. ``extra`` names other columns the caller reads."""
    named = strata + [count]
    keys = [header_key(column) for column in named]
    if len(set(keys)) < len(keys):
        twice = next(column for column, key in zip(named, keys) if keys.count(key) > 1)
        raise SamplingError(
            "column_twice", "column {column} is named twice among the strata and the count", column=twice
        )
    table = _read_table(source, name, named + list(extra))
    _require(table, named)
    counts = pd.to_numeric(table[count].astype(str).str.replace(",", "", regex=False).str.strip(), errors="coerce")
    bad = counts.isna() | (counts < 0)
    if bad.any():
        position, row = _first(bad)
        raise SamplingError(
            "invalid_count",
            "row {row} has an invalid population count {value!r}",
            row=row,
            value=table[count].iloc[position],
        )
    # a row is a repeat only if it agrees with an earlier one in every column that is not the count: rows that
    # differ in a column left out of the strata are parts of one stratum, to be added up
    described = table.drop(columns=[count]).apply(lambda column: column.fillna("").astype(str).str.strip())
    duplicated = described.duplicated()
    if duplicated.any():
        position, row = _first(duplicated)
        raise SamplingError(
            "duplicate_stratum",
            "row {row} repeats stratum {stratum}",
            row=row,
            stratum=" × ".join(described[strata].iloc[position]),
        )
    for column in strata:
        table[column] = described[column]
    return table, counts


def _stratum_index(keys: pd.DataFrame, strata: list[str]) -> pd.Index:
    return pd.MultiIndex.from_frame(keys) if len(strata) > 1 else pd.Index(keys[strata[0]], name=strata[0])


def read_population_frame(
    source, strata: list[str], count: str = "population", *, name: str | None = None
) -> pd.Series:
    """A population frame: the population count of every stratum.

    The strata may be fewer than the frame's columns: a frame by province × urban/rural × sex × age stratified by
    province × urban/rural gives each stratum the sum of its rows.

    :param source: a path, the file's bytes (then ``name`` gives its type), a file object or a DataFrame
    :param strata: the columns that name a stratum
    :param count: the column of population counts
    :return: counts indexed by stratum (a MultiIndex for several columns), in the order strata first appear
    :raises SamplingError: those of the file (``questionnaires.tables.TableError``'s codes), ``column_twice``,
        ``missing_column``, ``missing_value``, ``invalid_count`` (not a number, or negative) and
        ``duplicate_stratum`` (a row that repeats another in every column but the count), naming the row (as
        numbered in the file, header = 1); columns are found whatever their case and spacing
    """
    table, counts = _population_table(source, strata, count, name)
    summed = counts.groupby([table[column] for column in strata], sort=False).sum()
    keys = summed.index.to_frame(index=False)
    keys.columns = strata
    return pd.Series(summed.to_numpy(dtype=float), index=_stratum_index(keys, strata), name=count)


def read_stratum_deviations(
    source, strata: list[str], column: str, *, kind: str = "sd", count: str = "population", name: str | None = None
) -> pd.Series:
    """The standard deviation of the study variable in every stratum, for Neyman allocation, from a column of
    the population frame.

    Parameters
    ----------
    source, strata, count, name
        As for :func:`read_population_frame`.
    column : str
        The column holding, on every row, a standard deviation (``kind="sd"``) or the expected proportion of a
        yes/no study variable (``kind="proportion"``).
    kind : {"sd", "proportion"}
        What the column holds.

    Returns
    -------
    Series
        ``S_h`` indexed like :func:`read_population_frame`'s counts.

    Raises
    ------
    SamplingError
        Those of :func:`read_population_frame`, ``invalid_deviation`` (not a number, negative, or a proportion
        outside [0, 1]; naming the row) and ``varying_sd`` (a stratum whose rows give different standard
        deviations).

    Notes
    -----
    The rows of a stratum (when the strata are fewer than the frame's columns) combine exactly for a proportion:
    ``P_h = Σ N_k P_k / Σ N_k``, and ``S_h = sqrt(P_h (1 - P_h))``. Standard deviations do not combine without
    the rows' means, so the rows of a stratum must give the same one.
    """
    if kind not in ("sd", "proportion"):
        raise SamplingError("unknown_kind", "unknown kind of spread {kind}", kind=kind)
    table, counts = _population_table(source, strata, count, name, extra=(column,))
    _require(table, [column])
    values = pd.to_numeric(table[column].astype(str).str.strip(), errors="coerce")
    bad = values.isna() | (values < 0) | ((values > 1) if kind == "proportion" else False)
    if bad.any():
        position, row = _first(bad)
        raise SamplingError(
            "invalid_deviation",
            "row {row} has an invalid value {value!r} in column {column}",
            row=row,
            value=table[column].iloc[position],
            column=column,
        )
    groups = [table[key] for key in strata]
    if kind == "proportion":
        weighted = (values * counts).groupby(groups, sort=False).sum()
        population = counts.groupby(groups, sort=False).sum()
        plain = values.groupby(groups, sort=False).mean()
        # a stratum with no population keeps its rows' plain mean: it gets no sample either way
        share = (weighted / population.where(population > 0)).fillna(plain)
        deviations = np.sqrt(share * (1 - share))
    else:
        spread = values.groupby(groups, sort=False).agg(["min", "max"])
        varying = spread["max"] != spread["min"]
        if varying.any():
            stratum = varying[varying].index[0]
            raise SamplingError(
                "varying_sd", "the rows of stratum {stratum} give different standard deviations", stratum=stratum
            )
        deviations = spread["min"]
    keys = deviations.index.to_frame(index=False)
    keys.columns = strata
    return pd.Series(deviations.to_numpy(dtype=float), index=_stratum_index(keys, strata), name=column)


def read_list_frame(source, strata: list[str], *, size: str | None = None, name: str | None = None) -> pd.DataFrame:
    """A list frame: one row per unit that can be invited, with its stratum columns and an optional size
    measure (for PPS selection).

    :raises SamplingError: ``missing_column``, ``missing_value``, ``invalid_size``, naming the row
    """
    named = strata + ([size] if size else [])
    table = _read_table(source, name, named)
    _require(table, named)
    if size:
        measure = pd.to_numeric(table[size], errors="coerce")
        bad = measure.isna() | (measure <= 0)
        if bad.any():
            position, row = _first(bad)
            raise SamplingError(
                "invalid_size",
                "row {row} has an invalid size measure {value!r}",
                row=row,
                value=table[size].iloc[position],
            )
        table[size] = measure
    for column in strata:
        table[column] = table[column].str.strip()
    return table.reset_index(drop=True)
