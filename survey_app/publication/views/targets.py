"""Strategic targets (``/targets``): the indicators of Decision 483 with their baseline and yearly targets as
written, the quarterly values staff enter (official, or a provisional estimate), and the progress of a year."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.i18n import current_language, describe_error
from survey_app.core.security import OFFICERS, STAFF, allow
from survey_app.publication import targets
from survey_app.publication.blueprint import targets as blueprint
from survey_app.publication.forms import IndicatorValueForm


def _year() -> int:
    """The year asked for, else the latest with targets or values (the clock's year is empty until reported)."""
    year = request.args.get("year", type=int)
    if year in targets.YEARS:
        return year
    latest = targets.latest_year()
    return latest if latest in targets.YEARS else date.today().year


def _form(year: int) -> IndicatorValueForm:
    form = IndicatorValueForm()
    language = current_language()
    form.indicator.choices = [
        (row.code, f"{row.code} · {targets.indicator_name(row, language)[:90]}") for row in targets.indicators()
    ]
    if request.method == "GET":
        form.year.data = year
    return form


def _page(year: int, form: IndicatorValueForm):
    return render_template(
        "targets/index.html",
        year=year,
        progress=targets.year_progress(year),
        form=form,
        deadline=targets.next_deadline(date.today()),
    )


@blueprint.get("/")
@allow(*STAFF)
def index():
    year = _year()
    return _page(year, _form(year))


@blueprint.post("/values")
@allow(*OFFICERS)
def report_value():
    form = _form(date.today().year)
    if not form.validate_on_submit():
        flash(_("The form has errors."), "error")
        return _page(_year(), form), 400
    indicator = targets.indicator(form.indicator.data)
    if indicator is None:
        abort(404)
    try:
        targets.report_value(
            indicator,
            form.year.data,
            int(form.quarter.data),
            form.value.data,
            note=form.note.data or "",
            provisional=form.provisional.data,
            actor=g.user,
        )
    except ServiceError as error:
        flash(describe_error(error), "error")
        return redirect(url_for("targets.index", year=form.year.data))
    flash(
        _(
            "Value of %(code)s for quarter %(quarter)s/%(year)s stored.",
            code=indicator.code,
            quarter=form.quarter.data,
            year=form.year.data,
        ),
        "success",
    )
    return redirect(url_for("targets.index", year=form.year.data))


@blueprint.post("/load")
@allow(Role.ADMINISTRATOR)
def load():
    before = len(targets.indicators())
    after = len(targets.load_shipped_indicators(actor=g.user))
    flash(_("%(count)s indicators of Decision 483 added.", count=after - before), "success")
    return redirect(url_for("targets.index"))
