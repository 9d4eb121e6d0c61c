"""Signing in and out of a staff account."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from survey_app.accounts import operations as accounts
from survey_app.accounts.blueprint import auth as blueprint
from survey_app.accounts.forms import LoginForm
from survey_app.audit import operations as audit
from survey_app.core.extensions import client_address, limiter
from survey_app.core.forms import ConfirmForm
from survey_app.core.i18n import LANGUAGE_KEY
from survey_app.core.security import SESSION_KEY, STAFF, allow, public, safe_next


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
        if user is not None:
            language = session.get(LANGUAGE_KEY)
            session.clear()  # a new session on login: nothing of the anonymous one survives
            if language:
                session[LANGUAGE_KEY] = language
            session[SESSION_KEY] = accounts.open_session(user)
            session.permanent = True
            audit.record("auth.login", actor=user, details={"address": client_address()})
            return redirect(safe_next(request.args.get("next"), url_for("main.dashboard")))
        audit.record(
            "auth.login_failed",
            actor_label=(form.email.data or "").strip().lower()[:254],
            details={"address": client_address()},
        )
        flash(_("The e-mail or the password is wrong."), "error")
    return render_template("auth/login.html", form=form), 200


@blueprint.post("/logout")
@allow(*STAFF)
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
