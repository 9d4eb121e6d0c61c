"""Staff accounts (``/users``), for administrators: the list, a new account, an account's role and state."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.accounts import operations as accounts
from survey_app.accounts.blueprint import users as blueprint
from survey_app.accounts.forms import EditUserForm, NewUserForm
from survey_app.accounts.models import Role, User
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import describe_error
from survey_app.core.security import allow


@blueprint.get("/")
@allow(Role.ADMINISTRATOR)
def index():
    # units' own accounts are managed per unit (``unit_accounts``): a staff role never goes to one
    users = db.session.scalars(select(User).where(User.unit_id.is_(None)).order_by(User.email))
    return render_template("users/index.html", users=list(users))


@blueprint.route("/new", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR)
def create():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.email.data, form.name.data, form.role.data, form.password.data, actor=g.user
            )
        except ServiceError as error:
            flash(describe_error(error), "error")
        else:
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("users.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("users/new.html", form=form), status


@blueprint.route("/<int:user_id>", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR)
def edit(user_id: int):
    user = db.session.get(User, user_id)
    if user is None or user.unit_id is not None:
        abort(404)
    form = EditUserForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.change_role(user, form.role.data, actor=g.user)
            accounts.set_active(user, form.active.data, actor=g.user)
        except ServiceError as error:
            db.session.rollback()
            flash(describe_error(error), "error")
            return render_template("users/edit.html", form=form, user=user), 400
        flash(_("Account %(email)s saved.", email=user.email), "success")
        return redirect(url_for("users.index"))
    return render_template("users/edit.html", form=form, user=user)
