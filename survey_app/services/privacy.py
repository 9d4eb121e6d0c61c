"""Personal data kept no longer than its stated date: invitees' contacts and experts' nominations.

Answers are kept; what names or reaches a person goes. A nomination keeps its category and unit (the panel's
composition and its results still read them) but loses the name, organisation, position and contact.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, update

from survey_app.extensions import db
from survey_app.models import InviteeContact, Nomination
from survey_app.services import audit

ERASED = "—"


@dataclass(frozen=True)
class Erased:
    invitee_contacts: int
    nominations: int


def erase_expired(today: date) -> Erased:
    """Erase the personal data whose date has passed (``erase_after`` before ``today``)."""
    contacts = db.session.execute(delete(InviteeContact).where(InviteeContact.erase_after < today)).rowcount
    nominations = db.session.execute(
        update(Nomination).where(Nomination.erase_after < today, Nomination.name != ERASED)
        .values(name=ERASED, organisation="", position="", email="", phone="", expertise="",
                person_key=Nomination.id.cast(db.String) + ":erased")).rowcount
    if contacts or nominations:
        audit.record("privacy.erase", new={"invitee_contacts": contacts, "nominations": nominations,
                                           "before": today.isoformat()})
    return Erased(contacts, nominations)
