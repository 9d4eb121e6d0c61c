"""Personal data (Decree 13/2023/NĐ-CP): what the service keeps about people besides anonymous answers, why,
for how long; a person's data found, exported and erased on request; everything erased past its date.

Answers are kept; what names or reaches a person goes. A nomination keeps its category and unit (the panel's
composition and its results still read them) but loses the name, organisation, position and contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, update

from sampling.nominations import phone_digits
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.outbox import OutboxMessage
from survey_app.core.types import utcnow
from survey_app.experts.models import Nomination
from survey_app.survey.models import InviteeContact

ERASED = "—"
#: how long an e-mail stays in the outbox once sent (to answer "was it sent?"), and at most while it waits
OUTBOX_SENT_DAYS, OUTBOX_WAITING_DAYS = 7, 30


@dataclass(frozen=True)
class PersonalDataKind:
    """One kind of personal data in the register shown to staff and auditors."""

    name: Any
    fields: Any
    purpose: Any
    retention: Any


#: the register of personal data the service keeps (kept apart from answers in each case)
REGISTER = [
    PersonalDataKind(
        _l("Invitees' contacts"),
        _l("name, e-mail, telephone (table invitee_contacts)"),
        _l("sending one survey invitation and its reminders"),
        _l(
            "until the date set when the invitations are issued (the end of fieldwork by default), "
            "then erased by “flask privacy erase-expired”"
        ),
    ),
    PersonalDataKind(
        _l("Experts' nominations"),
        _l("name, organisation, position, e-mail, telephone, expertise (table expert_nominations)"),
        _l("forming the unit's expert panel (40/30/30), sending the expert's link and reminders"),
        _l(
            "until the end of the year after the round, at least 180 days after nomination and never "
            "before the expert's link expires, then erased by “flask privacy erase-expired”; the "
            "category and unit are kept for the panel's composition"
        ),
    ),
    PersonalDataKind(
        _l("E-mails to send"),
        _l("recipient's address, subject and text with the expert's personal link (table outbox_messages)"),
        _l(
            "sending experts' links and reminders once the change that issued them is saved, and "
            "trying again until the mail server takes them"
        ),
        _l(
            "%(sent)s days after sending, or %(waiting)s days after queueing if never sent, then "
            "deleted by “flask privacy erase-expired”",
            sent=OUTBOX_SENT_DAYS,
            waiting=OUTBOX_WAITING_DAYS,
        ),
    ),
    PersonalDataKind(
        _l("Staff accounts"),
        _l("name, e-mail, password hash, sessions, audit trail"),
        _l("access to the service and accountability for changes"),
        _l("while the account is active; sessions end after inactivity"),
    ),
]


@dataclass
class PersonRecords:
    """What the service holds about one person, found by e-mail address or telephone number."""

    contacts: list[InviteeContact]
    nominations: list[Nomination]
    staff: list[User]
    #: e-mails to them still in the outbox
    messages: list[OutboxMessage] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.contacts or self.nominations or self.staff or self.messages)


def find_person(identifier: str) -> PersonRecords:
    """Every record naming the person with this e-mail address or telephone number (exact, case-insensitive).

    :raises ServiceError: ``person_identifier`` when it is neither an address nor a number of 6 digits or more
    """
    text = identifier.strip().lower()
    digits = phone_digits(text)
    if "@" not in text and len(digits) < 6:
        raise ServiceError("person_identifier")
    if "@" in text:
        contact_match = func.lower(InviteeContact.email) == text
        nomination_match = or_(func.lower(Nomination.email) == text, Nomination.person_key == text)
    else:
        # numbers are stored as typed ("0912 345 678"): narrow by the last digits, then compare digits
        contact_match = InviteeContact.phone.like(f"%{digits[-2:]}")
        nomination_match = Nomination.person_key == f"tel:{digits}"
    contacts = [
        contact
        for contact in db.session.scalars(select(InviteeContact).where(contact_match).order_by(InviteeContact.id))
        if "@" in text or phone_digits(contact.phone or "") == digits
    ]
    nominations = list(
        db.session.scalars(
            select(Nomination).where(nomination_match, Nomination.name != ERASED).order_by(Nomination.id)
        )
    )
    staff = list(db.session.scalars(select(User).where(func.lower(User.email) == text))) if "@" in text else []
    messages = (
        list(
            db.session.scalars(
                select(OutboxMessage).where(func.lower(OutboxMessage.recipient) == text).order_by(OutboxMessage.id)
            )
        )
        if "@" in text
        else []
    )
    return PersonRecords(contacts, nominations, staff, messages)


def export_person(records: PersonRecords, *, actor: User) -> dict[str, Any]:
    """A person's data as one document (their right of access), audited. An expert's own form answers are in
    it; an invitee's answers are not, being anonymous."""
    document = {
        "exported_at": utcnow().isoformat(),
        "invitee_contacts": [
            {
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "purpose": contact.purpose,
                "erase_after": contact.erase_after.isoformat(),
                "survey": contact.invitation.fieldwork_id,
                "unit": contact.invitation.unit.code,
                "answered": contact.invitation.submitted_at is not None,
            }
            for contact in records.contacts
        ],
        "expert_nominations": [
            {
                "name": nomination.name,
                "organisation": nomination.organisation,
                "position": nomination.position,
                "email": nomination.email,
                "phone": nomination.phone,
                "expertise": nomination.expertise,
                "category": nomination.category,
                "unit": nomination.unit.code,
                "round": nomination.round_id,
                "purpose": "expert_panel",
                "erase_after": nomination.erase_after.isoformat(),
                "form_answers": nomination.seat.form.answers if nomination.seat and nomination.seat.form else None,
            }
            for nomination in records.nominations
        ],
        "staff_accounts": [
            {"email": user.email, "name": user.name, "role": str(user.role), "active": user.active}
            for user in records.staff
        ],
        # without the text: it holds a working personal link
        "emails": [
            {
                "to": message.recipient,
                "subject": message.payload.get("subject"),
                "queued_at": message.queued_at.isoformat(),
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
            }
            for message in records.messages
        ],
    }
    audit.record(
        "privacy.export", actor=actor, new={"contacts": len(records.contacts), "nominations": len(records.nominations)}
    )
    return document


def erase_person(records: PersonRecords, reason: str, *, actor: User) -> Erased:
    """Erase a person's contacts and nominations on request; answers stay, anonymous. Staff accounts are
    deactivated from the accounts page, not here (their audit trail must stay).

    :raises ServiceError: ``reason_required``
    """
    if not reason.strip():
        raise ServiceError("reason_required")
    for contact in records.contacts:
        db.session.delete(contact)
    for nomination in records.nominations:
        _blank(nomination)
    for message in records.messages:
        db.session.delete(message)
    db.session.flush()
    audit.record(
        "privacy.erase_person",
        actor=actor,
        details={"reason": reason.strip()[:500]},
        new={
            "invitee_contacts": len(records.contacts),
            "nominations": len(records.nominations),
            "outbox_messages": len(records.messages),
        },
    )
    return Erased(len(records.contacts), len(records.nominations), len(records.messages))


def _blank(nomination: Nomination) -> None:
    nomination.name, nomination.organisation, nomination.position = ERASED, "", ""
    nomination.email = nomination.phone = nomination.expertise = ""
    nomination.person_key = f"{nomination.id}:erased"


@dataclass(frozen=True)
class Erased:
    invitee_contacts: int
    nominations: int
    outbox_messages: int = 0


def erase_expired(today: date) -> Erased:
    """Erase the personal data whose date has passed (``erase_after`` before ``today``; e-mails sent more than
    ``OUTBOX_SENT_DAYS`` before, or queued more than ``OUTBOX_WAITING_DAYS`` before and never sent)."""
    contacts = db.session.execute(delete(InviteeContact).where(InviteeContact.erase_after < today)).rowcount
    nominations = db.session.execute(
        update(Nomination)
        .where(Nomination.erase_after < today, Nomination.name != ERASED)
        .values(
            name=ERASED,
            organisation="",
            position="",
            email="",
            phone="",
            expertise="",
            person_key=Nomination.id.cast(db.String) + ":erased",
        )
    ).rowcount
    midnight = datetime.combine(today, time.min, tzinfo=UTC)
    messages = db.session.execute(
        delete(OutboxMessage).where(
            or_(
                OutboxMessage.sent_at < midnight - timedelta(days=OUTBOX_SENT_DAYS),
                and_(
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.queued_at < midnight - timedelta(days=OUTBOX_WAITING_DAYS),
                ),
            )
        )
    ).rowcount
    if contacts or nominations or messages:
        audit.record(
            "privacy.erase",
            new={
                "invitee_contacts": contacts,
                "nominations": nominations,
                "outbox_messages": messages,
                "before": today.isoformat(),
            },
        )
    return Erased(contacts, nominations, messages)
