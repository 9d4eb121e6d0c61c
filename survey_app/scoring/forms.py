"""The forms of scoring: self-assessment files and values, evidence, appraisal, runs and their publication."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from survey_app.core.forms import Form


class InputUploadForm(Form):
    file = FileField(_l("File (CSV or Excel)"), validators=[FileRequired(_l("Choose a file."))])
    unit = SelectField(_l("Unit of the rows without a unit column"), validators=[Optional()])


class ReportValueForm(Form):
    criterion = SelectField(_l("Criterion"), validators=[DataRequired(_l("Choose a criterion."))])
    value = StringField(_l("Value"), validators=[DataRequired(_l("Enter a value.")), Length(max=50)])
    evidence = StringField(_l("Evidence (document reference)"), validators=[Optional(), Length(max=1000)])
    explanation = TextAreaField(
        _l("Written explanation (needed without evidence)"), validators=[Optional(), Length(max=1000)]
    )
    document = FileField(_l("Evidence document (PDF: a scan of the signed paper, or the digitally signed file)"))


class EvidenceForm(Form):
    document = FileField(_l("Evidence document (PDF)"), validators=[FileRequired(_l("Choose a file."))])


class AppraiseForm(Form):
    points = FloatField(_l("Appraised points (empty: accept the self-assessed points)"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class RunForm(Form):
    excluded = SelectMultipleField(
        _l("Criteria excluded from the ranking"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )
    kept = SelectMultipleField(
        _l("Proposed criteria kept in the ranking (units without data score 0 on them)"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )
    peer_units = StringField(
        _l("Units without subordinate units or online services (codes)"), validators=[Optional(), Length(max=2000)]
    )
    peer_criteria = StringField(
        _l("…their criteria scored at the best peer's points (codes)"), validators=[Optional(), Length(max=2000)]
    )
    full_units = StringField(_l("Special-purpose units (codes)"), validators=[Optional(), Length(max=2000)])
    full_criteria = StringField(
        _l("…their criteria given full marks (codes)"), validators=[Optional(), Length(max=2000)]
    )
    normalisation = SelectField(
        _l("Normalisation of criterion values"),
        default="none",
        choices=[
            SelectChoice("none", _l("None: the points the scoring rules give")),
            SelectChoice("min-max", _l("Min-max: each criterion rescaled from the lowest unit (0) to the highest (1)")),
            SelectChoice("z-score", _l("Z-score: each criterion as standard deviations from the units' mean")),
        ],
    )
    exclusion = SelectField(
        _l("What excluding a criterion does"),
        default="redistribute",
        choices=[
            SelectChoice("redistribute", _l("Its points pass to its siblings: every parent keeps its points")),
            SelectChoice("remove", _l("Its points leave the total for every unit")),
        ],
    )
    note = TextAreaField(_l("Note (why these exclusions and rules)"), validators=[Optional(), Length(max=2000)])


class PublishForm(Form):
    confirm = BooleanField(
        _l("I have checked this run: publish its results for good."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
