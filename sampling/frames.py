"""Sampling frames: a population frame (strata with population counts) and a list frame (the units that can
be invited), read from CSV or Excel with errors that name the row and the column."""
from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

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


def read_population_frame(source, strata: list[str], count: str = "population", *,
                          name: str | None = None) -> pd.Series:
    """A population frame: one row per stratum with its population count.

    :param source: a path, the file's bytes (then ``name`` gives its type), a file object or a DataFrame
    :param strata: the columns that name a stratum
    :param count: the column of population counts
    :return: counts indexed by stratum (a MultiIndex for several columns)
    :raises SamplingError: ``missing_column``, ``missing_value``, ``invalid_count`` (not a number, or
        negative) and ``duplicate_stratum``, naming the row (as numbered in the file, header = 1)
    """
    table = _read_table(source, name)
    _require(table, strata + [count])
    counts = pd.to_numeric(table[count].str.replace(",", "", regex=False).str.strip(), errors="coerce")
    bad = counts.isna() | (counts < 0)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise SamplingError("invalid_count", "row {row} has an invalid population count {value!r}",
                            row=row + 2, value=table[count].iloc[row])
    keys = table[strata].apply(lambda column: column.str.strip())
    duplicated = keys.duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise SamplingError("duplicate_stratum", "row {row} repeats stratum {stratum}", row=row + 2,
                            stratum=" × ".join(keys.iloc[row]))
    index = pd.MultiIndex.from_frame(keys) if len(strata) > 1 else pd.Index(keys[strata[0]], name=strata[0])
    return pd.Series(counts.to_numpy(), index=index, name=count)


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
