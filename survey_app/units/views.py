"""The unit lists (``/units``): the ministries and provinces each round evaluates, as shipped and loaded."""

from __future__ import annotations

from flask import abort, render_template
from sqlalchemy import select

from survey_app.core.extensions import db
from survey_app.core.security import STAFF, allow
from survey_app.units.blueprint import blueprint
from survey_app.units.models import UnitList


@blueprint.get("/")
@allow(*STAFF)
def index():
    unit_lists = db.session.scalars(select(UnitList).order_by(UnitList.level, UnitList.first_year))
    return render_template("units/index.html", unit_lists=list(unit_lists))


@blueprint.get("/<code>")
@allow(*STAFF)
def show(code: str):
    unit_list = db.session.scalar(select(UnitList).where(UnitList.code == code))
    if unit_list is None:
        abort(404)
    return render_template("units/show.html", unit_list=unit_list)
