"""The PDFs a unit uploads as evidence while its report is a draft.

They are checked as scoring's evidence is (by content: a ``.pdf`` that is HTML is refused) and kept in the
database with scoring's (``core.stored_files``), in the transaction of the document's row. At the sign-off,
scoring's evidence names the same file; until then they are not the round's evidence.
"""

from __future__ import annotations

import secrets
from typing import BinaryIO

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.stored_files import StoredFile
from survey_app.reporting.models import ReportDocument, ReportEntry
from survey_app.scoring import evidence


def store(entry: ReportEntry, stream: BinaryIO, filename: str | None, *, actor: User) -> ReportDocument:
    """Keep an uploaded PDF as evidence of a reported value.

    :raises ServiceError: ``not_a_pdf`` (by content), ``document_too_large``, ``empty_document``
    """
    stored = evidence.store_pdf(stream)
    document = ReportDocument(
        entry_id=entry.id,
        stored_name=secrets.token_hex(16),
        file=stored.file,
        original_name=evidence.clean_name(filename),
        size=stored.file.size,
        sha256=stored.file.sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(document)
    entry.documents.append(document)
    db.session.flush()
    audit.record(
        "reporting.document",
        actor=actor,
        entity=document,
        new={"criterion": entry.criterion, "sha256": document.sha256, "size": stored.file.size},
    )
    return document


def file_of(document: ReportDocument) -> StoredFile:
    """The document's bytes.

    :raises ServiceError: ``document_missing`` (its file was not found when files moved into the database)
    """
    if document.file is None:
        raise ServiceError("document_missing")
    return document.file
