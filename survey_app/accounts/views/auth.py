"""Signing in and out (with the second factor when the account has one), an account's second factor, and the
one-time link by which a unit's account sets its password."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from survey_app.accounts import operations as accounts
from survey_app.accounts import second_factor, unit_accounts
from survey_app.accounts.blueprint import auth as blueprint
from survey_app.accounts.forms import CodeForm, LoginForm, SetPasswordForm
from survey_app.accounts.models import UnitRole, User
from survey_app.audit import operations as audit
from survey_app.core.app import keep_changes
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import client_address, db, limiter
from survey_app.core.forms import ConfirmForm
from survey_app.core.i18n import LANGUAGE_KEY, describe_error
from survey_app.core.links import guarded
from survey_app.core.security import SESSION_KEY, STAFF, allow, public, safe_next
from survey_app.core.types import utcnow

#: the session's key for an account whose password was right and whose second-factor code is awaited, with when
PENDING_KEY = "second_factor_pending"
#: how long a password stays good for the code that must follow it
PENDING_SECONDS = 300
#: every account, staff or unit
EVERYONE = (*STAFF, *unit_accounts.UNIT_ROLES)


def _login_key() -> str:
    # Per address and account: an attacker guessing one account's password is slowed without locking its
    # owner out from another address, and nobody's failures count against a colleague behind the same proxy.
    return f"{client_address()}|{(request.form.get('email') or '').strip().lower()}"


def _failed(response) -> bool:
    return response.status_code != 302


@blueprint.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-account",
)
@limiter.limit("30 per 5 minutes", methods=["POST"], deduct_when=_failed, scope="login-address")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None and second_factor.enrolled(user):
            _new_session()
            session[PENDING_KEY] = [user.id, utcnow().timestamp(), request.args.get("next") or ""]
            return redirect(url_for("auth.code"))
        if user is not None:
            return _logged_in(user)
        audit.record(
            "auth.login_failed",
            actor_label=(form.email.data or "").strip().lower()[:254],
            details={"address": client_address()},
        )
        flash(_("The e-mail or the password is wrong."), "error")
    return render_template("auth/login.html", form=form), 200


def _new_session() -> None:
    language = session.get(LANGUAGE_KEY)
    session.clear()  # a new session on login: nothing of the anonymous one survives
    if language:
        session[LANGUAGE_KEY] = language


def _logged_in(user: User, *, verified: bool = False, next_page: str | None = None):
    _new_session()
    session[SESSION_KEY] = accounts.open_session(user)
    session.permanent = True
    db.session.flush()
    if verified:
        second_factor.mark_session(session[SESSION_KEY])
    audit.record("auth.login", actor=user, details={"address": client_address(), "second_factor": verified})
    if user.role == UnitRole.SIGNATORY and not second_factor.enrolled(user):
        return redirect(url_for("auth.second_factor_page"))  # a signatory signs nothing without one
    return redirect(safe_next(next_page if next_page is not None else request.args.get("next"), _home(user)))


def _home(user: User) -> str:
    """Where an account starts: a unit's reporting, or the staff overview."""
    return url_for("reporting.home") if unit_accounts.is_unit_account(user) else url_for("main.dashboard")


def _pending_key() -> str:
    pending = session.get(PENDING_KEY) or [0]
    return f"second-factor|{pending[0]}"


@blueprint.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="login-code",
)
def code():
    """The second step of a login: a code from the account's authenticator app."""
    pending = session.get(PENDING_KEY)
    if not pending or utcnow().timestamp() - pending[1] > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        flash(_("Log in again: the time for the code has run out."), "error")
        return redirect(url_for("auth.login"))
    user = db.session.get(User, pending[0])
    form = CodeForm()
    if user is not None and form.validate_on_submit():
        try:
            second_factor.verify(user, form.code.data)
        except ServiceError as error:
            keep_changes()  # the wrong code counts towards the account's lock
            audit.record("auth.login_failed", actor=user, details={"address": client_address(), "step": "code"})
            form.code.errors.append(describe_error(error))
        else:
            return _logged_in(user, verified=True, next_page=pending[2])
    return render_template("auth/code.html", form=form), 400 if form.is_submitted() else 200


@blueprint.route("/account/second-factor", methods=["GET", "POST"])
@allow(*EVERYONE)
def second_factor_page():
    """Enrol a second factor: the secret as text and as an ``otpauth`` address, confirmed by a first code."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            second_factor.confirm_enrolment(g.user, form.code.data, session_token=session.get(SESSION_KEY, ""))
        except ServiceError as error:
            keep_changes()
            form.code.errors.append(describe_error(error))
        else:
            flash(_("The second factor is on: a login now asks for a code."), "success")
            return redirect(_home(g.user))
    secret = g.user.totp_pending_secret or second_factor.begin_enrolment(g.user)
    return render_template(
        "auth/second_factor.html",
        form=form,
        secret=secret,
        uri=second_factor.provisioning_uri(g.user, secret),
        enrolled=second_factor.enrolled(g.user),
        verified=second_factor.session_verified(session.get(SESSION_KEY, "")),
    ), 400 if form.is_submitted() else 200


@blueprint.route("/account/verify", methods=["GET", "POST"])
@allow(*EVERYONE)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=lambda: f"second-factor|{g.user.id}",
    methods=["POST"],
    deduct_when=_failed,
    scope="login-code",
)
def verify():
    """A code asked again in a session opened without one (before a sign-off)."""
    form = CodeForm()
    if form.validate_on_submit():
        try:
            second_factor.verify(g.user, form.code.data)
        except ServiceError as error:
            keep_changes()
            form.code.errors.append(describe_error(error))
        else:
            second_factor.mark_session(session.get(SESSION_KEY, ""))
            audit.record("auth.second_factor_verified", actor=g.user)
            return redirect(safe_next(request.args.get("next"), _home(g.user)))
    if not second_factor.enrolled(g.user):
        return redirect(url_for("auth.second_factor_page"))
    return render_template("auth/code.html", form=form), 400 if form.is_submitted() else 200


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
@public
@guarded
def invitation(token: str):
    """A unit account's one-time link: its holder sets the password, then logs in."""
    try:
        found = unit_accounts.invitation(token)
    except ServiceError as error:
        return render_template("auth/invitation.html", problem=describe_error(error), form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            unit_accounts.accept_invitation(token, form.password.data, form.repeated.data)
        except ServiceError as error:
            form.password.errors.append(describe_error(error))
        else:
            flash(_("Your password is set. Log in with your e-mail and the new password."), "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/invitation.html", form=form, account=found.user, problem=None), status


@blueprint.post("/logout")
@allow(*EVERYONE)
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.close_session(session.get(SESSION_KEY, ""))
        audit.record("auth.logout", actor=g.user)
        language = session.get(LANGUAGE_KEY)
        session.clear()
        if language:
            session[LANGUAGE_KEY] = language
        flash(_("You have logged out."), "info")
    return redirect(url_for("main.home"))
