"""The CSV of a fieldwork's responses written by PostgreSQL itself: ``COPY (SELECT …) TO STDOUT WITH CSV``,
each column made in SQL as ``questionnaires.exports.to_csv`` writes it from ``response_table``, so that no
response becomes a Python dict and a pandas row on the way (the batch path, kept for SQLite, reads about
fifteen thousand responses a second; COPY a couple of hundred thousand).

The file is the one the batch path writes: the same byte-order mark and header, the same columns in the same
order, empty cells for no answer, a multiple-choice question's 0/1 columns, text that would start a formula
quoted with ``'``, CSV quoting where a cell holds a comma, a quote or a line break, and CR LF after each row
(PostgreSQL ends rows with LF: ``crlf_rows`` puts the CR in, outside quoted cells only). Numbers are written as
stored: a whole number as a whole number in every row (pandas writes ``3.0`` in a batch where someone left the
question blank), a number stored as ``1e5`` as ``100000``.

A request streams one COPY (``copy_csv_chunks``); a job writing a national file runs two at once, each of half
the responses (``copy_csv_halves``).
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import replace
from typing import Iterator

from psycopg import sql
from sqlalchemy import func, select

from questionnaires import QuestionType
from questionnaires.exports import response_table, safe_cell, to_csv
from survey_app.survey.models import Response
from survey_app.survey.operations.fieldwork import SOURCES
from survey_app.survey.operations.review import ExportSource

#: bytes gathered from COPY before they are given on (sent, or stored as a chunk)
COPY_BLOCK = 1 << 18
#: the first characters ``safe_cell`` guards (a formula's, and the quote), found by asking it
GUARDED_STARTS = tuple(chr(code) for code in range(128) if safe_cell(chr(code)) != chr(code))


def _safe(value: sql.Composable) -> sql.Composable:
    """``safe_cell`` in SQL: text starting like a formula (or with a quote) gets a leading quote."""
    starts = sql.SQL(", ").join(sql.Literal(start) for start in GUARDED_STARTS)
    return sql.SQL("CASE WHEN left({v}, 1) IN ({starts}) THEN '''' || {v} ELSE {v} END").format(v=value, starts=starts)


def _stored(code: str) -> sql.Composable:
    """An answer as ``response_table`` holds it and ``to_csv`` writes it: text formula-safe, a number as
    stored, true and false as Python writes them, an empty text or no answer as an empty cell."""
    value = sql.SQL("r.answers -> {code}").format(code=sql.Literal(code))
    text = sql.SQL("(r.answers ->> {code})").format(code=sql.Literal(code))
    return sql.SQL(
        "CASE jsonb_typeof({value}) WHEN 'string' THEN NULLIF({safe}, '') "
        "WHEN 'boolean' THEN initcap({text}) WHEN 'null' THEN NULL ELSE {text} END"
    ).format(value=value, safe=_safe(text), text=text)


def _choice(question) -> sql.Composable:
    """A single choice, yes/no or Likert answer: its value, which is one of the question's (answers are
    checked at submission), written as is when no value of the question needs the formula guard."""
    values = [choice.value for choice in question.all_choices()]
    if all(value and value[:1] not in GUARDED_STARTS for value in values):
        return sql.SQL("(r.answers ->> {code})").format(code=sql.Literal(question.code))
    return _stored(question.code)


def _ticked(code: str, choice: str) -> sql.Composable:
    """A multiple-choice question's column for one choice: 1 ticked, 0 not, empty when not answered."""
    return sql.SQL(
        "CASE WHEN (r.answers -> {code}) ? {choice} THEN '1' WHEN (r.answers -> {code}) <> 'null' THEN '0' END"
    ).format(code=sql.Literal(code), choice=sql.Literal(choice))


def copy_query(source: ExportSource, ids: tuple[int, int] | None = None) -> sql.Composable:
    """The COPY statement of the fieldwork's responses, in the columns of ``response_table``.

    :param ids: only the responses of these ids (first and last, included)
    """
    speeding = (
        sql.SQL("r.duration_seconds < {threshold}").format(threshold=sql.Literal(source.threshold))
        if source.threshold is not None
        else sql.SQL("false")
    )
    columns = [
        sql.SQL("r.id"),
        _safe(sql.SQL("u.code")),
        # isoformat(): seconds, and six digits of microseconds only when there are some (the ISO text of a
        # timestamp drops a fraction's trailing zeros, which rpad puts back; to_char costs three times more)
        sql.SQL(
            "replace(CASE WHEN date_trunc('second', r.submitted_at) = r.submitted_at "
            "THEN (r.submitted_at AT TIME ZONE 'UTC')::text "
            "ELSE rpad((r.submitted_at AT TIME ZONE 'UTC')::text, 26, '0') END, ' ', 'T') || '+00:00'"
        ),
        # a float column as pandas writes it: a whole number with ".0" (PostgreSQL would write "420")
        sql.SQL(
            "CASE WHEN r.duration_seconds = trunc(r.duration_seconds) AND abs(r.duration_seconds) < 1e15 "
            "THEN trunc(r.duration_seconds)::bigint || '.0' ELSE r.duration_seconds::text END"
        ),
        # web, api or import (SOURCES): none needs the formula guard
        sql.SQL("r.source") if all(safe_cell(source) == source for source in SOURCES) else _safe(sql.SQL("r.source")),
        # flags_of(): speeding first, then those stored at submission, in their order; most responses have
        # none, which the first comparison tells
        sql.SQL(
            "CASE WHEN r.flags <> '[]' AND jsonb_typeof(r.flags) = 'array' THEN concat_ws(' ', "
            "CASE WHEN {speeding} THEN 'speeding' END, (SELECT string_agg(f.flag, ' ' ORDER BY f.n) "
            "FROM jsonb_array_elements_text(r.flags) WITH ORDINALITY AS f(flag, n))) "
            "WHEN {speeding} THEN 'speeding' END"
        ).format(speeding=speeding),
        sql.SQL("CASE WHEN r.excluded THEN 'True' ELSE 'False' END"),
    ]
    for question in source.questionnaire.questions():
        if question.type is QuestionType.MULTIPLE:
            columns += [_ticked(question.code, choice.value) for choice in question.all_choices()]
        elif question.type is QuestionType.UNIT:
            columns.append(_safe(sql.SQL("u.code")))
        elif question.all_choices():
            columns.append(_choice(question))
        else:
            columns.append(_stored(question.code))
    within = (
        sql.SQL(" AND r.id BETWEEN {first} AND {last}").format(first=sql.Literal(ids[0]), last=sql.Literal(ids[1]))
        if ids
        else sql.SQL("")
    )
    return sql.SQL(
        "COPY (SELECT {columns} FROM responses r JOIN units u ON u.id = r.unit_id "
        "WHERE r.fieldwork_id = {fieldwork}{within} ORDER BY r.id) TO STDOUT WITH (FORMAT csv)"
    ).format(columns=sql.SQL(", ").join(columns), fieldwork=sql.Literal(source.fieldwork_id), within=within)


def crlf_rows(block: bytes, quoted: bool) -> tuple[bytes, bool]:
    """COPY's rows ending in CR LF, as ``to_csv`` ends them, a line break inside a quoted cell kept as it is.

    :param quoted: whether the block starts inside a quoted cell
    :return: the block, and whether the next one starts inside a quoted cell
    """
    if b'"' not in block:
        return (block if quoted else block.replace(b"\n", b"\r\n")), quoted
    # between quotes (a doubled quote opens and closes at once) is inside a cell: every other piece
    pieces = block.split(b'"')
    for index in range(1 if quoted else 0, len(pieces), 2):
        pieces[index] = pieces[index].replace(b"\n", b"\r\n")
    return b'"'.join(pieces), quoted ^ (len(pieces) % 2 == 0)


def _copied_rows(
    source: ExportSource, block: int, ids: tuple[int, int] | None = None, told: int = 0
) -> Iterator[bytes]:
    """The CSV rows (no header) of the responses, or of those of ``ids``, from COPY on a connection of its own
    (closed when the last block is given or the reader goes away), in blocks of about ``block`` bytes.

    :param told: responses already read elsewhere, added to what ``source.on_batch`` is told
    """
    with source.engine.connect() as connection:
        # a job's export may take longer than a request's statements may (REQUEST_STATEMENT_TIMEOUT_SECONDS)
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        # the texts of timestamps and floats the columns are made from, whatever the server's defaults
        connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO'")
        connection.exec_driver_sql("SET LOCAL extra_float_digits = 1")
        raw = connection.connection.driver_connection
        quoted = False
        with raw.cursor() as cursor, cursor.copy(copy_query(source, ids)) as copy:
            pending: list = []
            size, done = 0, told
            for row in copy:  # a row at a time (psycopg's Copy.read)
                pending.append(row)
                size += len(row)
                if size >= block:
                    data, quoted = crlf_rows(b"".join(pending), quoted)
                    done += len(pending)
                    pending, size = [], 0
                    if source.on_batch is not None:
                        source.on_batch(done)
                    yield data
            if pending:
                yield crlf_rows(b"".join(pending), quoted)[0]


def copy_csv_chunks(source: ExportSource, block: int = COPY_BLOCK) -> Iterator[bytes]:
    """The CSV of the responses from PostgreSQL's COPY, in blocks of about ``block`` bytes, on a connection
    of its own (closed when the last block is given or the reader goes away)."""
    yield to_csv(response_table(source.questionnaire, []))
    yield from _copied_rows(source, block)


def copy_csv_halves(source: ExportSource, block: int = COPY_BLOCK) -> Iterator[bytes]:
    """The CSV of ``copy_csv_chunks`` made by two COPYs at once, each of half the responses by id on a
    connection of its own: PostgreSQL makes a COPY's rows in one process, so that at national scale the
    export waits on that one process's making of every cell. The first half's blocks are given as they
    come; the second's are written meanwhile by a thread to a temporary file (a spool, removed at once), then
    given after. For a job, not a request: it holds two connections and a thread."""
    with source.engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(Response.id), func.max(Response.id)).where(Response.fieldwork_id == source.fieldwork_id)
        ).one()
    if first is None or first == last:
        yield from copy_csv_chunks(source, block)
        return
    middle = (first + last) // 2
    later = replace(source, on_batch=None)
    spool = tempfile.TemporaryFile()
    spooled: dict = {"error": None}
    stop = threading.Event()

    def write_second_half() -> None:
        try:
            for data in _copied_rows(later, block, (middle + 1, last)):
                if stop.is_set():
                    return
                spool.write(data)
        except Exception as error:  # given to the reader, which raises it
            spooled["error"] = error

    writer = threading.Thread(target=write_second_half, name="export-second-half", daemon=True)
    writer.start()
    try:
        yield to_csv(response_table(source.questionnaire, []))
        yield from _copied_rows(source, block, (first, middle))
        writer.join()
        if spooled["error"] is not None:
            raise spooled["error"]
        spool.seek(0)
        while data := spool.read(block):
            yield data
    finally:
        stop.set()
        writer.join()
        spool.close()
