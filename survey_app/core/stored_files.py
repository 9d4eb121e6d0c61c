"""Files kept in the database: the PDFs units and officers upload as evidence. In PostgreSQL they reach every app
server, are written in the same transaction as the rows that name them (a failed request leaves no file behind)
and are saved by the database's backup.

One ``bytea`` column per file, not chunks in a table of their own: an uploaded file is at most
``EVIDENCE_MAX_MB`` (10 MB by default, within the 16 MB of a request), and PostgreSQL already keeps such a value
out of line in 2 KB TOAST chunks. The column is stored ``EXTERNAL`` (uncompressed: a PDF is compressed already),
so a download reads it a piece at a time (``substr``) and only those chunks are fetched; chunks of our own would
add a table, an order and their joins for no gain at this size."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from flask import Response, request, send_file
from sqlalchemy import Engine, LargeBinary, String, delete, exists, func, select
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.core.extensions import db
from survey_app.core.types import UTCDateTime, utcnow

#: how much of a file one query of a download reads
_PIECE = 1 << 20


class StoredFile(db.Model):
    """The bytes of an uploaded file and what proves them; the rows that name it (evidence documents, reports'
    documents) hold its name for people and who uploaded it. Never changed once written."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    #: the type the content was checked to be (not what the browser claimed), sent back with it
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: read only when a download or a check asks for it, never with the row
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


def store(content: bytes, content_type: str) -> StoredFile:
    """Add a file to the caller's transaction: it exists once that transaction commits, and not at all if it
    fails.

    :return: the flushed row
    """
    stored = StoredFile(
        sha256=hashlib.sha256(content).hexdigest(), size=len(content), content_type=content_type, content=content
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def _unreferenced():
    """The condition "no row of any table names this file", over every foreign key to ``stored_files``, so that
    a table that starts naming files is counted without a change here."""
    conditions = []
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == StoredFile.__tablename__:
                conditions.append(~exists().where(key.parent == StoredFile.id))
    return conditions


def prune(file_id: int | None = None) -> int:
    """Delete the files no row names (all of them, or only ``file_id``): those of documents removed or of
    reports deleted with their documents. A file uploaded by a transaction still running is not visible to
    this one, so it is never taken.

    :return: how many files were deleted
    """
    statement = delete(StoredFile).where(*_unreferenced())
    if file_id is not None:
        statement = statement.where(StoredFile.id == file_id)
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


class _DatabaseReader(io.RawIOBase):
    """A stored file read a piece at a time, each piece a short query of its own: the response is sent after
    the request's session has ended, and a 10 MB file never sits whole in an app server's memory."""

    def __init__(self, engine: Engine, file_id: int, size: int):
        super().__init__()
        self._engine, self._file_id, self._size, self._position = engine, file_id, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), _PIECE, self._size - self._position)
        if wanted <= 0:
            return 0
        piece = func.substr(StoredFile.content, self._position + 1, wanted, type_=LargeBinary)
        with self._engine.connect() as connection:
            data = connection.scalar(select(piece).where(StoredFile.id == self._file_id))
        if not data:  # deleted since the request began: the download ends short rather than failing half-sent
            return 0
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def send(stored: StoredFile, download_name: str) -> Response:
    """Answer a download of a stored file: always an attachment under ``download_name``, never cached without
    asking again, its SHA-256 as ETag; conditional and range requests are answered as for a file on disk.

    :return: the response, its body read from the database as it is sent
    """
    reader = io.BufferedReader(_DatabaseReader(db.engine, stored.id, stored.size), buffer_size=_PIECE)
    response = send_file(
        reader,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=download_name,
        conditional=False,
        etag=stored.sha256,
        last_modified=stored.created_at,
        max_age=0,
    )
    response.content_length = stored.size
    # a unit's evidence: kept by the browser that asked (and asked again before use), never by a shared cache
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response.make_conditional(request.environ, accept_ranges=True, complete_length=stored.size)


def census() -> tuple[int, int, int]:
    """How many files are stored, their bytes, and how many rows naming files have none (documents whose file
    was missing when files moved into the database).

    :return: (files, bytes, rows without a file)
    """
    files, size = db.session.execute(select(func.count(), func.coalesce(func.sum(StoredFile.size), 0))).one()
    without = 0
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == StoredFile.__tablename__:
                without += db.session.scalar(select(func.count()).select_from(table).where(key.parent.is_(None)))
    return files, size, without
