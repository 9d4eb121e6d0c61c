"""The scoring channels as stored (self-assessed data with their appraisal and evidence, cyberspace values) and
the scoring runs: each run keeps the inputs it merged and their versions, so a published result can be computed
again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.stored_files import StoredFile
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import Unit


class SelfAssessment(db.Model):
    """A unit's reported value on one criterion, the points it earns, and the officer's appraisal of them."""

    __tablename__ = "self_assessments"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    #: the framework node's code
    criterion: Mapped[str] = mapped_column(String(64))
    #: the measured value (1/0 for yes/no)
    value: Mapped[float] = mapped_column(Float)
    #: the reference of the document that proves the value
    evidence: Mapped[str] = mapped_column(String(1000), default="")
    #: the written explanation a value without evidence needs
    explanation: Mapped[str] = mapped_column(Text, default="")
    #: the points the value earns by the criterion's method
    points: Mapped[float] = mapped_column(Float)
    #: "form" or "file"
    source: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the officer's score when it differs from or confirms the self-assessed one (None: not appraised yet)
    appraised_points: Mapped[float | None] = mapped_column(Float)
    appraisal_reason: Mapped[str | None] = mapped_column(Text)
    appraised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appraised_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    documents: Mapped[list[EvidenceDocument]] = relationship(
        order_by="EvidenceDocument.id", cascade="all, delete-orphan", passive_deletes=True
    )


class EvidenceDocument(db.Model):
    """A document proving a self-assessed value: a PDF scan of a signed paper or a digitally signed PDF.

    Its bytes are a stored file in the database (``file``), which a report's document may name too; nothing the
    uploader chose reaches a file system, and it is only ever sent back as an attachment."""

    __tablename__ = "evidence_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("self_assessments.id", ondelete="CASCADE"), index=True)
    #: a random reference; for a document uploaded before files moved into the database, its file's name in
    #: the evidence folder
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    #: the bytes; None only for a document whose file was missing when files moved into the database
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"), index=True)
    #: the uploader's file name, cleaned, offered again as the download's name
    original_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: the PDF carries a signature dictionary (a digitally signed document); not a verification of it
    signed: Mapped[bool] = mapped_column(default=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    file: Mapped[StoredFile | None] = relationship()


class CyberspaceValue(db.Model):
    """The sentiment a monitoring tool measured about a unit on a main index, in [0, 1]."""

    __tablename__ = "cyberspace_values"
    __table_args__ = (UniqueConstraint("round_id", "unit_id", "node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()


class ScoringRun(db.Model):
    """One computation of a round's scores from a snapshot of its inputs."""

    __tablename__ = "scoring_runs"
    __table_args__ = (UniqueConstraint("round_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    #: 1, 2, ... within the round
    number: Mapped[int]
    #: criteria an officer confirmed for exclusion
    excluded: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    #: Tuyên Quang's rules applied: {"peer_maximum": {"units": [...], "criteria": [...]}, "full_marks": {...}}
    rules: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    #: how criterion values were normalised before adding up: "none", "min-max" or "z-score" [1726 II.2.c]
    normalisation: Mapped[str] = mapped_column(String(16), default="none", server_default="none")
    #: what the run read, with a SHA-256 per input: {"framework": {...}, "self_assessment": {...}, ...}
    versions: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: the snapshot merged: {"points": [...], "external": [...], "assessed": [...], "survey": [...],
    #: "expert": [...], "agreement": [...]} as records
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONDocument, deferred=True)
    #: unit → index value, as computed when the run was made (a recomputation must give the same)
    index: Mapped[dict[str, float]] = mapped_column(JSONDocument)
    #: the rank simulation and the sensitivity run, computed once by the run's job so that no page computes
    #: them (operations.store_derived); None for runs made before, computed on first use
    derived: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, deferred=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    evaluation_round: Mapped[EvaluationRound] = relationship()


class IndexAudit(db.Model):
    """The statistical audit of a scoring run (``analysis.audit``), made once per run: its snapshot does not
    change, and the audit's draws are seeded, so computing it again would give the same numbers."""

    __tablename__ = "index_audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scoring_runs.id", ondelete="CASCADE"), unique=True)
    #: N of the Sobol' design and the seed of every draw
    base_samples: Mapped[int]
    seed: Mapped[int]
    #: the numbers the page, the PDF report and the public note read (``scoring.index_audit.audit_document``):
    #: {"data": {...}, "structure": {...}, "scenarios": {...}, "uncertainty": {...}}, NaN written as null
    result: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    #: how long the computation took, for planning the next one
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    run: Mapped[ScoringRun] = relationship()
