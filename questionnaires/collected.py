"""Responses collected with ODK or KoboToolbox from our XLSForm, read from those tools' CSV exports.

ODK Central names a column by its group path joined with ``-`` (``section_DG-q_dg3``), KoboToolbox with
``/`` (``section_DG/q_dg3``), and either may export only the question names; a multiple-choice answer is
one column of space-separated values (Kobo adds a 0/1 column per choice, which is ignored here). Every row
is checked like a web response; a row with a problem is rejected with its reasons, the others are returned.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from questionnaires.questions import Questionnaire, QuestionType
from questionnaires.responses import check_answers
from questionnaires.tables import TableError, read_table
from questionnaires.xlsform import group_name

#: columns that carry a submission's identifier, in order of preference
IDENTIFIER_COLUMNS = ("meta-instanceid", "meta/instanceid", "instanceid", "_uuid", "key")
UNIT_COLUMN = "unit"
MAX_ROWS = 200_000


@dataclass
class CollectedResponse:
    line: int
    submission_id: str
    answers: dict[str, Any]
    #: the unit code the row names, when the file has a ``unit`` column
    unit: str | None = None
    started_at: datetime | None = None
    submitted_at: datetime | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.submitted_at and self.submitted_at >= self.started_at:
            return (self.submitted_at - self.started_at).total_seconds()
        return None


@dataclass
class RejectedRow:
    line: int
    #: (question code or column, problem code) for every reason
    reasons: list[tuple[str, str]]


@dataclass
class CollectedFile:
    responses: list[CollectedResponse] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    #: a problem with the file as a whole: the reader's (``questionnaires.tables.TableError``'s codes),
    #: ``empty_file``, ``no_identifier_column``, ``no_question_column`` or ``too_many_rows``
    problem: str | None = None
    #: what names the problem's place (``row`` or ``column``), when it has one
    details: dict[str, Any] = field(default_factory=dict)


def _last_segment(header: str) -> str:
    return re.split(r"[/-]", header.strip())[-1]


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def read_collected_csv(questionnaire: Questionnaire, data: bytes) -> CollectedFile:
    """Read an ODK Central or KoboToolbox CSV export of the questionnaire's XLSForm."""
    result = CollectedFile()
    try:
        table = read_table(data, excel=False)
    except TableError as error:
        result.problem, result.details = error.code, error.params
        return result
    header = list(table.header)
    if not header:
        result.problem = "empty_file"
        return result
    lowered = list(table.columns)
    identifier = next((lowered.index(name) for name in IDENTIFIER_COLUMNS if name in lowered), None)
    if identifier is None:
        result.problem = "no_identifier_column"
        return result
    codes = {question.code for question in questionnaire.questions()}
    columns: dict[str, int] = {}
    for index, column in enumerate(header):
        segment = _last_segment(column)
        if segment in codes and segment not in columns:
            columns[segment] = index
    if not columns:
        result.problem = "no_question_column"
        return result
    unit_column = lowered.index(UNIT_COLUMN) if UNIT_COLUMN in lowered else None
    start = next((i for i, c in enumerate(lowered) if _last_segment(c) == "start"), None)
    end = next((i for i, c in enumerate(lowered) if _last_segment(c) == "end"), None)
    multiple = {q.code for q in questionnaire.questions() if q.type is QuestionType.MULTIPLE}
    if len(table.rows) > MAX_ROWS:
        result.problem = "too_many_rows"
        return result
    seen: set[str] = set()
    for line, row in table.numbered():
        cell = lambda index, row=row: row[index] if index is not None else ""  # noqa: E731
        submission_id = cell(identifier)
        if not submission_id:
            result.rejected.append(RejectedRow(line, [(header[identifier], "missing_identifier")]))
            continue
        if submission_id in seen:
            result.rejected.append(RejectedRow(line, [(header[identifier], "duplicate_identifier")]))
            continue
        seen.add(submission_id)
        raw = {code: (cell(index).split() if code in multiple else cell(index)) for code, index in columns.items()}
        checked = check_answers(questionnaire, raw)
        if not checked.valid:
            result.rejected.append(
                RejectedRow(line, [(code, str(problem)) for code, problem in checked.problems.items()])
            )
            continue
        result.responses.append(
            CollectedResponse(
                line,
                submission_id,
                checked.answers,
                unit=cell(unit_column) or None,
                started_at=_timestamp(cell(start)),
                submitted_at=_timestamp(cell(end)),
            )
        )
    return result


def to_odk_csv(questionnaire: Questionnaire, rows: list[tuple[str, dict[str, Any]]]) -> str:
    """Rows of (instance identifier, answers) as ODK Central exports them: the inverse of
    :func:`read_collected_csv`, for tests and for teams moving data between tools."""
    columns = [
        (f"{group_name(section)}-{question.code}", question)
        for section in questionnaire.sections
        for question in section.questions
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["SubmissionDate"] + [name for name, _ in columns] + ["meta-instanceID", "KEY"])
    for instance, answers in rows:
        values = []
        for _, question in columns:
            value = answers.get(question.code)
            if isinstance(value, list):
                value = " ".join(value)
            elif isinstance(value, float) and value.is_integer():
                value = int(value)
            values.append("" if value is None else value)
        writer.writerow(["2026-01-01T00:00:00.000Z"] + values + [instance, instance])
    return buffer.getvalue()
