"""The unit lists (``/units``): the units each round evaluates, as shipped and loaded, and lists an administrator
creates from a table (a province's departments, districts, communes)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, describe_refusal, label
from survey_app.core.security import STAFF, allow
from survey_app.units import operations as units
from survey_app.units.blueprint import blueprint
from survey_app.units.forms import UnitListForm
from survey_app.units.models import UnitList


@blueprint.get("/")
@allow(*STAFF)
def index():
    unit_lists = db.session.scalars(select(UnitList).order_by(UnitList.level, UnitList.first_year))
    return render_template("units/index.html", unit_lists=list(unit_lists))


def _form() -> UnitListForm:
    form = UnitListForm()
    form.level.choices = [(level, label(level)) for level in units.LEVELS]
    language = current_language()
    lists = [(0, "—")] + [
        (unit_list.id, unit_list.name(language))
        for unit_list in db.session.scalars(select(UnitList).order_by(UnitList.level, UnitList.code))
    ]
    form.parent_list.choices = form.predecessor_list.choices = lists
    return form


@blueprint.route("/new", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR)
def new():
    form = _form()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            created = units.import_unit_list(
                form.code.data,
                form.name_vi.data,
                form.name_en.data or "",
                form.level.data,
                upload.read(),
                upload.filename or "",
                first_year=form.first_year.data,
                last_year=form.last_year.data,
                source=form.source.data or "",
                parent_list=db.session.get(UnitList, form.parent_list.data) if form.parent_list.data else None,
                predecessor_list=(
                    db.session.get(UnitList, form.predecessor_list.data) if form.predecessor_list.data else None
                ),
                actor=g.user,
            )
        except ServiceError as error:
            problems = describe_refusal(error)
        else:
            flash(_("Unit list created with %(count)s units.", count=len(created.units)), "success")
            return redirect(url_for("units.show", code=created.code))
    status = 400 if problems or form.errors else 200
    return render_template("units/new.html", form=form, problems=problems), status


@blueprint.get("/<code>")
@allow(*STAFF)
def show(code: str):
    unit_list = db.session.scalar(select(UnitList).where(UnitList.code == code))
    if unit_list is None:
        abort(404)
    return render_template("units/show.html", unit_list=unit_list)
