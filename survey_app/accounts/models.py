"""Staff accounts, their roles and their server-side sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.core.extensions import db
from survey_app.core.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a staff member may do; every staff route names the roles it admits."""

    ADMINISTRATOR = "administrator"
    SAMPLE_DESIGNER = "sample_designer"
    SCORING_OFFICER = "scoring_officer"
    VIEWER = "viewer"


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the login, stored lower-cased
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id hash
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sessions: Mapped[list[StaffSession]] = relationship(back_populates="user", cascade="all, delete-orphan")

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

    user: Mapped[User] = relationship(back_populates="sessions")
