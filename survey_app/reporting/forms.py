"""The forms of reporting. The values themselves are one field per criterion, named by its code
(``value-<code>``, ``evidence-<code>``, ``explanation-<code>``), so the form follows the round's framework."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from survey_app.core.forms import Form


class DocumentForm(Form):
    criterion = HiddenField(validators=[DataRequired()])
    document = FileField(_l("Evidence document (PDF)"), validators=[FileRequired(_l("Choose a file."))])


class ReturnForm(Form):
    comment = TextAreaField(
        _l("What to correct"), validators=[DataRequired(_l("Say what to correct.")), Length(max=1000)]
    )


class ReopenForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason.")), Length(max=1000)])


class PeriodForm(Form):
    code = StringField(_l("Code (as in 2023-h1)"), validators=[DataRequired(_l("Enter a code.")), Length(max=32)])
    name_vi = StringField(_l("Name in Vietnamese"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=200)])
    starts_on = DateField(_l("First day"), validators=[DataRequired(_l("Enter a date."))])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(_l("Enter a date."))])
    deadline = DateField(_l("Deadline for the sign-off"), validators=[DataRequired(_l("Enter a date."))])


class ReplyForm(Form):
    reply = TextAreaField(
        _l("Your reply to the appraisal"), validators=[DataRequired(_l("Write your reply.")), Length(max=1000)]
    )


class ClosingForm(Form):
    closes_on = DateField(
        _l("Last day units may reply to the appraisal"), validators=[DataRequired(_l("Enter a date."))]
    )
