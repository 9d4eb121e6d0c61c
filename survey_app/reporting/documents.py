"""The PDFs a unit uploads as evidence while its report is a draft.

They are checked as scoring's evidence is (by content: a ``.pdf`` that is HTML is refused) and kept in a
``reporting`` folder inside the evidence folder, under a random name, synced before the transaction commits.
Scoring's evidence takes a copy at the sign-off; until then they are not the round's evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.reporting.models import ReportDocument, ReportEntry
from survey_app.scoring import evidence


def folder() -> Path:
    # a folder of its own: scoring's clean-up deletes the evidence folder's files that no evidence row names
    path = evidence.folder() / "reporting"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(entry: ReportEntry, stream: BinaryIO, filename: str | None, *, actor: User) -> ReportDocument:
    """Keep an uploaded PDF as evidence of a reported value.

    :raises ServiceError: ``not_a_pdf`` (by content), ``document_too_large``, ``empty_document``
    """
    stored = evidence.write_pdf(stream, folder())
    document = ReportDocument(
        entry_id=entry.id,
        stored_name=stored.name,
        original_name=evidence.clean_name(filename),
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    db.session.add(document)
    entry.documents.append(document)
    db.session.flush()
    audit.record(
        "reporting.document",
        actor=actor,
        entity=document,
        new={"criterion": entry.criterion, "sha256": document.sha256, "size": stored.size},
    )
    return document


def path_of(document: ReportDocument) -> Path:
    """Where the document's bytes are.

    :raises ServiceError: ``document_missing``
    """
    path = folder() / document.stored_name
    if not path.is_file():
        raise ServiceError("document_missing")
    return path
