"""Units' own accounts (``/unit-accounts``): administrators manage every unit's, a unit's approver its own's;
a new account gets a one-time link to set its password, by e-mail when the deployment sends mail."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.accounts import operations as accounts_operations
from survey_app.accounts import unit_accounts as accounts
from survey_app.accounts.blueprint import unit_accounts as blueprint
from survey_app.accounts.forms import FindUnitForm, NewUnitAccountForm
from survey_app.accounts.models import Role, UnitRole, User
from survey_app.core import mail
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import describe_error, label
from survey_app.core.security import allow
from survey_app.units.models import Unit, UnitList


def _managed_unit(unit_id: int) -> Unit:
    """The unit, when the current account may manage its accounts (another unit's is refused, 403)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    if not accounts.may_manage(g.user, unit):
        abort(403)
    return unit


@blueprint.get("/")
@allow(Role.ADMINISTRATOR)
def index():
    form = FindUnitForm(request.args)
    if request.args and form.validate():
        unit = db.session.scalar(
            select(Unit).join(UnitList).where(UnitList.code == form.unit_list.data, Unit.code == form.unit.data)
        )
        if unit is not None:
            return redirect(url_for("unit_accounts.unit", unit_id=unit.id))
        flash(_("No unit %(code)s in that list.", code=form.unit.data), "error")
    users = db.session.scalars(select(User).where(User.unit_id.is_not(None)).order_by(User.unit_id, User.email))
    return render_template("unit_accounts/index.html", users=list(users), form=form)


def _invitation_mail(user: User, link: str) -> mail.Mail:
    subject = _("Your account for reporting the DTI data of %(unit)s", unit=user.unit.name)
    body = _(
        "Dear %(name)s,\n\nAn account (%(role)s) has been opened for you to report the data of %(unit)s. "
        "Set your password through this link, which works once within %(days)s days: %(link)s",
        name=user.name,
        role=label(user.role),
        unit=user.unit.name,
        days=accounts.INVITATION_DAYS,
        link=link,
    )
    return mail.Mail(user.email, subject, body)


def _send_link(user: User, token: str) -> str | None:
    """Queue the link for e-mail when the deployment sends mail; otherwise return it, to be shown once."""
    link = url_for("auth.invitation", token=token, _external=True)
    if mail.configured(current_app.config):
        mail.queue([_invitation_mail(user, link)])
        flash(_("The invitation is queued for e-mail to %(email)s.", email=user.email), "success")
        return None
    return link


@blueprint.route("/<int:unit_id>", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR, UnitRole.APPROVER)
def unit(unit_id: int):
    unit = _managed_unit(unit_id)
    form, link = NewUnitAccountForm(), None
    if form.validate_on_submit():
        try:
            user, token = accounts.create_unit_account(
                unit, form.email.data, form.name.data, form.role.data, actor=g.user
            )
        except ServiceError as error:
            form.email.errors.append(describe_error(error))
        else:
            flash(_("Account %(email)s created.", email=user.email), "success")
            link = _send_link(user, token)
            form = NewUnitAccountForm(formdata=None)
    status = 400 if form.errors else 200
    return render_template(
        "unit_accounts/unit.html", unit=unit, users=accounts.unit_accounts(unit), form=form, link=link
    ), status


@blueprint.post("/<int:unit_id>/<int:account_id>/invite")
@allow(Role.ADMINISTRATOR, UnitRole.APPROVER)
def invite(unit_id: int, account_id: int):
    """A new one-time link for an account of the unit (a lost or expired one)."""
    unit = _managed_unit(unit_id)
    user = db.session.get(User, account_id)
    if user is None or user.unit_id != unit.id:
        abort(404)
    link = _send_link(user, accounts.invite(user, actor=g.user))
    return render_template(
        "unit_accounts/unit.html", unit=unit, users=accounts.unit_accounts(unit), form=NewUnitAccountForm(), link=link
    )


@blueprint.post("/<int:unit_id>/<int:account_id>/active")
@allow(Role.ADMINISTRATOR, UnitRole.APPROVER)
def set_active(unit_id: int, account_id: int):
    """Close an account of the unit (its sessions end at once), or open it again."""
    unit = _managed_unit(unit_id)
    user = db.session.get(User, account_id)
    if user is None or user.unit_id != unit.id:
        abort(404)
    try:
        accounts_operations.set_active(user, request.form.get("active") == "1", actor=g.user)
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("unit_accounts.unit", unit_id=unit.id))
    flash(_("Account %(email)s saved.", email=user.email), "success")
    return redirect(url_for("unit_accounts.unit", unit_id=unit.id))
