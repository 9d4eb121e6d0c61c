"""Strategic targets (``/targets``): the indicators of Decision 483 with their baseline and yearly targets, the
quarterly values staff enter, and the progress of a year."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey_app.extensions import db
from survey_app.forms.scoring import IndicatorValueForm
from survey_app.i18n import describe_error
from survey_app.models import Role, StrategicIndicator
from survey_app.security import STAFF, allow
from survey_app.services import ServiceError, targets

blueprint = Blueprint("targets", __name__, url_prefix="/targets")
OFFICERS = (Role.ADMINISTRATOR, Role.SCORING_OFFICER)


def _year() -> int:
    year = request.args.get("year", type=int) or date.today().year
    return year if year in targets.YEARS else date.today().year


def _form(year: int) -> IndicatorValueForm:
    form = IndicatorValueForm()
    form.indicator.choices = [(row.code, f"{row.code} · {row.name_vi[:90]}") for row in targets.indicators()]
    if request.method == "GET":
        form.year.data = year
    return form


@blueprint.get("/")
@allow(*STAFF)
def index():
    year = _year()
    return render_template("targets/index.html", year=year, progress=targets.year_progress(year), form=_form(year),
                           deadline=targets.next_deadline(date.today()))


@blueprint.post("/values")
@allow(*OFFICERS)
def report_value():
    form = _form(date.today().year)
    if not form.validate_on_submit():
        flash(_("The form has errors."), "error")
        return render_template("targets/index.html", year=form.year.data or date.today().year,
                               progress=targets.year_progress(_year()), form=form,
                               deadline=targets.next_deadline(date.today())), 400
    indicator = db.session.scalar(db.select(StrategicIndicator).where(StrategicIndicator.code == form.indicator.data))
    if indicator is None:
        abort(404)
    try:
        targets.report_value(indicator, form.year.data, int(form.quarter.data), form.value.data,
                             note=form.note.data or "", actor=g.user)
    except ServiceError as error:
        db.session.rollback()
        flash(describe_error(error), "error")
        return redirect(url_for("targets.index", year=form.year.data))
    db.session.commit()
    flash(_("Value of %(code)s for quarter %(quarter)s/%(year)s stored.", code=indicator.code,
            quarter=form.quarter.data, year=form.year.data), "success")
    return redirect(url_for("targets.index", year=form.year.data))


@blueprint.post("/load")
@allow(Role.ADMINISTRATOR)
def load():
    before = len(targets.indicators())
    after = len(targets.load_shipped_indicators(actor=g.user))
    db.session.commit()
    flash(_("%(count)s indicators of Decision 483 added.", count=after - before), "success")
    return redirect(url_for("targets.index"))
