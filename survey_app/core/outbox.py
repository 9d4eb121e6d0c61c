"""The outbox: what the service must do outside its database (an e-mail), written in the transaction of the
change that asks for it and carried out only once that transaction is committed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.core.extensions import db
from survey_app.core.types import JSONDocument, UTCDateTime, utcnow


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what to do: "mail" (the only kind so far)
    kind: Mapped[str] = mapped_column(String(32))
    #: whom it goes to: an e-mail address (personal data, in the privacy register)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    #: what to send: for a mail, its subject and body (an expert's personal link among them)
    payload: Mapped[Any] = mapped_column(JSONDocument)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: when it left; None while it waits (a sender takes only these)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: how many times a sender tried, and why the last try failed
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))
