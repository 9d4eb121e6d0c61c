"""Invitations to a fieldwork by personal link: issued from a contact list (the contacts kept apart from the
answers, erased after their retention) and revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from sqlalchemy import delete

from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import new_token, token_hash
from survey_app.core.types import utcnow
from survey_app.survey.models import (
    Fieldwork,
    FieldworkMode,
    Invitation,
    InviteeContact,
    ResponseDraft,
)
from survey_app.survey.operations.fieldwork import DEFAULT_CONTACT_RETENTION, RowProblem, units_by_code


@dataclass
class IssuedInvitation:
    invitation: Invitation
    #: the token, shown once: only its hash is stored
    token: str


def issue_invitations(
    fieldwork: Fieldwork, invitees: list[Mapping[str, Any]], *, actor: User, erase_after: date | None = None
) -> list[IssuedInvitation]:
    """Create a personal link per invitee.

    :param invitees: mappings with ``unit`` (code) and optionally ``name``, ``email``, ``phone`` (kept apart,
        erased after ``erase_after``), ``stratum`` and ``inclusion_probability``; the n-th is the file's row
        n + 1 (a header on row 1), and a blank one (an empty row of the file) is skipped, its number kept
    :raises ServiceError: ``not_invitation_mode``; ``rows_rejected`` for unknown units or probabilities
        outside (0, 1]
    """
    if fieldwork.mode != FieldworkMode.INVITATION:
        raise ServiceError("not_invitation_mode")
    units = units_by_code(fieldwork)
    numbered = [(line, invitee) for line, invitee in enumerate(invitees, start=2) if any(invitee.values())]
    problems = []
    for line, invitee in numbered:
        if str(invitee.get("unit", "")) not in units:
            problems.append(RowProblem(line, "unknown_unit", {"unit": invitee.get("unit", "")}))
        probability = invitee.get("inclusion_probability")
        if probability not in (None, ""):
            try:
                if not 0 < float(probability) <= 1:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(RowProblem(line, "invalid_probability", {"value": probability}))
    if problems:
        raise ServiceError("rows_rejected", rows=problems)
    erase_after = erase_after or (utcnow() + DEFAULT_CONTACT_RETENTION).date()
    issued = []
    for _, invitee in numbered:
        token = new_token()
        probability = invitee.get("inclusion_probability")
        invitation = Invitation(
            fieldwork_id=fieldwork.id,
            unit=units[str(invitee["unit"])],
            token_hash=token_hash(token),
            stratum=invitee.get("stratum") or None,
            inclusion_probability=float(probability) if probability not in (None, "") else None,
        )
        if any(invitee.get(key) for key in ("name", "email", "phone")):
            invitation.contact = InviteeContact(
                name=invitee.get("name") or None,
                email=invitee.get("email") or None,
                phone=invitee.get("phone") or None,
                erase_after=erase_after,
            )
        db.session.add(invitation)
        issued.append(IssuedInvitation(invitation, token))
    db.session.flush()
    audit.record("fieldwork.invitations", actor=actor, entity=fieldwork, new={"issued": len(issued)})
    return issued


def revoke_invitation(invitation: Invitation, *, actor: User, reason: str) -> None:
    if invitation.submitted_at is not None:
        raise ServiceError("invitation_already_used")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db.session.execute(delete(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id))
        audit.record("invitation.revoke", actor=actor, entity=invitation, details={"reason": reason})
