"""The forms of the privacy pages: the person whose personal data staff find, export or erase on request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from survey_app.core.forms import Form


class PersonForm(Form):
    person = StringField(
        _l("E-mail address or telephone number of the person"),
        validators=[DataRequired(_l("Enter an e-mail address or a telephone number.")), Length(max=254)],
    )


class PersonActionForm(Form):
    person = HiddenField(validators=[DataRequired(), Length(max=254)])
    reason = TextAreaField(_l("Request (who asked, when, how)"), validators=[Length(max=500)])
