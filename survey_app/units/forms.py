"""The form that creates a unit list from a table."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from survey_app.core.forms import Form


class UnitListForm(Form):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(_l("Enter a code.")),
            Length(max=64),
            Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and hyphens.")),
        ],
    )
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=200)])
    level = SelectField(_l("Level"))
    first_year = IntegerField(
        _l("First year"), validators=[Optional(), NumberRange(2018, 2100, _l("Enter a year between 2018 and 2100."))]
    )
    last_year = IntegerField(
        _l("Last year"), validators=[Optional(), NumberRange(2018, 2100, _l("Enter a year between 2018 and 2100."))]
    )
    source = StringField(_l("Source"), validators=[Length(max=500)])
    parent_list = SelectField(_l("List holding the parents (column “parent”)"), coerce=int)
    predecessor_list = SelectField(_l("List holding the predecessors (column “predecessors”)"), coerce=int)
    file = FileField(
        _l("Units (CSV or Excel)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(("csv", "xlsx"), _l("Only .csv or .xlsx files are accepted.")),
        ],
    )
