"""The survey channel as stored: published questionnaires, fieldwork, quotas, invitations, drafts and
responses.

Privacy by construction: a response holds answers and nothing that names the respondent; invitees'
contact data live in their own table with a purpose and an erasure date; no IP address is stored anywhere
here; in an anonymous fieldwork nothing links a token to the response it gave once it is submitted.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from questionnaires import (
    EXPERT_GROUP,
    ExpertQuestionnaire,
    Questionnaire,
    expert_questionnaire_from_dict,
    questionnaire_from_dict,
)
from survey_app.core.cache import Cache
from survey_app.core.extensions import db
from survey_app.core.types import BilingualName, JSONDocument, UTCDateTime, utcnow
from survey_app.frameworks.models import FrameworkVersion
from survey_app.units.models import Unit


class PublishedQuestionnaire(BilingualName, db.Model):
    """A frozen, versioned snapshot of a generated questionnaire; responses point at the one they answered."""

    __tablename__ = "questionnaires"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the questionnaire's identity across versions ("dti-2023-citizens")
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    group: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    #: questionnaire_to_dict() of the snapshot: never changed once stored; deferred because the parsed form
    #: is kept per process (see ``questionnaire``), so most requests need only the hash
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    framework: Mapped[FrameworkVersion] = relationship()

    @property
    def for_experts(self) -> bool:
        return self.group == EXPERT_GROUP

    @property
    def questionnaire(self) -> Questionnaire | ExpertQuestionnaire:
        # a snapshot never changes, so its parse is shared by every request of the process, keyed by content
        # (ids repeat across databases, content hashes do not)
        read = expert_questionnaire_from_dict if self.for_experts else questionnaire_from_dict
        return _PARSED_SNAPSHOTS.get_or_make(self.content_hash, lambda: read(self.document))


_PARSED_SNAPSHOTS: Cache[Questionnaire | ExpertQuestionnaire] = Cache(64)


class FieldworkMode(StrEnum):
    #: a personal link per sampled person or business
    INVITATION = "invitation"
    #: one public link per unit, with quotas per stratum
    OPEN_LINK = "open_link"


class FieldworkStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


fieldwork_units = Table(
    "fieldwork_units",
    db.metadata,
    Column("fieldwork_id", ForeignKey("fieldworks.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Fieldwork(BilingualName, db.Model):
    """The collection of one questionnaire's answers in a set of units."""

    __tablename__ = "fieldworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the short name in the respondents' links
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="SET NULL"))
    mode: Mapped[FieldworkMode] = mapped_column(String(16))
    #: no link between an invitation and its response once submitted
    anonymous: Mapped[bool] = mapped_column(default=True)
    #: the background questions whose answers make a quota stratum, in order (["urban", "sex", "age"])
    quota_dimensions: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    status: Mapped[FieldworkStatus] = mapped_column(String(16), default=FieldworkStatus.OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    questionnaire: Mapped[PublishedQuestionnaire] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary=fieldwork_units, order_by="Unit.position")

    def is_open(self, now: datetime) -> bool:
        return self.status == FieldworkStatus.OPEN and (self.closes_at is None or now < self.closes_at)


class Quota(db.Model):
    """The number of responses a stratum of a unit may give; ``filled`` never passes ``target``."""

    __tablename__ = "quotas"
    __table_args__ = (
        UniqueConstraint("fieldwork_id", "unit_id", "stratum"),
        CheckConstraint("filled <= target", name="filled_within_target"),
        CheckConstraint("target >= 0", name="target_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldworks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    #: the stratum's values joined with " | " in the fieldwork's quota_dimensions order
    stratum: Mapped[str] = mapped_column(String(300))
    target: Mapped[int]
    filled: Mapped[int] = mapped_column(default=0)

    unit: Mapped[Unit] = relationship()


class Invitation(db.Model):
    """A personal link: only the token's hash is stored, the token itself is shown once."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldworks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the sampling stratum and inclusion probability the invitee was drawn with (for the design weight)
    stratum: Mapped[str | None] = mapped_column(String(300))
    inclusion_probability: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set only when the fieldwork is not anonymous
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    contact: Mapped[InviteeContact | None] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", uselist=False
    )

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.submitted_at:
            return "submitted"
        return "opened" if self.opened_at else "issued"


class InviteeContact(db.Model):
    """How to reach an invitee, kept apart from any answer, for a stated purpose until a stated date."""

    __tablename__ = "invitee_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(200), default="survey_invitation")
    erase_after: Mapped[date]

    invitation: Mapped[Invitation] = relationship(back_populates="contact")


class ResponseDraft(db.Model):
    """Answers saved while the respondent goes; removed when the response is submitted."""

    __tablename__ = "response_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldworks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitations.id", ondelete="CASCADE"), unique=True)
    #: hash of the resume code of an open-link draft
    resume_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    #: the furthest section reached
    section: Mapped[int] = mapped_column(default=0)
    #: set when a quota stratum turned out to be full: the draft can no longer be submitted
    screened_out: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fieldwork: Mapped[Fieldwork] = relationship()
    unit: Mapped[Unit] = relationship()
    invitation: Mapped[Invitation | None] = relationship()


class Response(db.Model):
    """A submitted response: the answers, the snapshot they answered, and nothing that names the respondent."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("fieldwork_id", "submission_id"),
        # the dashboard's and the review's counts per unit, flag and median duration read this index alone
        # (PostgreSQL's index-only scan), never the answers: a national fieldwork's million rows in a fraction
        # of a second
        Index(
            "ix_responses_review",
            "fieldwork_id",
            "unit_id",
            "duration_seconds",
            postgresql_include=["excluded", "flags"],
        ),
        # the fieldwork's median duration (the speeding threshold) read half-way along this index instead of
        # sorting every duration: at a million responses a tenth of a second instead of most of one
        Index("ix_responses_duration", "fieldwork_id", "duration_seconds"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: no index of its own: the unique (fieldwork_id, submission_id) index serves lookups by fieldwork, and
    #: one index fewer is less work for every submission
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldworks.id", ondelete="CASCADE"))
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    #: no index of its own either: every query by unit is within a fieldwork (ix_responses_review), and the
    #: service never deletes a unit (the one statement such an index would serve); an index fewer took a tenth
    #: of the database's work per API submission (benchmarks/submit.py: 0.29 → 0.26 ms)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: the client's identifier of the submission: the same one again is the same response
    submission_id: Mapped[str] = mapped_column(String(64))
    #: hash of the submitted unit and answers, to tell a repeat from a different payload
    payload_hash: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    stratum: Mapped[str | None] = mapped_column(String(300))
    #: web, api or import
    source: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    #: quality flags found at submission (straight-lining, attention); speeding is judged against the
    #: fieldwork's median at review time
    flags: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    excluded: Mapped[bool] = mapped_column(default=False)
    exclusion_reason: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship()
    questionnaire: Mapped[PublishedQuestionnaire] = relationship()


api_key_fieldworks = Table(
    "api_key_fieldworks",
    db.metadata,
    Column("api_key_id", ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
    Column("fieldwork_id", ForeignKey("fieldworks.id", ondelete="CASCADE"), primary_key=True),
)


class ApiKey(db.Model):
    """A partner's or an interviewing team's key to the JSON API; only its hash is stored. A key submits to
    the fieldworks it was issued for and no other: a leaked key cannot write into another survey."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the fieldworks the key may submit to, fixed when it is issued (a new scope is a new key)
    fieldworks: Mapped[list["Fieldwork"]] = relationship(secondary=api_key_fieldworks, order_by="Fieldwork.code")


class ExportFile(db.Model):
    """A fieldwork's responses written to a file by a background job (an export too large to send while the
    request waits), for the job's followers to download until it expires.

    The file is kept in the database, as rows of ``ExportFileChunk``, rather than on the disk of the machine
    whose worker wrote it: every app server can send it, and the job's writes and its "done" stay one
    transaction (a worker killed half-way leaves no half file). Rows of bytea rather than PostgreSQL large
    objects: rows go with their file when it is deleted (large objects outlive their reference unless
    unlinked, and need vacuumlo otherwise), travel with the ordinary backups and permissions, are read a
    chunk at a time by any connection without a transaction held open for the large object, and work the
    same on SQLite (``make run``).
    """

    __tablename__ = "export_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job that wrote it: who may download it is who may follow that job
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    fieldwork_id: Mapped[int] = mapped_column(ForeignKey("fieldworks.id", ondelete="CASCADE"), index=True)
    #: csv, xlsx, sav or dta
    format: Mapped[str] = mapped_column(String(8))
    #: responses in the file
    rows: Mapped[int] = mapped_column(BigInteger)
    #: bytes in the file
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: after this the file is no longer sent, and ``expire_export_files`` deletes it
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ExportFileChunk(db.Model):
    """A piece of an export file (``EXPORT_CHUNK_BYTES``, the last one shorter), in order."""

    __tablename__ = "export_file_chunks"

    file_id: Mapped[int] = mapped_column(ForeignKey("export_files.id", ondelete="CASCADE"), primary_key=True)
    #: from 0
    number: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
