"""The form that opens an evaluation round."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Regexp

from survey_app.core.forms import Form


class RoundForm(Form):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter a code.")),
            Length(max=64),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and hyphens.")),
        ],
    )
    year = IntegerField(
        _l("Year"),
        validators=[
            DataRequired(_l("Enter a year.")),
            NumberRange(2018, 2100, _l("Enter a year between 2018 and 2100.")),
        ],
    )
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=300)])
    framework_id = SelectField(_l("Framework"), coerce=int)
    unit_list_id = SelectField(_l("Unit list"), coerce=int)
