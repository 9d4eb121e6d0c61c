"""What a unit reports for a round: the round's reporting periods with their deadlines, one report per unit and
period moving through its workflow, its values and their evidence documents."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.stored_files import StoredFile
from survey_app.core.types import BilingualName, UTCDateTime, utcnow
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import Unit


class ReportStatus(StrEnum):
    """Where a unit's report is: entered (draft), sent for confirmation, sent back, confirmed, signed off, and
    (on the officers' page) appraised."""

    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    SIGNED_OFF = "signed_off"
    #: shown, never stored: a signed-off report of which an officer has appraised a value
    APPRAISED = "appraised"


class ReportingPeriod(BilingualName, db.Model):
    """A period units report for in a round (the calendar year; Tuyên Quang's half-years) and its deadline."""

    __tablename__ = "reporting_periods"
    __table_args__ = (UniqueConstraint("round_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    #: short identifier used in addresses ("2023", "2023-h1")
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: the last day a unit may sign its report off
    deadline: Mapped[date]

    evaluation_round: Mapped[EvaluationRound] = relationship()


class UnitReport(db.Model):
    """One unit's report for one period, and where it is in its workflow."""

    __tablename__ = "unit_reports"
    __table_args__ = (UniqueConstraint("period_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("reporting_periods.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReportStatus] = mapped_column(String(16), default=ReportStatus.DRAFT)
    #: the approver's comments when the report was last returned
    return_comment: Mapped[str] = mapped_column(Text, default="")
    #: the appraiser's reason when a signed-off report was last reopened
    reopen_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    period: Mapped[ReportingPeriod] = relationship()
    unit: Mapped[Unit] = relationship()
    entries: Mapped[list[ReportEntry]] = relationship(
        back_populates="report", order_by="ReportEntry.id", cascade="all, delete-orphan", passive_deletes=True
    )


class ReportEntry(db.Model):
    """The unit's value on one criterion, as typed (kept even when it is not valid yet: a draft loses nothing)."""

    __tablename__ = "report_entries"
    __table_args__ = (UniqueConstraint("report_id", "criterion"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("unit_reports.id", ondelete="CASCADE"), index=True)
    #: the framework node's code
    criterion: Mapped[str] = mapped_column(String(64))
    #: the value as the unit typed it
    value_text: Mapped[str] = mapped_column(String(100), default="")
    #: the value read by the criterion's method, and the points it earns; None while it is missing or invalid
    value: Mapped[float | None] = mapped_column(Float)
    points: Mapped[float | None] = mapped_column(Float)
    #: the reference of the document that proves the value
    evidence: Mapped[str] = mapped_column(String(1000), default="")
    #: the written explanation a value without evidence needs
    explanation: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    report: Mapped[UnitReport] = relationship(back_populates="entries")
    documents: Mapped[list[ReportDocument]] = relationship(
        order_by="ReportDocument.id", cascade="all, delete-orphan", passive_deletes=True
    )


class ReportDocument(db.Model):
    """A PDF a unit uploaded as evidence of a value, its bytes a stored file in the database; at the sign-off,
    scoring's evidence document names the same file."""

    __tablename__ = "report_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("report_entries.id", ondelete="CASCADE"), index=True)
    #: a random reference; for a document uploaded before files moved into the database, its file's name in
    #: the evidence folder's ``reporting`` folder
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    #: the bytes; None only for a document whose file was missing when files moved into the database
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"), index=True)
    #: the uploader's file name, cleaned
    original_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    file: Mapped[StoredFile | None] = relationship()


class AppraisalReply(db.Model):
    """A unit's written answer to the appraisal of one of its self-assessed values: one per value, before the
    appraisal closes, kept with the appraised points it answered (an officer may change them later)."""

    __tablename__ = "appraisal_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("self_assessments.id", ondelete="CASCADE"), unique=True)
    #: the appraised points and the reason the reply answers
    appraised_points: Mapped[float] = mapped_column(Float)
    appraisal_reason: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AppraisalWindow(db.Model):
    """The last day units may answer the round's appraisal, when officers close it before the results are
    published (publication closes it in any case)."""

    __tablename__ = "appraisal_windows"

    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), primary_key=True)
    closes_on: Mapped[date]
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
