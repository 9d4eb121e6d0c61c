"""Staff accounts: creation, roles, password checks and server-side sessions."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select

from survey_app.accounts.models import Role, StaffSession, User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import new_token, token_hash
from survey_app.core.types import utcnow

MIN_PASSWORD_LENGTH = 12
#: a session's last-seen time is written at most this often, not on every request
_TOUCH_INTERVAL = timedelta(minutes=1)
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def normalise_email(email: str) -> str:
    """The canonical form of a login e-mail.

    :raises ServiceError: ``invalid_email`` when it is not an e-mail address
    """
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ServiceError("invalid_email", email=email) from None


def create_user(email: str, name: str, role: str, password: str, *, actor: User | None = None) -> User:
    """Create a staff account.

    :raises ServiceError: ``invalid_email``, ``unknown_role``, ``weak_password`` or ``email_taken``
    """
    email = normalise_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise ServiceError("unknown_role", role=role) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError("weak_password", minimum=MIN_PASSWORD_LENGTH)
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise ServiceError("email_taken", email=email)
    user = User(email=email, name=name.strip() or email, role=role, password_hash=_hasher.hash(password))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, entity=user, new={"email": email, "role": str(role)})
    return user


def password_hash(password: str) -> str:
    return _hasher.hash(password)


def authenticate(email: str, password: str) -> User | None:
    """The active account with this e-mail and password, or None."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(user: User, password: str, *, actor: User | None) -> None:
    """Replace a password and end the account's other sessions."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError("weak_password", minimum=MIN_PASSWORD_LENGTH)
    user.password_hash = _hasher.hash(password)
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    audit.record("user.password", actor=actor, entity=user)


def change_role(user: User, role: str, *, actor: User) -> None:
    try:
        role = Role(role)
    except ValueError:
        raise ServiceError("unknown_role", role=role) from None
    if user.id == actor.id and role is not Role.ADMINISTRATOR:
        raise ServiceError("own_role")
    if user.role != role:
        audit.record("user.role", actor=actor, entity=user, field="role", old=str(user.role), new=str(role))
        user.role = role


def set_active(user: User, active: bool, *, actor: User) -> None:
    if user.id == actor.id and not active:
        raise ServiceError("own_account")
    if user.active != active:
        audit.record("user.active", actor=actor, entity=user, field="active", old=user.active, new=active)
        user.active = active
        if not active:
            db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def open_session(user: User) -> str:
    """Start a session for a user who has just logged in.

    :return: the token for the browser's cookie; only its hash is stored
    """
    token = new_token()
    db.session.add(StaffSession(id=token_hash(token), user_id=user.id))
    user.last_login_at = utcnow()
    return token


def session_user(token: str, idle_timeout: timedelta, now: datetime | None = None) -> User | None:
    """The user of a live session, or None when the token is unknown, idle too long, or its user inactive."""
    now = now or utcnow()
    staff_session = db.session.get(StaffSession, token_hash(token))
    if staff_session is None:
        return None
    if now - staff_session.last_seen_at > idle_timeout or not staff_session.user.active:
        db.session.delete(staff_session)
        return None
    if now - staff_session.last_seen_at > _TOUCH_INTERVAL:
        staff_session.last_seen_at = now
    return staff_session.user


def close_session(token: str) -> None:
    db.session.execute(delete(StaffSession).where(StaffSession.id == token_hash(token)))
