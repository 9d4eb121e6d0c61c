"""The forms of sample design and weighting: frames, sizes, allocation, selection and weights."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from survey_app.core.forms import Form


class SamplePlanForm(Form):
    file = FileField(
        _l("Population frame (CSV or Excel)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(("csv", "xlsx"), _l("Only .csv or .xlsx files are accepted.")),
        ],
    )
    # the defaults are the columns of the shipped frame (survey_app/demo/population-citizens-2023.csv: unit, urban,
    # sex, age, population): province × urban/rural strata, its rows by sex and age added up
    strata = StringField(
        _l("Stratum columns"),
        default="unit, urban",
        validators=[DataRequired(_l("Name at least one column.")), Length(max=300)],
    )
    count = StringField(
        _l("Population count column"),
        default="population",
        validators=[DataRequired(_l("Name the column.")), Length(max=100)],
    )
    method = SelectField(
        _l("Allocation"),
        choices=[
            SelectChoice("power", _l("Power allocation")),
            SelectChoice("proportional", _l("Proportional")),
            SelectChoice("neyman", _l("Neyman allocation")),
            SelectChoice("equal", _l("Equal")),
            SelectChoice("precision", _l("Same margin of error in every stratum")),
        ],
        default="power",
    )
    total = IntegerField(
        _l("Total sample size"),
        default=3000,
        validators=[Optional(), NumberRange(1, 10_000_000, _l("Enter a whole number of at least 1."))],
    )
    margin = DecimalField(
        _l("Target margin of error (e.g. 0.05)"),
        places=None,
        validators=[Optional(), NumberRange(0.001, 0.5, _l("Enter a margin between 0.001 and 0.5."))],
    )
    power = DecimalField(
        _l("Power exponent"),
        default=0.5,
        places=None,
        validators=[Optional(), NumberRange(0, 1, _l("Enter an exponent between 0 and 1."))],
    )
    minimum = IntegerField(
        _l("Minimum per stratum"), default=0, validators=[Optional(), NumberRange(0, None, _l("Enter 0 or more."))]
    )
    maximum = IntegerField(
        _l("Maximum per stratum"), validators=[Optional(), NumberRange(1, None, _l("Enter 1 or more."))]
    )
    sd_column = StringField(
        _l("Column of each stratum's standard deviation or expected proportion (Neyman)"),
        validators=[Optional(), Length(max=100)],
    )
    sd_kind = SelectField(
        _l("The column holds"),
        choices=[
            SelectChoice("proportion", _l("Expected proportions (between 0 and 1)")),
            SelectChoice("sd", _l("Standard deviations")),
        ],
        default="proportion",
    )
    deff = DecimalField(
        _l("Design effect"),
        default=1.5,
        places=None,
        validators=[Optional(), NumberRange(0.1, 20, _l("Enter a design effect between 0.1 and 20."))],
    )
    response_rate = DecimalField(
        _l("Expected response rate"),
        default=0.6,
        places=None,
        validators=[Optional(), NumberRange(0.01, 1, _l("Enter a rate between 0.01 and 1."))],
    )
    unit = StringField(
        _l("Unit column (for the margin of error per unit)"), default="unit", validators=[Optional(), Length(max=100)]
    )
    name = StringField(_l("Name of the plan (to save it)"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.method.data == "precision" and self.margin.data is None:
            self.margin.errors.append(_l("Enter the target margin of error."))
            return False
        if self.method.data != "precision" and self.total.data is None:
            self.total.errors.append(_l("Enter the total sample size."))
            return False
        strata = split_columns(self.strata.data)
        if len(set(strata)) < len(strata):
            self.strata.errors.append(_l("Name each column once."))
            return False
        if self.count.data.strip() in strata:
            self.count.errors.append(_l("The population count column cannot also be a stratum column."))
            return False
        if self.unit.data and self.unit.data.strip() not in strata:
            self.unit.errors.append(_l("The unit column must be one of the stratum columns."))
            return False
        sd_column = (self.sd_column.data or "").strip()
        if self.method.data == "neyman" and not sd_column:
            self.sd_column.errors.append(
                _l("Neyman allocation needs the column of each stratum's standard deviation or expected proportion.")
            )
            return False
        if sd_column and sd_column in strata + [self.count.data.strip()]:
            self.sd_column.errors.append(_l("Name a column other than the stratum and population columns."))
            return False
        return True


def split_columns(text: str) -> list[str]:
    return [column.strip() for column in (text or "").split(",") if column.strip()]


class DrawForm(Form):
    file = FileField(
        _l("List frame (CSV or Excel)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(("csv", "xlsx"), _l("Only .csv or .xlsx files are accepted.")),
        ],
    )
    plan_id = SelectField(_l("Sample plan"), coerce=int, validators=[DataRequired(_l("Choose a saved plan."))])
    unit = StringField(
        _l("Column of the unit code"),
        default="unit",
        validators=[DataRequired(_l("Name the column.")), Length(max=100)],
    )
    method = SelectField(
        _l("Selection"),
        choices=[
            SelectChoice("srs", _l("Simple random sampling")),
            SelectChoice("systematic", _l("Systematic sampling")),
            SelectChoice("pps_systematic", _l("Systematic, probability proportional to size")),
        ],
        default="srs",
    )
    size = StringField(
        _l("Size column (for probability proportional to size)"), validators=[Optional(), Length(max=100)]
    )
    seed = IntegerField(
        _l("Random seed"),
        default=2023,
        validators=[DataRequired(_l("Enter a whole number.")), NumberRange(0, 2**31 - 1, _l("Enter a whole number."))],
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.method.data == "pps_systematic" and not (self.size.data or "").strip():
            self.size.errors.append(_l("Name the column of the size measure."))
            return False
        return True


class WeightingForm(Form):
    file = FileField(
        _l("Population (CSV or Excel)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(("csv", "xlsx"), _l("Only .csv or .xlsx files are accepted.")),
        ],
    )
    margins = SelectMultipleField(_l("Margins"), validators=[Optional()])
    method = SelectField(
        _l("Method"),
        choices=[
            SelectChoice("rake", _l("Raking to each margin within the unit")),
            SelectChoice("poststratify", _l("Post-stratification to the margins crossed within the unit")),
        ],
        default="rake",
    )
    count = StringField(
        _l("Population count column"),
        default="population",
        validators=[DataRequired(_l("Name the column.")), Length(max=100)],
    )
    lower = DecimalField(
        _l("Lowest weight (times the unit's mean)"),
        places=None,
        validators=[Optional(), NumberRange(0, 1, _l("Enter a bound between 0 and 1."))],
    )
    upper = DecimalField(
        _l("Highest weight (times the unit's mean)"),
        places=None,
        validators=[Optional(), NumberRange(1, 100, _l("Enter a bound between 1 and 100."))],
    )
