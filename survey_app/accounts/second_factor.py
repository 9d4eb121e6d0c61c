"""The second factor of an account: a time-based one-time code (TOTP, RFC 6238) from an authenticator app.

Any account may enrol; a unit's signatory must, for a sign-off asks for a code verified in the same session.
A code is accepted once (its 30-second step is remembered), and an account that is sent too many wrong codes
refuses codes for a while, whoever sends them: six digits are too few to leave open to guessing.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import select

from survey_app.accounts.models import StaffSession, User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.tokens import token_hash
from survey_app.core.types import utcnow

#: wrong codes in a row before the account refuses codes, and for how long
MAX_FAILURES = 5
LOCK = timedelta(minutes=15)
#: codes of the step before and after are accepted too: a phone's clock is often a few seconds off
_DRIFT_STEPS = 1
ISSUER = "DTI"


def enrolled(user: User) -> bool:
    return user.totp_secret is not None


def begin_enrolment(user: User) -> str:
    """A new secret for the account, kept pending until a code from it is confirmed.

    :return: the secret, base 32 (typed into the app, or read from the ``otpauth`` address)
    """
    user.totp_pending_secret = pyotp.random_base32()
    db.session.flush()
    return user.totp_pending_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def confirm_enrolment(user: User, code: str, *, session_token: str, now: datetime | None = None) -> None:
    """Make the pending secret the account's once a code from it is right; the session counts as verified.

    :raises ServiceError: ``no_enrolment``, ``wrong_code``, ``second_factor_locked``
    """
    if user.totp_pending_secret is None:
        raise ServiceError("no_enrolment")
    _check(user, user.totp_pending_secret, code, now or utcnow())
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    audit.record("auth.second_factor_enrolled", actor=user, entity=user)
    mark_session(session_token, now)


def verify(user: User, code: str, now: datetime | None = None) -> None:
    """Check a code from the account's app.

    :raises ServiceError: ``wrong_code``, ``second_factor_locked``, ``no_enrolment``
    """
    if user.totp_secret is None:
        raise ServiceError("no_enrolment")
    _check(user, user.totp_secret, code, now or utcnow())


def _check(user: User, secret: str, code: str, now: datetime) -> None:
    if user.totp_locked_until is not None and user.totp_locked_until > now:
        raise ServiceError("second_factor_locked", minutes=int(LOCK.total_seconds() // 60))
    totp = pyotp.TOTP(secret)
    typed = "".join(character for character in code if character.isdigit())
    current = totp.timecode(now)
    matched = next(
        (
            step
            for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1)
            if len(typed) == totp.digits and hmac.compare_digest(totp.generate_otp(step), typed)
        ),
        None,
    )
    if matched is None or (user.totp_last_step is not None and matched <= user.totp_last_step):
        user.totp_failures += 1
        if user.totp_failures >= MAX_FAILURES:
            user.totp_locked_until, user.totp_failures = now + LOCK, 0
            audit.record("auth.second_factor_locked", actor=user, entity=user)
        db.session.flush()
        raise ServiceError("wrong_code")
    user.totp_last_step, user.totp_failures, user.totp_locked_until = matched, 0, None
    db.session.flush()


def mark_session(session_token: str, now: datetime | None = None) -> None:
    """Note that a code was verified in this session."""
    staff_session = db.session.get(StaffSession, token_hash(session_token))
    if staff_session is not None:
        staff_session.second_factor_at = now or utcnow()
        db.session.flush()


def session_verified(session_token: str) -> bool:
    """Whether a code was verified in this session."""
    at = db.session.scalar(select(StaffSession.second_factor_at).where(StaffSession.id == token_hash(session_token)))
    return at is not None
