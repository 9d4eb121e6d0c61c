from flask import Blueprint, abort, render_template
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import UnitList
from survey_app.security import STAFF, allow

blueprint = Blueprint("units", __name__, url_prefix="/units")


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
