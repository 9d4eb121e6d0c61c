from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class SamplePlanForm(FlaskForm):
    file = FileField(_l("Population frame (CSV or Excel)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(("csv", "xlsx"), _l("Only .csv or .xlsx files are accepted."))])
    strata = StringField(_l("Stratum columns"), default="province, urban",
                         validators=[DataRequired(_l("Name at least one column.")), Length(max=300)])
    count = StringField(_l("Population count column"), default="population",
                        validators=[DataRequired(_l("Name the column.")), Length(max=100)])
    method = SelectField(_l("Allocation"), choices=[
        ("power", _l("Power allocation")), ("proportional", _l("Proportional")), ("equal", _l("Equal")),
        ("precision", _l("Same margin of error in every stratum"))], default="power")
    total = IntegerField(_l("Total sample size"), validators=[
        Optional(), NumberRange(1, 10_000_000, _l("Enter a whole number of at least 1."))])
    margin = DecimalField(_l("Target margin of error (e.g. 0.05)"), places=None, validators=[
        Optional(), NumberRange(0.001, 0.5, _l("Enter a margin between 0.001 and 0.5."))])
    power = DecimalField(_l("Power exponent"), default=0.5, places=None, validators=[
        Optional(), NumberRange(0, 1, _l("Enter an exponent between 0 and 1."))])
    minimum = IntegerField(_l("Minimum per stratum"), default=0, validators=[
        Optional(), NumberRange(0, None, _l("Enter 0 or more."))])
    maximum = IntegerField(_l("Maximum per stratum"), validators=[
        Optional(), NumberRange(1, None, _l("Enter 1 or more."))])
    deff = DecimalField(_l("Design effect"), default=1.5, places=None, validators=[
        Optional(), NumberRange(0.1, 20, _l("Enter a design effect between 0.1 and 20."))])
    response_rate = DecimalField(_l("Expected response rate"), default=0.6, places=None, validators=[
        Optional(), NumberRange(0.01, 1, _l("Enter a rate between 0.01 and 1."))])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.method.data == "precision" and self.margin.data is None:
            self.margin.errors.append(_l("Enter the target margin of error."))
            return False
        if self.method.data != "precision" and self.total.data is None:
            self.total.errors.append(_l("Enter the total sample size."))
            return False
        return True
