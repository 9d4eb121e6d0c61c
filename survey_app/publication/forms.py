"""The form of the strategic targets' pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from survey_app.core.forms import Form


class IndicatorValueForm(Form):
    indicator = SelectField(_l("Indicator"), validators=[DataRequired(_l("Choose an indicator."))])
    year = IntegerField(_l("Year"), validators=[DataRequired(_l("Enter a year."))])
    quarter = SelectField(
        _l("Quarter"),
        choices=[SelectChoice(str(number), roman) for number, roman in enumerate(("I", "II", "III", "IV"), 1)],
    )
    value = StringField(_l("Value"), validators=[DataRequired(_l("Enter a value.")), Length(max=50)])
    provisional = BooleanField(_l("Provisional estimate: the official figure is not available yet"))
    note = TextAreaField(_l("Note (source of the figure)"), validators=[Optional(), Length(max=2000)])
