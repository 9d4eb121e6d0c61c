"""Uploaded tables, read one way for every upload: a CSV (``,`` or ``;`` between cells, with or without a UTF-8
byte-order mark) or the first sheet of an Excel workbook, every cell as text.

Rows are numbered as the user sees them in a spreadsheet: the header is row 1 (below any blank rows above it),
a cell holding a line break does not start a new row, and blank rows count. A problem is an error with a code
and the values naming the row or column, never translated text; the service translates it.

The writers are in ``questionnaires.exports``. Sizes are not checked here: the service measures an upload
before anything reads it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from openpyxl import load_workbook

CSV = "CSV (UTF-8)"
EXCEL = "Excel (.xlsx)"
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_ZIP_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """A file that cannot be read as a table.

    ``code`` names the problem: ``unreadable_file`` (``kind``: not a readable CSV or workbook at all),
    ``not_utf8`` (``row``: bytes that are not UTF-8 text, or a NUL), ``unreadable_row`` (``row``: quotation
    marks that do not close), ``extra_cells`` (``row``, ``cells``, ``columns``: a CSV row longer than its
    header, most often a value holding the separator unquoted) or ``duplicate_column`` (``column``).
    """

    def __init__(self, code: str, message: str, /, **params):
        self.code = code
        self.params = params
        #: the message with its placeholders, for a caller that raises its own kind of error with it
        self.message = message
        super().__init__(message.format(**params))


def header_key(text: Any) -> str:
    """A header as it is compared: composed Unicode (Vietnamese typed either way), surrounding and repeated
    space removed, case folded."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).casefold()


@dataclass(frozen=True)
class Table:
    """A table as read: the header and every row below it as text."""

    #: the header's cells as written, surrounding space removed
    header: tuple[str, ...]
    #: the rows below the header, each as wide as the header, surrounding space removed from every cell; a
    #: blank row stays (trailing ones excepted), so ``rows[i]`` is row ``first_row + i`` of the file
    rows: tuple[tuple[str, ...], ...]
    #: the number of the first row below the header
    first_row: int = 2

    @property
    def columns(self) -> tuple[str, ...]:
        """The header as compared (see :func:`header_key`)."""
        return tuple(header_key(cell) for cell in self.header)

    def numbered(self) -> Iterator[tuple[int, tuple[str, ...]]]:
        """The rows that hold anything, each with its number in the file."""
        for offset, row in enumerate(self.rows):
            if any(row):
                yield self.first_row + offset, row

    def records(self) -> list[dict[str, str]]:
        """A mapping per row keyed by :attr:`columns`, blank rows included so that a caller numbering the
        records from :attr:`first_row` names the rows as the file does; a column without a header is left out."""
        keys = [(index, key) for index, key in enumerate(self.columns) if key]
        return [{key: row[index] for index, key in keys} for row in self.rows]

    def frame(self) -> pd.DataFrame:
        """The rows that hold anything, as a DataFrame of text indexed by row number; columns named as
        written, a column without a header left out."""
        kept = [index for index, key in enumerate(self.columns) if key]
        numbered = list(self.numbered())
        return pd.DataFrame(
            [[row[index] for index in kept] for _, row in numbered],
            columns=[self.header[index] for index in kept],
            index=pd.Index([number for number, _ in numbered], name="row"),
            dtype=object,
        )


def read_table(source: bytes | str | Path | BinaryIO, name: str = "", *, excel: bool = True) -> Table:
    """Read an uploaded table.

    :param source: the file's bytes, a path or a binary file object
    :param name: the file's name as uploaded; ``.xlsx`` or ``.xlsm`` (or a workbook's content, whatever
        the name) reads the first sheet of a workbook, anything else a CSV
    :param excel: whether the upload takes workbooks; without, only a CSV is read
    :return: the header (the first row that holds anything) and the rows below it
    :raises TableError: see :class:`TableError`
    """
    if isinstance(source, (str, Path)):
        name = name or str(source)
        data = Path(source).read_bytes()
    else:
        data = source if isinstance(source, bytes) else source.read()
    suffix = Path(name).suffix.lower()
    if excel and (suffix in _EXCEL_SUFFIXES or data.startswith(_ZIP_MAGIC)):
        return _table(_sheet_rows(data), widen=False)
    if suffix in _EXCEL_SUFFIXES + (".xls",) or data.startswith(_ZIP_MAGIC):  # a workbook, or an old .xls
        raise TableError("unreadable_file", "the file cannot be read as {kind}", kind=EXCEL if excel else CSV)
    return _table(_csv_rows(data), widen=True)


def _table(rows: Iterator[list[str]], *, widen: bool) -> Table:
    number, header = 0, []
    for number, row in enumerate(rows, start=1):  # noqa: B007 - the header's row number is read after the loop
        if any(row):
            header = row
            break
    first_row = number + 1
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for cell in header:
        key = header_key(cell)
        if key in seen:
            raise TableError("duplicate_column", "column {column} is named twice", column=cell)
        if key:
            seen.add(key)
    width, body = len(header), []
    for number, row in enumerate(rows, start=first_row):
        if widen and any(row[width:]):
            raise TableError(
                "extra_cells",
                "row {row} has {cells} cells, the header {columns}",
                row=number,
                cells=len(row),
                columns=width,
            )
        body.append(tuple(row[:width]) + ("",) * (width - len(row)))
    while body and not any(body[-1]):
        body.pop()
    return Table(tuple(header), tuple(body), first_row=first_row)


# --- CSV -----------------------------------------------------------------------------------------------------


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _row_at(text: str, position: int) -> int:
    """The row (as a spreadsheet numbers it) of the character at ``position``."""
    before = text[:position] + "x"  # the row of the character itself, even right after a line break
    return sum(1 for _ in csv.reader(io.StringIO(before, newline=""), delimiter=_delimiter(text)))


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8-sig")
        raise TableError("not_utf8", "row {row} is not UTF-8 text", row=_row_at(prefix, len(prefix))) from None
    if "\x00" in text:  # UTF-16 or a binary file, and nothing a database text column can hold
        raise TableError("not_utf8", "row {row} is not UTF-8 text", row=_row_at(text, text.index("\x00")))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows = []
    try:
        for row in reader:
            rows.append([cell.strip() for cell in row])
    except csv.Error:
        raise TableError(
            "unreadable_row", "row {row} cannot be read: check its quotation marks", row=len(rows) + 1
        ) from None
    return iter(rows)


# --- Excel ---------------------------------------------------------------------------------------------------


def _sheet_rows(data: bytes) -> Iterator[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # some writers record a wrong extent; read what is there
            rows = [[_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    except Exception:  # openpyxl raises many kinds (zip, XML, missing parts) for a damaged workbook
        raise TableError("unreadable_file", "the file cannot be read as {kind}", kind=EXCEL) from None
    return iter(rows)


def _text(value: Any) -> str:
    """A cell's value as the sheet shows it, without its number format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()
