"""Sampling frames: a population frame (strata with population counts) and a list frame (the units that can
be invited), read from CSV or Excel with errors that name the row and the column."""
from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from sampling._errors import SamplingError


def _read_table(source: str | Path | bytes | BinaryIO | pd.DataFrame, name: str | None = None) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    suffix = Path(name or (source if isinstance(source, (str, Path)) else "")).suffix.lower()
    raw = source if not isinstance(source, bytes) else io.BytesIO(source)
    try:
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(raw, dtype=str)
        if isinstance(source, bytes) and b"\x00" in source:
            raise ValueError("a NUL character: not a UTF-8 text file")
        return pd.read_csv(raw, dtype=str, encoding="utf-8-sig")
    except Exception as error:  # the readers raise many kinds (zip, XML, decoding, parsing) for a damaged file
        raise SamplingError("unreadable_file", "the file cannot be read as {kind}: {reason}",
                            kind="Excel" if suffix in (".xlsx", ".xlsm") else "CSV", reason=str(error)[:200])


def _require(table: pd.DataFrame, columns: list[str]) -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise SamplingError("missing_column", "the frame has no column {column}", column=missing[0])
    for column in columns:
        blank = table[column].isna() | (table[column].astype(str).str.strip() == "")
        if blank.any():
            raise SamplingError("missing_value", "row {row} has no value in column {column}",
                                row=int(blank.to_numpy().nonzero()[0][0]) + 2, column=column)


def _population_table(source, strata: list[str], count: str, name: str | None) -> tuple[pd.DataFrame, pd.Series]:
    """The frame's rows, their stratum columns stripped, and their counts as numbers; a row that repeats another
    in every column but the count is refused."""
    named = strata + [count]
    if len(set(named)) < len(named):
        twice = next(column for column in named if named.count(column) > 1)
        raise SamplingError("column_twice", "column {column} is named twice among the strata and the count",
                            column=twice)
    table = _read_table(source, name)
    _require(table, named)
    counts = pd.to_numeric(table[count].astype(str).str.replace(",", "", regex=False).str.strip(), errors="coerce")
    bad = counts.isna() | (counts < 0)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise SamplingError("invalid_count", "row {row} has an invalid population count {value!r}",
                            row=row + 2, value=table[count].iloc[row])
    # a row is a repeat only if it agrees with an earlier one in every column that is not the count: rows that
    # differ in a column left out of the strata are parts of one stratum, to be added up
    described = table.drop(columns=[count]).apply(lambda column: column.fillna("").astype(str).str.strip())
    duplicated = described.duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise SamplingError("duplicate_stratum", "row {row} repeats stratum {stratum}", row=row + 2,
                            stratum=" × ".join(described[strata].iloc[row]))
    for column in strata:
        table[column] = described[column]
    return table, counts


def _stratum_index(keys: pd.DataFrame, strata: list[str]) -> pd.Index:
    return pd.MultiIndex.from_frame(keys) if len(strata) > 1 else pd.Index(keys[strata[0]], name=strata[0])


def read_population_frame(source, strata: list[str], count: str = "population", *,
                          name: str | None = None) -> pd.Series:
    """A population frame: the population count of every stratum.

    The strata may be fewer than the frame's columns: a frame by province × urban/rural × sex × age stratified by
    province × urban/rural gives each stratum the sum of its rows.

    :param source: a path, the file's bytes (then ``name`` gives its type), a file object or a DataFrame
    :param strata: the columns that name a stratum
    :param count: the column of population counts
    :return: counts indexed by stratum (a MultiIndex for several columns), in the order strata first appear
    :raises SamplingError: ``column_twice``, ``missing_column``, ``missing_value``, ``invalid_count`` (not a
        number, or negative) and ``duplicate_stratum`` (a row that repeats another in every column but the
        count), naming the row (as numbered in the file, header = 1)
    """
    table, counts = _population_table(source, strata, count, name)
    summed = counts.groupby([table[column] for column in strata], sort=False).sum()
    keys = summed.index.to_frame(index=False)
    keys.columns = strata
    return pd.Series(summed.to_numpy(dtype=float), index=_stratum_index(keys, strata), name=count)


def read_stratum_deviations(source, strata: list[str], column: str, *, kind: str = "sd",
                            count: str = "population", name: str | None = None) -> pd.Series:
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
    table, counts = _population_table(source, strata, count, name)
    _require(table, [column])
    values = pd.to_numeric(table[column].astype(str).str.strip(), errors="coerce")
    bad = values.isna() | (values < 0) | ((values > 1) if kind == "proportion" else False)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise SamplingError("invalid_deviation", "row {row} has an invalid value {value!r} in column {column}",
                            row=row + 2, value=table[column].iloc[row], column=column)
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
            raise SamplingError("varying_sd", "the rows of stratum {stratum} give different standard deviations",
                                stratum=stratum)
        deviations = spread["min"]
    keys = deviations.index.to_frame(index=False)
    keys.columns = strata
    return pd.Series(deviations.to_numpy(dtype=float), index=_stratum_index(keys, strata), name=column)


def read_list_frame(source, strata: list[str], *, size: str | None = None, name: str | None = None) -> pd.DataFrame:
    """A list frame: one row per unit that can be invited, with its stratum columns and an optional size
    measure (for PPS selection).

    :raises SamplingError: ``missing_column``, ``missing_value``, ``invalid_size``, naming the row
    """
    table = _read_table(source, name)
    _require(table, strata + ([size] if size else []))
    if size:
        measure = pd.to_numeric(table[size], errors="coerce")
        bad = measure.isna() | (measure <= 0)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise SamplingError("invalid_size", "row {row} has an invalid size measure {value!r}", row=row + 2,
                                value=table[size].iloc[row])
        table[size] = measure
    for column in strata:
        table[column] = table[column].str.strip()
    return table
