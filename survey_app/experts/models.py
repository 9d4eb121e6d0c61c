"""The expert channel as stored: nominations, each unit's panel with its members and reserves, and the
experts' forms behind their personal links.

An expert's form is not anonymous (the panel's review needs to know whose scores sit far from the rest),
but the person's contact data live only in the nomination, with the date they are to be erased.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow
from survey_app.rounds.models import EvaluationRound
from survey_app.survey.models import PublishedQuestionnaire
from survey_app.units.models import Unit


class Nomination(db.Model):
    """A person a unit proposed as an expert for a round."""

    __tablename__ = "expert_nominations"
    __table_args__ = (UniqueConstraint("round_id", "person_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    #: the unit the expert will assess
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: sampling.ExpertCategory
    category: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    expertise: Mapped[str] = mapped_column(String(200), default="")
    #: the e-mail address, or the phone number, that tells one person from another (sampling.person_key)
    person_key: Mapped[str] = mapped_column(String(254))
    #: contact data are kept for the round and erased after this date
    erase_after: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    unit: Mapped[Unit] = relationship()
    seat: Mapped[PanelSeat | None] = relationship(back_populates="nomination", uselist=False)


class ExpertPanel(db.Model):
    """A unit's panel for a round, selected from its nominations by a seed."""

    __tablename__ = "expert_panels"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    size: Mapped[int]
    seed: Mapped[int]
    #: the experts' questionnaire (a published snapshot of group "experts") the panel answers
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"))
    selected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    selected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    evaluation_round: Mapped[EvaluationRound] = relationship()
    unit: Mapped[Unit] = relationship()
    questionnaire: Mapped[PublishedQuestionnaire] = relationship()
    seats: Mapped[list[PanelSeat]] = relationship(
        back_populates="panel", cascade="all, delete-orphan", order_by="PanelSeat.id"
    )


class SeatRole(StrEnum):
    MEMBER = "member"
    #: waiting to be called, in ``reserve_rank`` order within the category
    RESERVE = "reserve"
    #: declined, or taken off the panel by an override
    WITHDRAWN = "withdrawn"


class PanelSeat(db.Model):
    """A nominee's place on a panel: member, reserve, or withdrawn."""

    __tablename__ = "expert_panel_seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_id: Mapped[int] = mapped_column(ForeignKey("expert_panels.id", ondelete="CASCADE"), index=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("expert_nominations.id", ondelete="CASCADE"), unique=True)
    role: Mapped[SeatRole] = mapped_column(String(16))
    reserve_rank: Mapped[int | None]
    declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: why staff changed the seat by hand (also in the audit log)
    reason: Mapped[str | None] = mapped_column(Text)

    panel: Mapped[ExpertPanel] = relationship(back_populates="seats")
    nomination: Mapped[Nomination] = relationship(back_populates="seat")
    form: Mapped[ExpertForm | None] = relationship(back_populates="seat", uselist=False, cascade="all, delete-orphan")

    @property
    def status(self) -> str:
        """Where the expert stands: selected, invited, opened, in progress, submitted, declined."""
        if self.declined_at is not None:
            return "declined"
        form = self.form
        if form is None:
            return "selected"
        if form.submitted_at is not None:
            return "submitted"
        if form.answers:
            return "in_progress"
        return "opened" if form.opened_at is not None else "invited"


class ExpertForm(db.Model):
    """A member's form behind a personal link: the answers as they are saved, then as submitted.

    Only the link token's hash is stored; a new link replaces the old one.
    """

    __tablename__ = "expert_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("expert_panel_seats.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the expert read the notice on their personal data and agreed to go on (Decree 13/2023)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: item → {"score": n} or {"cannot_judge": true}, with "comment"
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the client's identifier of the final submission and the hash of its answers: a replay is recognised
    submission_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str | None] = mapped_column(String(64))
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    seat: Mapped[PanelSeat] = relationship(back_populates="form")
