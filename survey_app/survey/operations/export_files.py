"""Exports too large to send while a request waits: written by a background job into the database
(``ExportFile``, a row of ``ExportFileChunk`` per megabyte: the models say why there), downloaded from any app
server by the job's followers until the file expires, then deleted by ``expire_export_files``."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Callable, Iterable, Iterator

from sqlalchemy import Engine, delete, func, insert, select

from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.survey.models import ExportFile, ExportFileChunk, Fieldwork, Response
from survey_app.survey.operations.export_copy import copy_csv_halves
from survey_app.survey.operations.exports import export_chunks
from survey_app.survey.operations.review import export_source

#: bytes of a stored chunk: big enough that a national file is a few hundred rows, small enough to hold one
EXPORT_CHUNK_BYTES = 1 << 20


def count_responses(fieldwork: Fieldwork) -> int:
    """How many responses an export of the fieldwork holds."""
    return db.session.scalar(select(func.count()).select_from(Response).where(Response.fieldwork_id == fieldwork.id))


def _pieces(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The bytes of ``chunks`` again, in pieces of ``size`` (the last one shorter)."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


def store_export(
    fieldwork: Fieldwork,
    fmt: str,
    language: str,
    *,
    job_id: int,
    days: float,
    progress: Callable[[int, int], None] | None = None,
) -> ExportFile:
    """Write the responses as a ``csv``, ``xlsx``, ``sav`` or ``dta`` file into the database, a chunk at a
    time, in the caller's transaction (a job's: stored whole with its "done", or not at all).

    :param job_id: the job writing it, whose followers may download it
    :param days: how long the file is kept
    :param progress: told ``(responses read, responses in all)`` as the responses are read
    """
    total = count_responses(fieldwork)
    source = export_source(fieldwork)
    if progress is not None:
        told = [0.0]

        def read(done: int) -> None:
            # a progress is a write of its own: about one a second is news enough
            if time.monotonic() - told[0] >= 1:
                told[0] = time.monotonic()
                progress(done, total)

        source = replace(source, on_batch=read)
    now = utcnow()
    stored = ExportFile(
        job_id=job_id,
        fieldwork_id=fieldwork.id,
        format=fmt,
        rows=total,
        size=0,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(stored)
    db.session.flush()
    if fmt == "csv" and source.engine.dialect.name == "postgresql":
        chunks = copy_csv_halves(source)  # a job may hold the two connections a request should not
    else:
        chunks = export_chunks(source, fmt, language)
    size = 0
    for number, data in enumerate(_pieces(chunks, EXPORT_CHUNK_BYTES)):
        # a plain INSERT, not an ORM object: the session keeps no megabyte it has written
        db.session.execute(insert(ExportFileChunk).values(file_id=stored.id, number=number, data=data))
        size += len(data)
    stored.size = size
    return stored


def find_export_file(file_id: int) -> ExportFile | None:
    """The export file, unless it has expired."""
    return db.session.scalar(select(ExportFile).where(ExportFile.id == file_id, ExportFile.expires_at > utcnow()))


def stored_chunks(engine: Engine, file_id: int) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, read by a server-side cursor on a connection of its own (the body
    of a download is sent after the request's session has ended), so memory holds one chunk."""
    with engine.connect() as connection:
        rows = connection.execution_options(yield_per=1).execute(
            select(ExportFileChunk.data).where(ExportFileChunk.file_id == file_id).order_by(ExportFileChunk.number)
        )
        for (data,) in rows:
            yield bytes(data)


def expire_export_files(now: datetime | None = None) -> int:
    """Delete the export files past their expiry, their chunks first (SQLite does not cascade unless told).
    Needs an app context and no request: an integrator calls it daily (a ``flask`` command, a cron job or a
    periodic job), then commits.

    :return: how many files were deleted
    """
    expired = select(ExportFile.id).where(ExportFile.expires_at <= (now or utcnow()))
    db.session.execute(delete(ExportFileChunk).where(ExportFileChunk.file_id.in_(expired)))
    return db.session.execute(delete(ExportFile).where(ExportFile.id.in_(expired))).rowcount
