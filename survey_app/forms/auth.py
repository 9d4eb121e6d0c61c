from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from survey_app.forms import Form


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


class ConfirmForm(Form):
    """A form with nothing but its CSRF token, behind every button that changes state."""
