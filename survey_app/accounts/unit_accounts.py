"""Units' own accounts (reporter, approver, overseer, signatory), each scoped to one unit, and the one-time links
by which they set their password."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from survey_app.accounts import operations as accounts
from survey_app.accounts.models import AccountInvitation, Role, UnitRole, User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import new_token, token_hash
from survey_app.core.types import utcnow
from survey_app.units.models import Unit

#: every unit role, for the rules of the units' pages
UNIT_ROLES = frozenset(UnitRole)
#: how long an invitation link opens the form that sets a password
INVITATION_DAYS = 7


def is_unit_account(user: User | None) -> bool:
    return user is not None and user.unit_id is not None


def may_manage(actor: User, unit: Unit) -> bool:
    """Administrators manage every unit's accounts; a unit's approver manages its own unit's."""
    if actor.role == Role.ADMINISTRATOR and actor.unit_id is None:
        return True
    return actor.role == UnitRole.APPROVER and actor.unit_id == unit.id


def unit_accounts(unit: Unit) -> list[User]:
    return list(db.session.scalars(select(User).where(User.unit_id == unit.id).order_by(User.role, User.email)))


def create_unit_account(unit: Unit, email: str, name: str, role: str, *, actor: User | None) -> tuple[User, str]:
    """Create a unit's account, without a usable password, and its one-time invitation.

    :param actor: an administrator or the unit's approver (None: the system, the demo)
    :return: the account and the invitation's token (shown or mailed once, never stored)
    :raises ServiceError: ``not_your_unit``, ``unknown_role``, ``invalid_email``, ``email_taken``
    """
    if actor is not None and not may_manage(actor, unit):
        raise ServiceError("not_your_unit")
    try:
        role = UnitRole(role)
    except ValueError:
        raise ServiceError("unknown_role", role=role) from None
    email = accounts.normalise_email(email)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ServiceError("email_taken", email=email)
    # a random password nobody knows: the account opens only once its holder sets one through the link
    user = User(
        email=email,
        name=name.strip() or email,
        role=role,
        unit_id=unit.id,
        password_hash=accounts.password_hash(secrets.token_urlsafe(32)),
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, entity=user, new={"email": email, "role": str(role), "unit": unit.code})
    return user, invite(user, actor=actor)


def invite(user: User, *, actor: User | None, now: datetime | None = None) -> str:
    """A new one-time link for the account; earlier unused links stop working.

    :return: the link's token
    """
    now = now or utcnow()
    for earlier in db.session.scalars(
        select(AccountInvitation).where(AccountInvitation.user_id == user.id, AccountInvitation.used_at.is_(None))
    ):
        earlier.used_at = now
    token = new_token()
    db.session.add(
        AccountInvitation(
            token_hash=token_hash(token), user_id=user.id, expires_at=now + timedelta(days=INVITATION_DAYS)
        )
    )
    db.session.flush()
    audit.record("user.invitation", actor=actor, entity=user)
    return token


def invitation(token: str, now: datetime | None = None) -> AccountInvitation:
    """The live invitation of a link.

    :raises ServiceError: ``unknown_link`` (also for a used or expired one: the link tells a guesser nothing)
    """
    found = db.session.scalar(select(AccountInvitation).where(AccountInvitation.token_hash == token_hash(token)))
    if found is None or found.used_at is not None or found.expires_at <= (now or utcnow()) or not found.user.active:
        raise ServiceError("unknown_link")
    return found


def accept_invitation(token: str, password: str, repeated: str) -> User:
    """Set the account's password through its link, which then opens nothing.

    :raises ServiceError: ``unknown_link``, ``passwords_differ``, ``weak_password``
    """
    found = invitation(token)
    if password != repeated:
        raise ServiceError("passwords_differ")
    accounts.set_password(found.user, password, actor=found.user)
    found.used_at = utcnow()
    audit.record("user.invitation_used", actor=found.user, entity=found.user)
    return found.user
