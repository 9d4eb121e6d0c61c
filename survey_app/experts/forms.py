"""The forms of the expert channel's staff pages: nominations, panel selection, overrides and reasons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from sampling import PANEL_SIZES
from survey_app.core.forms import Form


class NominationForm(Form):
    unit = SelectField(_l("Unit assessed"), validators=[DataRequired(_l("Choose a unit."))])
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    email = StringField(
        _l("E-mail"), validators=[Optional(), Email(_l("Enter a valid e-mail address.")), Length(max=254)]
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    expertise = StringField(_l("Field of expertise"), validators=[Optional(), Length(max=200)])


class NominationUploadForm(Form):
    file = FileField(_l("List of nominations (CSV or Excel)"), validators=[FileRequired(_l("Choose a file."))])
    unit = SelectField(_l("Unit of the rows without a unit column"), validators=[Optional()])
    accept_valid_rows = BooleanField(_l("Store the valid rows even if some rows are rejected"))


class SelectPanelForm(Form):
    unit = SelectField(_l("Unit"), validators=[DataRequired(_l("Choose a unit."))])
    size = IntegerField(
        _l("Panel size"),
        default=15,
        validators=[
            DataRequired(_l("Enter a panel size.")),
            NumberRange(
                min=PANEL_SIZES.start,
                max=PANEL_SIZES.stop - 1,
                message=_l("A panel has between %(min)s and %(max)s experts."),
            ),
        ],
    )
    seed = IntegerField(
        _l("Random seed"), validators=[DataRequired(_l("Enter a seed.")), NumberRange(min=1, max=2**31 - 1)]
    )


class ReasonForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason.")), Length(max=500)])


class OverrideForm(ReasonForm):
    remove = SelectField(_l("Member leaving the panel"), coerce=int)
    add = SelectField(_l("Nominee taking the seat"), coerce=int)
