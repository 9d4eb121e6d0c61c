"""The audit log: who changed what, when, from which value to which."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.core.extensions import db
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: the staff member, None for the system or an anonymous request
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the actor's e-mail at the time, kept when the account is gone
    actor: Mapped[str | None] = mapped_column(String(254))
    #: what happened, as a dotted name ("framework.load", "user.role", "auth.login_failed")
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(128))
    old_value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
    details: Mapped[Any] = mapped_column(JSONDocument, nullable=True)
