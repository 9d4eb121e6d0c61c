"""The forms of staff accounts: signing in, creating and editing an account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from survey_app.accounts.models import Role, UnitRole
from survey_app.core.forms import Form


class LoginForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Enter your e-mail.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=1000)],
        render_kw={"autocomplete": "current-password"},
    )


def role_choices():
    return [
        (Role.ADMINISTRATOR.value, _l("Administrator")),
        (Role.SAMPLE_DESIGNER.value, _l("Sample designer")),
        (Role.SCORING_OFFICER.value, _l("Scoring officer")),
        (Role.VIEWER.value, _l("Viewer")),
    ]


class NewUserForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter an e-mail.")), Length(max=254)])
    role = SelectField(_l("Role"), choices=role_choices)
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(_l("Enter a password.")), Length(max=1000)],
        render_kw={"autocomplete": "new-password"},
    )


class EditUserForm(Form):
    role = SelectField(_l("Role"), choices=role_choices)
    active = BooleanField(_l("Account active"))


class CodeForm(Form):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the six-digit code.")), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class SetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a password.")), Length(max=1000)],
        render_kw={"autocomplete": "new-password"},
    )
    repeated = PasswordField(
        _l("The password again"),
        validators=[DataRequired(_l("Enter the password again.")), Length(max=1000)],
        render_kw={"autocomplete": "new-password"},
    )


def unit_role_choices():
    return [
        (UnitRole.REPORTER.value, _l("Reporter (enters the data)")),
        (UnitRole.APPROVER.value, _l("Approver (confirms the data)")),
        (UnitRole.OVERSEER.value, _l("Overseer (reads the data)")),
        (UnitRole.SIGNATORY.value, _l("Signatory (signs the data off)")),
    ]


class NewUnitAccountForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(_l("Enter an e-mail.")), Length(max=254)])
    role = SelectField(_l("Role"), choices=unit_role_choices)


class FindUnitForm(Form):
    class Meta:
        csrf = False  # a search that changes nothing, sent by GET

    unit_list = StringField(_l("Unit list code"), validators=[DataRequired(), Length(max=64)])
    unit = StringField(_l("Unit code"), validators=[DataRequired(), Length(max=32)])
