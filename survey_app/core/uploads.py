"""Uploaded files are measured before anything parses them: a small spreadsheet that expands into millions
of rows (a few hundred KB of zip can hold gigabytes of XML) would hold a worker for minutes and fill its
memory. Every file of every request passes here, whatever the view does with it next.
"""

from __future__ import annotations

import re
import zipfile
from typing import BinaryIO

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from survey_app.core.i18n import number

#: a row element of a worksheet, with or without a namespace prefix
_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_ZIP_MAGIC = b"PK\x03\x04"
_TEXT_TABLES = (".csv", ".tsv", ".txt")
_CHUNK = 1 << 20


class UploadTooLarge(RequestEntityTooLarge):
    """A file that would expand past the limits; ``detail`` says which, translated."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


def workbook_excess(stream: BinaryIO, *, max_bytes: int, max_rows: int) -> tuple[str, int] | None:
    """Whether a zip-based workbook expands past ``max_bytes`` or holds more than ``max_rows`` rows in a sheet.

    The sizes come from the zip's directory: Python's zip reader (and so openpyxl and pandas) never gives
    more bytes than an entry declares, so the declared sizes bound what a parser will read. Rows are counted
    in the sheets' XML as it is decompressed, a chunk at a time, stopping at the limit.

    :return: ``("bytes", declared total)`` or ``("rows", rows counted)``, or None within the limits; a file
        that is not a readable zip is None (its parser refuses it, as before)
    """
    try:
        archive = zipfile.ZipFile(stream)
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    total = sum(entry.file_size for entry in entries)
    if total > max_bytes:
        return "bytes", total
    for entry in entries:
        if not entry.filename.startswith("xl/worksheets/") or not entry.filename.endswith(".xml"):
            continue
        rows, tail = 0, b""
        try:
            with archive.open(entry) as sheet:
                while chunk := sheet.read(_CHUNK):
                    block = tail + chunk
                    # a row tag cut by the chunk's end is counted in the next block, never twice
                    cut = max(len(block) - 64, 0)
                    rows += len(_ROW.findall(block, 0, cut)) if cut else 0
                    tail = block[cut:]
                    if rows > max_rows:
                        return "rows", rows
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
            return None
        rows += len(_ROW.findall(tail))
        if rows > max_rows:
            return "rows", rows
    return None


def text_rows(stream: BinaryIO) -> int:
    """Lines in a text table, counted without decoding it."""
    lines, last = 0, b""
    while chunk := stream.read(_CHUNK):
        lines += chunk.count(b"\n")
        last = chunk
    return lines + (1 if last and not last.endswith(b"\n") else 0)


def refuse_oversized_tables():
    """Refuse (413, translated, nothing read) a request carrying a spreadsheet or text table past the limits."""
    if request.mimetype != "multipart/form-data" or not request.files:  # files come only in a multipart form
        return None
    max_rows = current_app.config["MAX_UPLOAD_ROWS"]
    max_bytes = current_app.config["MAX_UNCOMPRESSED_MB"] * 1024 * 1024
    for upload in request.files.values():
        stream = upload.stream  # a fresh spooled file: seekable, read from its start by the view after this
        try:
            if stream.read(4) == _ZIP_MAGIC:
                stream.seek(0)
                excess = workbook_excess(stream, max_bytes=max_bytes, max_rows=max_rows)
            elif (upload.filename or "").lower().endswith(_TEXT_TABLES):
                stream.seek(0)
                rows = text_rows(stream)
                excess = ("rows", rows) if rows > max_rows + 1 else None  # the header line is not a row
            else:
                excess = None
        finally:
            stream.seek(0)
        if excess is None:
            continue
        if excess[0] == "bytes":
            raise UploadTooLarge(
                _(
                    "The file %(name)s would expand to more than %(limit)s MB when opened. Split "
                    "it into smaller files.",
                    name=upload.filename,
                    limit=current_app.config["MAX_UNCOMPRESSED_MB"],
                )
            )
        raise UploadTooLarge(
            _(
                "The file %(name)s has more than %(limit)s rows. Split it into smaller files.",
                name=upload.filename,
                limit=number(max_rows),
            )
        )
    return None


def init_app(app: Flask) -> None:
    app.before_request(refuse_oversized_tables)
