"""The one reader of uploaded tables: CSV with either separator, a byte-order mark, Excel, headers compared
trimmed and case-folded, and every problem named by the row a spreadsheet shows (the header is row 1)."""

import io
import unicodedata
from datetime import datetime

import openpyxl
import pytest

from questionnaires.tables import Table, TableError, header_key, read_table


def _xlsx(*rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"unit,value\n01,\"85,5\"\n02,7\n",
        b"unit;value\n01;85,5\n02;7\n",
        b"\xef\xbb\xbfunit;value\r\n01;85,5\r\n02;7\r\n",
        b"\xef\xbb\xbf unit , value \n 01 ,\"85,5\"\n02,7",
    ],
)
def test_either_separator_with_or_without_a_byte_order_mark(data):
    table = read_table(data, "values.csv")
    assert table.columns == ("unit", "value")
    assert table.records() == [{"unit": "01", "value": "85,5"}, {"unit": "02", "value": "7"}]


def test_the_separator_is_the_header_lines_even_when_values_hold_the_other():
    table = read_table(b"unit;note\n01;a, b, c\n", "x.csv")
    assert table.records() == [{"unit": "01", "note": "a, b, c"}]


def test_a_workbook_reads_its_first_sheet_as_the_sheet_shows_it():
    data = _xlsx(
        ["Unit", "Value", "When", "Done", None],
        ["01", 85.5, datetime(2025, 3, 1), True, "note"],
        [None, None, None, None, None],
        [2, 7.0, datetime(2025, 3, 1, 8, 30), False],
    )
    table = read_table(data, "values.xlsx")
    assert table.header == ("Unit", "Value", "When", "Done")
    assert list(table.numbered()) == [
        (2, ("01", "85.5", "2025-03-01", "TRUE")),
        (4, ("2", "7", "2025-03-01 08:30:00", "FALSE")),
    ]
    # the content decides, whatever the name says
    assert read_table(data, "values.csv").rows == table.rows


def test_headers_are_compared_trimmed_case_folded_and_composed():
    decomposed = unicodedata.normalize("NFD", "Mã  Đơn vị")
    assert header_key(f"  {decomposed} ") == "mã đơn vị" == header_key("MÃ ĐƠN VỊ")
    table = read_table(f"{decomposed},VALUE\n01,1\n".encode(), "x.csv")
    assert table.header == (decomposed, "VALUE") and table.records() == [{"mã đơn vị": "01", "value": "1"}]


def test_rows_are_numbered_as_a_spreadsheet_shows_them():
    # a cell with a line break is one row; blank rows count; trailing blank rows and cells are dropped
    table = read_table(b'unit,note\n01,"two\nlines"\n\n,\n02,x,,\n\n\n', "x.csv")
    assert table.first_row == 2
    assert list(table.numbered()) == [(2, ("01", "two\nlines")), (5, ("02", "x"))]
    assert [row["unit"] for row in table.records()] == ["01", "", "", "02"]
    assert table.frame().index.tolist() == [2, 5] and table.frame().loc[5, "note"] == "x"


def test_blank_rows_above_the_header_are_skipped_and_counted():
    table = read_table(b"\n\nunit\n01\n", "x.csv")
    assert (table.header, list(table.numbered())) == (("unit",), [(4, ("01",))])


def test_an_empty_file_is_an_empty_table():
    assert read_table(b"", "x.csv") == Table((), (), first_row=1)
    assert read_table(b"\xef\xbb\xbf\n\n", "x.csv").header == ()


@pytest.mark.parametrize(
    "data, code, params",
    [
        # not UTF-8: Windows-1258 Vietnamese on row 4, below a cell holding a line break (row 2 spans two lines)
        (b'unit,name\n01,"a\nb"\n02,ok\n03,Nguy\xean\n', "not_utf8", {"row": 4}),
        (b"\xff\xfeu\x00n\x00", "not_utf8", {"row": 1}),  # UTF-16, as Excel saves "Unicode text"
        (b"unit,name\n01,a\x00b\n", "not_utf8", {"row": 2}),
        (b'unit,name\n01,ok\n02,"never closed\n03,x\n', "unreadable_row", {"row": 3}),
        (b'unit,name\n01,"closed"then more\n', "unreadable_row", {"row": 2}),
        # a decimal comma in a comma-separated file: the value would be cut in two
        (b"unit,value\n01,7\n02,85,5\n", "extra_cells", {"row": 3, "cells": 3, "columns": 2}),
        (b"unit,Value,VALUE \n01,1,2\n", "duplicate_column", {"column": "VALUE"}),
    ],
)
def test_a_bad_file_is_refused_naming_its_row(data, code, params):
    with pytest.raises(TableError) as caught:
        read_table(data, "x.csv")
    assert (caught.value.code, caught.value.params) == (code, params)


@pytest.mark.parametrize(
    "data, name, excel, kind",
    [
        (b"PK\x03\x04 not a workbook", "x.xlsx", True, "Excel (.xlsx)"),
        (b"%PDF-1.4", "x.xlsx", True, "Excel (.xlsx)"),
        (_xlsx(["unit"], ["01"]), "x.xlsx", False, "CSV (UTF-8)"),
        (_xlsx(["unit"], ["01"]), "x.csv", False, "CSV (UTF-8)"),
        (b"\xd0\xcf\x11\xe0", "x.xls", False, "CSV (UTF-8)"),
        (b"\xd0\xcf\x11\xe0", "x.xls", True, "Excel (.xlsx)"),  # Excel 97-2003: to be saved as .xlsx
    ],
)
def test_a_file_of_another_kind_is_refused_with_the_kind_expected(data, name, excel, kind):
    with pytest.raises(TableError) as caught:
        read_table(data, name, excel=excel)
    assert (caught.value.code, caught.value.params) == ("unreadable_file", {"kind": kind})


def test_a_path_or_a_file_object_reads_like_bytes(tmp_path):
    path = tmp_path / "frame.csv"
    path.write_bytes(b"unit;value\n01;1\n")
    assert read_table(path) == read_table(io.BytesIO(path.read_bytes()), "frame.csv") == read_table(path.read_bytes())
