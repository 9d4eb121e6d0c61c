"""Responses as data files: CSV and Excel that a spreadsheet cannot turn into formulas, and SPSS and Stata
files whose variables and values carry the questionnaire's labels.

One row per response; one column per question, a multiple-choice question as a 0/1 column per choice
(``q_hr2__email``), as statistical packages expect.
"""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any, Iterable, Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from questionnaires.questions import Questionnaire, QuestionType

#: the columns every export starts with, before the answers
META_COLUMNS = ("response_id", "unit", "submitted_at", "duration_seconds", "source", "flags", "excluded")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: what gets a leading quote: a formula's start, and the quote itself, so that the quote can be read back
#: off (``unsafe_cell``) without guessing
_QUOTED_STARTS = _FORMULA_STARTS + ("'",)


def safe_cell(value: Any) -> Any:
    """A cell value that a spreadsheet shows as typed: text starting like a formula gets a leading quote, as
    does text starting with a quote."""
    if isinstance(value, str) and value[:1] in _QUOTED_STARTS:
        return "'" + value
    return value


def unsafe_cell(value: Any) -> Any:
    """The value ``safe_cell`` was given: what a program reading our CSV back does to each text cell."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in _QUOTED_STARTS:
        return value[1:]
    return value


def sheet_text(value: Any) -> Any:
    """Text an Excel cell can hold: control characters (which answers refuse, but older data or other inputs
    may carry) become U+FFFD instead of failing the whole export."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def choice_column(code: str, choice: str) -> str:
    return f"{code}__{choice}"


def response_table(questionnaire: Questionnaire, records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The responses as a table of answers as stored (choice values, numbers, text).

    :param records: mappings with the META_COLUMNS keys and ``answers``
    """
    rows = []
    questions = questionnaire.questions()
    for record in records:
        row = {column: record.get(column) for column in META_COLUMNS}
        if isinstance(row["flags"], (list, tuple)):
            row["flags"] = " ".join(row["flags"])
        answers = record.get("answers") or {}
        for question in questions:
            value = answers.get(question.code)
            if question.type is QuestionType.MULTIPLE:
                for choice in question.all_choices():
                    row[choice_column(question.code, choice.value)] = (
                        None if value is None else int(choice.value in value)
                    )
            elif question.type is QuestionType.UNIT:
                row[question.code] = record.get("unit")
            else:
                row[question.code] = value
        rows.append(row)
    columns = list(META_COLUMNS) + [
        name
        for question in questions
        for name in (
            [choice_column(question.code, c.value) for c in question.all_choices()]
            if question.type is QuestionType.MULTIPLE
            else [question.code]
        )
    ]
    return pd.DataFrame(rows, columns=columns)


def to_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads Vietnamese correctly; formula-safe. Rows end in CR LF
    (RFC 4180), so a field holding a CR or an LF, alone or together, is quoted and stays one field of one row."""
    safe = table.map(safe_cell)
    return ("\ufeff" + safe.to_csv(index=False, lineterminator="\r\n")).encode("utf-8")


def to_xlsx(table: pd.DataFrame, sheet: str = "responses") -> bytes:
    """An Excel workbook whose every text cell is stored as text, never as a formula."""
    book = Workbook()
    worksheet = book.active
    worksheet.title = sheet
    worksheet.append([sheet_text(str(column)) for column in table.columns])
    for row in table.itertuples(index=False):
        worksheet.append([None if _missing(value) else sheet_text(value) for value in row])
    for row in worksheet.iter_rows(min_row=1):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _clipped(text: str, limit_bytes: int) -> str:
    # the formats count a label's length in UTF-8 bytes; cut on a character boundary
    return text.encode("utf-8")[:limit_bytes].decode("utf-8", errors="ignore")


def labelled(
    questionnaire: Questionnaire, table: pd.DataFrame, language: str = "vi", label_bytes: int = 250
) -> tuple[pd.DataFrame, dict[str, str], dict[str, dict[int, str]]]:
    """The table coded for a statistical package: every choice question as numbers 1..k (a Likert scale
    keeps its own numbers) with value labels, and a label for every variable.

    :return: the coded table, variable labels and value labels
    """
    coded = table.copy()
    variable_labels = {
        "response_id": "Response",
        "unit": "Unit",
        "submitted_at": "Submitted (UTC)",
        "duration_seconds": "Duration (seconds)",
        "source": "Source",
        "flags": "Quality flags",
        "excluded": "Excluded",
    }
    value_labels: dict[str, dict[int, str]] = {}
    for question in questionnaire.questions():
        text = question.text.in_language(language)
        choices = question.all_choices()
        if question.type is QuestionType.MULTIPLE:
            for choice in choices:
                column = choice_column(question.code, choice.value)
                variable_labels[column] = f"{text}: {choice.label.in_language(language)}"
                value_labels[column] = {0: "0", 1: "1"}
            continue
        variable_labels[question.code] = text
        if not choices:
            continue
        numeric = all(choice.value.lstrip("-").isdigit() for choice in choices)
        codes = {c.value: (int(c.value) if numeric else position) for position, c in enumerate(choices, start=1)}
        coded[question.code] = table[question.code].map(codes).astype("float64")
        value_labels[question.code] = {codes[c.value]: c.label.in_language(language) for c in choices}
    coded["submitted_at"] = coded["submitted_at"].astype(str)
    coded["excluded"] = coded["excluded"].astype("float64")
    for column in coded.columns:
        if coded[column].dtype == object:
            coded[column] = coded[column].map(lambda v: "" if _missing(v) else str(v))
    return coded, {k: _clipped(v, label_bytes) for k, v in variable_labels.items() if k in coded.columns}, value_labels


def _written(write, table: pd.DataFrame, suffix: str, **options) -> bytes:
    # pyreadstat writes to a path only
    handle, path = tempfile.mkstemp(suffix=suffix)
    os.close(handle)
    try:
        write(table, path, **options)
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.unlink(path)


def to_spss(questionnaire: Questionnaire, table: pd.DataFrame, language: str = "vi") -> bytes:
    import pyreadstat

    coded, variable_labels, value_labels = labelled(questionnaire, table, language)
    return _written(
        pyreadstat.write_sav, coded, ".sav", column_labels=variable_labels, variable_value_labels=value_labels
    )


def to_stata(questionnaire: Questionnaire, table: pd.DataFrame, language: str = "vi") -> bytes:
    import pyreadstat

    # Stata keeps 80 bytes of a variable's label
    coded, variable_labels, value_labels = labelled(questionnaire, table, language, label_bytes=80)
    return _written(
        pyreadstat.write_dta,
        coded,
        ".dta",
        column_labels=variable_labels,
        variable_value_labels=value_labels,
        version=15,
    )
