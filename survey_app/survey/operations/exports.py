"""A fieldwork's responses as data files, written as they are read: a batch of rows at a time from the
database (``review.export_batches``), so that a national fieldwork's export holds one batch in memory.

CSV goes out as it is written; Excel (openpyxl's write-only mode) and the SPSS and Stata files, which their
writers finish only at the end, are written to a temporary file that is then sent in blocks.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Callable, Iterable, Iterator

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from pandas.api.types import is_numeric_dtype

from questionnaires.exports import labelled, response_table, sheet_text, to_csv
from survey_app.survey.operations.review import ExportSource, export_batches

#: the rows of an Excel worksheet under its header row; past them the responses go on to another sheet
SHEET_ROWS = 1_048_575
#: bytes sent at a time from a finished file
BLOCK = 1 << 20
#: a text column of a batch with at most this many values keeps one copy of each
SHARED_TEXTS = 1000
#: SPSS keeps 250 bytes of a variable's label, Stata 80
LABEL_BYTES = {"sav": 250, "dta": 80}


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


def aligned(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Coded batches made alike: a numeric column that one batch left all blank (nobody in it answered, so
    ``labelled`` wrote it as text) is a blank number there too, as it would be in a table coded at once."""
    numeric = {column for part in parts for column in part.columns if is_numeric_dtype(part[column])}
    for part in parts:
        for column in numeric:
            if not is_numeric_dtype(part[column]) and part[column].fillna("").eq("").all():
                part[column] = float("nan")
    return parts


def write_statistical(source: ExportSource, path: str, fmt: str, language: str) -> None:
    """An SPSS (``sav``) or Stata (``dta``) file of the responses with the questionnaire's labels
    (questionnaires.exports.labelled). pyreadstat writes a whole table at once: each batch is coded to numbers
    as it comes (a choice is a float, not a text), so that the table held is the coded one only."""
    import pyreadstat

    coded_parts, variable_labels, value_labels = [], {}, {}
    shared: dict[str, dict[str, str]] = {}
    for table in _tables(source):
        coded, variable_labels, value_labels = labelled(source.questionnaire, table, language, LABEL_BYTES[fmt])
        for column in coded.columns:
            # a text of few values (the unit, the source, the flags, a choice) is held once, not once a row
            if not is_numeric_dtype(coded[column]) and coded[column].nunique() <= SHARED_TEXTS:
                seen = shared.setdefault(column, {})
                coded[column] = [seen.setdefault(value, value) for value in coded[column]]
        coded_parts.append(coded)
    coded = pd.concat(aligned(coded_parts), ignore_index=True) if len(coded_parts) > 1 else coded_parts[0]
    del coded_parts
    options = {"column_labels": variable_labels, "variable_value_labels": value_labels}
    if fmt == "sav":
        pyreadstat.write_sav(coded, path, **options)
    else:
        pyreadstat.write_dta(coded, path, version=15, **options)


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
        return csv_chunks(source)
    if fmt == "xlsx":
        return file_chunks(lambda path: write_xlsx(source, path), ".xlsx")
    return file_chunks(lambda path: write_statistical(source, path, fmt, language), f".{fmt}")
