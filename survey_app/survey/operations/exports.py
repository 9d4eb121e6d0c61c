"""A fieldwork's responses as data files, written as they are read: a batch of rows at a time from the
database (``review.export_batches``), so that a national fieldwork's export holds one batch in memory.

CSV goes out as it is written; Excel (openpyxl's write-only mode) and the SPSS and Stata files, which their
writers finish only at the end, are written to a temporary file that is then sent in blocks.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from pandas.api.types import is_numeric_dtype
from sqlalchemy import func, select

from questionnaires.exports import labelled, response_table, sheet_text, to_csv
from survey_app.survey.models import Response
from survey_app.survey.operations.export_copy import copy_csv_chunks
from survey_app.survey.operations.review import ExportSource, export_batches

#: the rows of an Excel worksheet under its header row; past them the responses go on to another sheet
SHEET_ROWS = 1_048_575
#: bytes sent at a time from a finished file
BLOCK = 1 << 20
#: a text column of a batch with at most this many values keeps one copy of each
SHARED_TEXTS = 1000
#: SPSS keeps 250 bytes of a variable's label, Stata 80
LABEL_BYTES = {"sav": 250, "dta": 80}
#: a date-time in each package: seconds from its epoch to 1970's (SPSS counts seconds from 14 October 1582,
#: Stata milliseconds from 1960, as pyreadstat writes them), the unit, and the display format
CLOCKS = {"sav": (12_219_379_200, 1, "DATETIME"), "dta": (315_619_200, 1000, "%tc")}


def _tables(source: ExportSource) -> Iterator[pd.DataFrame]:
    """The responses as response_table()s of a batch each; one empty table when there are none."""
    empty = True
    for records in export_batches(source):
        empty = False
        yield response_table(source.questionnaire, records)
    if empty:
        yield response_table(source.questionnaire, [])


def csv_chunks(source: ExportSource) -> Iterator[bytes]:
    """The CSV of the responses (questionnaires.exports.to_csv: a byte-order mark, formula-safe, CR LF), a
    batch at a time: the first with the byte-order mark and the header, the others rows only."""
    first = True
    for table in _tables(source):
        data = to_csv(table)
        if not first:
            # the header is the same on every batch: column names are question codes, never quoted over lines
            data = data[data.index(b"\r\n") + 2 :]
        first = False
        yield data


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    # openpyxl takes a text starting with "=" for a formula: say it is text, as to_xlsx does
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


def _xlsx_value(sheet, value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        value = sheet_text(value)
        return _text_cell(sheet, value) if value[:1] == "=" else value
    return value.item() if hasattr(value, "item") else value


def write_xlsx(source: ExportSource, path: str, sheet_rows: int = SHEET_ROWS) -> None:
    """An Excel workbook of the responses in openpyxl's write-only mode (rows are written to disk as they
    come); every text cell is text, never a formula. Past ``sheet_rows`` responses a sheet is full and the
    next ones go on to ``responses 2``, ``responses 3``, ..., each with the header."""
    book = Workbook(write_only=True)
    sheet, filled, count = None, 0, 0
    for table in _tables(source):
        header = [sheet_text(str(column)) for column in table.columns]
        if sheet is None:
            sheet, count = book.create_sheet("responses"), 1
            sheet.append(header)
        for row in table.itertuples(index=False):
            if filled == sheet_rows:
                count += 1
                sheet, filled = book.create_sheet(f"responses {count}"), 0
                sheet.append(header)
            sheet.append([_xlsx_value(sheet, value) for value in row])
            filled += 1
    book.save(path)


class CodedColumns:
    """The coded table of an SPSS or Stata file, made a batch at a time into arrays allocated once for every
    response: a batch's garbage is freed into memory the next batch reuses, instead of being left between the
    pieces of a growing table (which, at a million responses, held about twice the table). Codes (1..k, a
    choice's 0/1, excluded) are 4-byte floats, exact for them and written as the doubles pyreadstat writes for
    any float or int64 column; a text of few values is held once, not once a row."""

    def __init__(self, rows: int):
        self.rows = rows
        self.filled = 0
        self.arrays: dict[str, np.ndarray] = {}
        self._shared: dict[str, dict[str, str]] = {}

    def _array(self, column: str, values: pd.Series, codes: bool) -> np.ndarray:
        array = self.arrays.get(column)
        numeric = codes or is_numeric_dtype(values)
        if array is None or (array.dtype.kind == "O" and numeric and not any(array[: self.filled])):
            # first seen, or numeric now after batches that left it blank (``labelled`` writes a column nobody
            # answered as blank text): blank numbers for those batches, as in a table coded at once
            if numeric:
                # other numbers (the id, the duration, a number answered) as float64: written as doubles too
                array = np.full(self.rows, np.nan, dtype="float32" if codes else "float64")
            else:
                array = np.full(self.rows, "", dtype=object)
            self.arrays[column] = array
        return array

    def add(self, coded: pd.DataFrame, value_labels: dict) -> None:
        """Put a coded batch in the rows after those filled."""
        count = len(coded)
        if self.filled + count > self.rows:  # responses stored since they were counted
            grown = self.filled + count
            self.arrays = {
                column: np.concatenate(
                    [array, np.full(grown - self.rows, np.nan if array.dtype.kind == "f" else "")]
                ).astype(array.dtype)
                for column, array in self.arrays.items()
            }
            self.rows = grown
        window = slice(self.filled, self.filled + count)
        for column in coded.columns:
            values = coded[column]
            array = self._array(column, values, column in value_labels or column == "excluded")
            if array.dtype.kind == "O":
                texts = values.to_numpy(dtype=object)
                if values.nunique() <= SHARED_TEXTS:
                    seen = self._shared.setdefault(column, {})
                    texts = [seen.setdefault(value, value) for value in texts]
                array[window] = texts
            elif is_numeric_dtype(values):
                array[window] = values.to_numpy(dtype=array.dtype, na_value=np.nan)
            # else: a numeric column nobody in this batch answered, left blank
        self.filled += count

    def table(self) -> pd.DataFrame:
        """The table, each column handed over (and let go here) one at a time."""
        whole = pd.DataFrame(index=pd.RangeIndex(self.filled))
        for column in list(self.arrays):
            whole[column] = self.arrays.pop(column)[: self.filled]
        return whole


def package_clock(texts: pd.Series, fmt: str) -> pd.Series:
    """Submission times (ISO 8601 texts) as the package's date-time numbers: 8 bytes a response where the
    texts took some 80 (a Python string each), the most of a national table's memory; SPSS and Stata show
    them as date-times."""
    offset, unit, _ = CLOCKS[fmt]
    moments = pd.to_datetime(texts, format="ISO8601", utc=True)
    return ((moments - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1) + offset) * unit


def _count(source: ExportSource) -> int:
    with source.engine.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(Response).where(Response.fieldwork_id == source.fieldwork_id)
        )


def write_statistical(source: ExportSource, path: str, fmt: str, language: str) -> None:
    """An SPSS (``sav``) or Stata (``dta``) file of the responses with the questionnaire's labels
    (questionnaires.exports.labelled). pyreadstat writes a whole table at once: each batch is coded to numbers
    as it comes into ``CodedColumns``, which holds the table once, narrow; the submission time is a date-time
    of the package (``package_clock``), not a text."""
    import pyreadstat

    columns = CodedColumns(_count(source))
    variable_labels: dict[str, str] = {}
    value_labels: dict[str, dict[int, str]] = {}
    for table in _tables(source):
        coded, variable_labels, value_labels = labelled(source.questionnaire, table, language, LABEL_BYTES[fmt])
        del table
        coded["submitted_at"] = package_clock(coded["submitted_at"], fmt)
        columns.add(coded, value_labels)
        del coded
    whole = columns.table()
    options = {
        "column_labels": variable_labels,
        "variable_value_labels": value_labels,
        "variable_format": {"submitted_at": CLOCKS[fmt][2]},
    }
    if fmt == "sav":
        pyreadstat.write_sav(whole, path, **options)
    else:
        pyreadstat.write_dta(whole, path, version=15, **options)


def file_chunks(write: Callable[[str], None], suffix: str) -> Iterator[bytes]:
    """Write a file with ``write(path)`` to a temporary path, then give it in blocks; the file is removed
    once sent (or abandoned)."""
    handle, path = tempfile.mkstemp(suffix=suffix)
    os.close(handle)
    try:
        write(path)
        with open(path, "rb") as file:
            while block := file.read(BLOCK):
                yield block
    finally:
        os.unlink(path)


def export_chunks(source: ExportSource, fmt: str, language: str) -> Iterable[bytes]:
    """The responses as a ``csv``, ``xlsx``, ``sav`` or ``dta`` file, in pieces to send as they come: nothing
    is read before the first piece is asked for."""
    if fmt == "csv":
        # PostgreSQL writes the CSV itself (export_copy); SQLite (`make run`) has no COPY
        return copy_csv_chunks(source) if source.engine.dialect.name == "postgresql" else csv_chunks(source)
    if fmt == "xlsx":
        return file_chunks(lambda path: write_xlsx(source, path), ".xlsx")
    return file_chunks(lambda path: write_statistical(source, path, fmt, language), f".{fmt}")
