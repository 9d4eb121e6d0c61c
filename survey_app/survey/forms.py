"""The forms of the survey channel's staff pages: fieldwork, quotas, invitations, imports and API keys."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from survey_app.core.forms import Form

_CODE = [
    DataRequired(_l("Enter a code.")),
    Length(max=64),
    Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and hyphens.")),
]


class PublishQuestionnaireForm(Form):
    framework_id = SelectField(_l("Framework"), coerce=int)
    group = SelectField(_l("Respondent group"))
    code = StringField(_l("Code"), validators=_CODE)
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=300)])
    bank = FileField(_l("Question bank (YAML)"), validators=[FileRequired(_l("Choose a file."))])


class FieldworkForm(Form):
    code = StringField(_l("Code"), validators=_CODE)
    name_vi = StringField(_l("Name (Vietnamese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=300)])
    questionnaire_id = SelectField(_l("Questionnaire"), coerce=int)
    round_id = SelectField(_l("Round"), coerce=int)
    mode = SelectField(_l("Mode"))
    units = TextAreaField(_l("Units"), validators=[Optional(), Length(max=5000)])
    quota_dimensions = StringField(_l("Quota dimensions"), validators=[Optional(), Length(max=300)])
    anonymous = BooleanField(_l("Anonymous: keep no link between an invitation and its response"), default=True)


class UploadForm(Form):
    file = FileField(_l("File (CSV)"), validators=[FileRequired(_l("Choose a file."))])
    unit = SelectField(_l("Unit of the rows without a unit column"), validators=[Optional()])
    accept_valid_rows = BooleanField(_l("Store the valid rows even if some rows are rejected"))


class ApiKeyForm(Form):
    name = StringField(_l("Who uses the key"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    fieldworks = SelectMultipleField(
        _l("Fieldworks the key may submit to"),
        coerce=int,
        validators=[DataRequired(_l("Choose at least one fieldwork."))],
    )
