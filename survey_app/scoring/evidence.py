"""Evidence documents of self-assessed values (SPEC §5: a PDF scan of a signed paper document, or a digitally
signed electronic document).

A document is checked by its content, never by its name or the type the browser claims: a ``.pdf`` that is
HTML is refused. Its bytes are kept in the database (``core.stored_files``), written in the transaction of the
row that names them: every app server reaches them, a failed request leaves nothing behind, and the database's
backup holds them."""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core import stored_files
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.stored_files import StoredFile
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring.channel_inputs import ensure_open
from survey_app.scoring.models import EvidenceDocument, SelfAssessment

#: PDF readers accept the header anywhere in the first 1,024 bytes and the end marker in the last 1,024
_HEADER_WINDOW = 1024
_TRAILER_WINDOW = 1024
_CHUNK = 1 << 16
PDF = "application/pdf"


def folder() -> Path:
    """The folder evidence files were written to before they moved into the database (the upgrade to revision
    e1a0b5c0f008 copied them in); nothing is written there any more."""
    path = Path(current_app.config["EVIDENCE_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_pdf(head: bytes, tail: bytes) -> bool:
    """Whether the bytes are those of a PDF file: its ``%PDF-1.x``/``%PDF-2.x`` header near the start and the
    ``%%EOF`` marker near the end, with no HTML before the header (a browser would sniff that as a page)."""
    start = head.find(b"%PDF-")
    if start < 0 or start > _HEADER_WINDOW - 8 or head[start + 5 : start + 6] not in (b"1", b"2"):
        return False
    if b"<" in head[:start]:
        return False
    return b"%%EOF" in tail


def clean_name(filename: str | None) -> str:
    """The uploader's file name reduced to something safe to show and to offer as a download name: no folders,
    no control characters, at most 120 characters, ending in ``.pdf``."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(character for character in name if unicodedata.category(character)[0] != "C").strip(" .")
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    return (stem[:116] or "evidence") + ".pdf"


@dataclass(frozen=True)
class StoredPdf:
    """A PDF stored by ``store_pdf``: its file (flushed, in the caller's transaction) and whether it is signed."""

    file: StoredFile
    signed: bool


def store_pdf(stream: BinaryIO) -> StoredPdf:
    """Keep an uploaded PDF, checked by its content, in the caller's transaction (evidence documents, and the
    drafts' documents of the units' reporting). It is read into memory: at most ``EVIDENCE_MAX_BYTES``, the
    reading stopping as soon as the stream goes past it.

    :raises ServiceError: ``not_a_pdf`` (by content), ``document_too_large``, ``empty_document``
    """
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    content = bytearray()
    while chunk := stream.read(_CHUNK):
        content += chunk
        if len(content) > limit:
            raise ServiceError("document_too_large", megabytes=limit // (1024 * 1024))
    if not content:
        raise ServiceError("empty_document")
    if not is_pdf(bytes(content[:_HEADER_WINDOW]), bytes(content[-_TRAILER_WINDOW:])):
        raise ServiceError("not_a_pdf")
    return StoredPdf(stored_files.store(bytes(content), PDF), _has_signature(content))


def _has_signature(content: bytes | bytearray) -> bool:
    """A signed PDF has a signature dictionary (``/Type /Sig``) with the ``/ByteRange`` it covers."""
    return b"/ByteRange" in content and b"/Sig" in content


def attach(
    assessment: SelfAssessment, stream: BinaryIO, filename: str | None, *, actor: User | None
) -> EvidenceDocument:
    """Store an uploaded document as evidence of ``assessment``.

    :raises ServiceError: ``not_a_pdf`` (by content), ``document_too_large``, ``empty_document``, ``round_published``
    """
    ensure_open(db.session.get(EvaluationRound, assessment.round_id))
    stored = store_pdf(stream)
    return _record(assessment, stored.file, stored.signed, filename, actor)


def attach_stored(
    assessment: SelfAssessment, stored: StoredFile, filename: str | None, *, actor: User | None
) -> EvidenceDocument:
    """Make a file already stored (a report's document, checked when it was uploaded) evidence of
    ``assessment``: the document names the same bytes rather than a copy of them.

    :raises ServiceError: ``round_published``
    """
    ensure_open(db.session.get(EvaluationRound, assessment.round_id))
    return _record(assessment, stored, _has_signature(stored.content), filename, actor)


def _record(
    assessment: SelfAssessment, stored: StoredFile, signed: bool, filename: str | None, actor: User | None
) -> EvidenceDocument:
    document = EvidenceDocument(
        assessment_id=assessment.id,
        stored_name=secrets.token_hex(16),
        file=stored,
        original_name=clean_name(filename),
        size=stored.size,
        sha256=stored.sha256,
        signed=signed,
        uploaded_by_id=actor.id if actor else None,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        "scoring.evidence_document",
        actor=actor,
        entity=document,
        new={"assessment": assessment.id, "sha256": document.sha256, "size": stored.size, "signed": signed},
    )
    return document


def prune_orphans() -> int:
    """Delete the stored files no row names any more: those of documents deleted with their report or value.
    A removal deletes its own file at once; this catches what database cascades leave (``flask evidence prune``).

    :return: how many files were deleted
    """
    return stored_files.prune()


def file_of(document: EvidenceDocument) -> StoredFile:
    """The document's bytes; a document whose file was not found when files moved into the database has none,
    and is not found rather than an error page.

    :raises ServiceError: ``document_missing``
    """
    if document.file is None:
        raise ServiceError("document_missing")
    return document.file


def remove(document: EvidenceDocument, *, actor: User | None) -> None:
    """Delete a document, and its file unless another row (the report's document it was copied from) names it:
    both go in the caller's transaction, so a transaction that fails keeps them."""
    assessment = db.session.get(SelfAssessment, document.assessment_id)
    ensure_open(db.session.get(EvaluationRound, assessment.round_id))
    audit.record(
        "scoring.evidence_document_removed",
        actor=actor,
        entity=document,
        old={"sha256": document.sha256, "name": document.original_name},
    )
    file_id = document.file_id
    db.session.delete(document)
    db.session.flush()
    if file_id is not None:
        stored_files.prune(file_id)
