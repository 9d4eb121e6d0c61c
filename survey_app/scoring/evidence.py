"""Evidence documents of self-assessed values (SPEC §5: a PDF scan of a signed paper document, or a digitally
signed electronic document).

A document is checked by its content, never by its name or the type the browser claims: a ``.pdf`` that is
HTML is refused. It is written under a random name in the evidence folder, outside the web root, and synced
before the request's transaction commits, so a document the officer was told was stored exists on disk."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring.channel_inputs import ensure_open
from survey_app.scoring.models import EvidenceDocument, SelfAssessment

#: PDF readers accept the header anywhere in the first 1,024 bytes and the end marker in the last 1,024
_HEADER_WINDOW = 1024
_TRAILER_WINDOW = 1024
_CHUNK = 1 << 16


def folder() -> Path:
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
    """A PDF written by ``write_pdf``: its random name in the folder, size, SHA-256 and whether it is signed."""

    name: str
    size: int
    sha256: str
    signed: bool


def write_pdf(stream: BinaryIO, into: Path) -> StoredPdf:
    """Write an uploaded PDF under a random name in ``into``, checked by its content and synced to disk before
    the caller's transaction commits (evidence documents, and the drafts' documents of the units' reporting).

    :raises ServiceError: ``not_a_pdf`` (by content), ``document_too_large``, ``empty_document``
    """
    limit = current_app.config["EVIDENCE_MAX_BYTES"]
    stored_name = secrets.token_hex(16)
    target = into / stored_name
    partial = target.with_suffix(".part")
    digest, size, head, tail = hashlib.sha256(), 0, b"", b""
    try:
        with open(partial, "xb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ServiceError("document_too_large", megabytes=limit // (1024 * 1024))
                if len(head) < _HEADER_WINDOW:
                    head += chunk[: _HEADER_WINDOW - len(head)]
                tail = (tail + chunk)[-_TRAILER_WINDOW:]
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ServiceError("empty_document")
        if not is_pdf(head, tail):
            raise ServiceError("not_a_pdf")
        signed = _has_signature(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return StoredPdf(stored_name, size, digest.hexdigest(), signed)


def attach(
    assessment: SelfAssessment, stream: BinaryIO, filename: str | None, *, actor: User | None
) -> EvidenceDocument:
    """Store an uploaded document as evidence of ``assessment``.

    :raises ServiceError: ``not_a_pdf`` (by content), ``document_too_large``, ``empty_document``, ``round_published``
    """
    ensure_open(db.session.get(EvaluationRound, assessment.round_id))
    stored = write_pdf(stream, folder())
    document = EvidenceDocument(
        assessment_id=assessment.id,
        stored_name=stored.name,
        original_name=clean_name(filename),
        size=stored.size,
        sha256=stored.sha256,
        signed=stored.signed,
        uploaded_by_id=actor.id if actor else None,
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        "scoring.evidence_document",
        actor=actor,
        entity=document,
        new={"assessment": assessment.id, "sha256": document.sha256, "size": stored.size, "signed": stored.signed},
    )
    return document


def _has_signature(path: Path) -> bool:
    """A signed PDF has a signature dictionary (``/Type /Sig``) with the ``/ByteRange`` it covers."""
    found = {b"/ByteRange": False, b"/Sig": False}
    carry = b""
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            window = carry + chunk
            for marker in found:
                found[marker] = found[marker] or marker in window
            carry = window[-16:]
    return all(found.values())


def prune_orphans(older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete files in the evidence folder that no document names: left by an upload whose request failed after
    the file was written. Only files older than ``older_than``, so that an upload in progress keeps its file.

    :return: how many files were deleted
    """
    named = set(db.session.scalars(select(EvidenceDocument.stored_name)))
    cutoff = time.time() - older_than.total_seconds()
    deleted = 0
    for path in folder().iterdir():
        if path.is_file() and path.name not in named and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def path_of(document: EvidenceDocument) -> Path:
    """Where the document's bytes are; a missing file is not found rather than an error page."""
    path = folder() / document.stored_name
    if not path.is_file():
        raise ServiceError("document_missing")
    return path


def remove(document: EvidenceDocument, *, actor: User | None) -> None:
    """Delete a document. Its file goes only once the deletion is committed: a transaction that fails keeps
    both the row and the file."""
    assessment = db.session.get(SelfAssessment, document.assessment_id)
    ensure_open(db.session.get(EvaluationRound, assessment.round_id))
    audit.record(
        "scoring.evidence_document_removed",
        actor=actor,
        entity=document,
        old={"sha256": document.sha256, "name": document.original_name},
    )
    db.session.delete(document)
    db.session.flush()
    db.session.info.setdefault(_UNLINK_AFTER_COMMIT, []).append(folder() / document.stored_name)


_UNLINK_AFTER_COMMIT = "evidence_files_to_unlink"


@event.listens_for(Session, "after_commit")
def _unlink_removed_files(session: Session) -> None:
    for path in session.info.pop(_UNLINK_AFTER_COMMIT, []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _keep_files_of_rolled_back_removals(session: Session) -> None:
    session.info.pop(_UNLINK_AFTER_COMMIT, None)
