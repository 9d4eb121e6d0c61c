"""Accounts (staff, and units' own accounts scoped to their unit), their roles, invitations, second factor and
server-side sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from survey_app.units.models import Unit


class Role(StrEnum):
    """What a staff member may do; every staff route names the roles it admits."""

    ADMINISTRATOR = "administrator"
    SAMPLE_DESIGNER = "sample_designer"
    SCORING_OFFICER = "scoring_officer"
    VIEWER = "viewer"


class UnitRole(StrEnum):
    """What a unit's own account may do, on its unit's data only (letter 5066, Annex II.1; Decision 742,
    Art. 6.1). Kept apart from ``Role``: every staff rule lists staff roles, so a unit account is refused every
    staff page without any page having to name it."""

    #: enters the unit's data
    REPORTER = "reporter"
    #: confirms it (the head of IT, or the unit's leader), and manages the unit's accounts
    APPROVER = "approver"
    #: reads it (the provincial office)
    OVERSEER = "overseer"
    #: signs it off (the unit's leader); needs the second factor
    SIGNATORY = "signatory"


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the login, stored lower-cased
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id hash
    password_hash: Mapped[str] = mapped_column(String(255))
    #: a ``Role`` for staff, a ``UnitRole`` for a unit's account
    role: Mapped[Role] = mapped_column(String(32))
    #: the unit a unit account belongs to; None for staff
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    #: the base-32 TOTP secret once the second factor is enrolled (RFC 6238)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    #: the secret offered at enrolment, kept until a code from it is confirmed
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64))
    #: the last 30-second step a code was accepted for: a code is accepted once
    totp_last_step: Mapped[int | None]
    #: wrong codes since the last good one, and until when the account refuses codes after too many
    totp_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    totp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[StaffSession]] = relationship(back_populates="user", cascade="all, delete-orphan")
    unit: Mapped[Unit | None] = relationship()

    @property
    def is_unit_account(self) -> bool:
        return self.unit_id is not None

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class StaffSession(db.Model):
    """A logged-in staff session. The browser's cookie carries a random token; only its hash is stored,
    so logging out (deleting the row) makes the old cookie useless."""

    __tablename__ = "staff_sessions"

    #: SHA-256 of the session token, hex
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when a second-factor code was verified in this session (a sign-off asks for it)
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sessions")


class AccountInvitation(db.Model):
    """A one-time link by which a new unit account sets its password; only the token's hash is stored."""

    __tablename__ = "account_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the link's token, hex
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the password was set through it; a used link opens nothing
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
