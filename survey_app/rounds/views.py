"""Evaluation rounds (``/rounds``): a year's evaluation of a unit list on a framework version."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, describe_error
from survey_app.core.security import STAFF, allow
from survey_app.frameworks import operations as frameworks
from survey_app.frameworks.models import FrameworkVersion
from survey_app.rounds import operations as rounds
from survey_app.rounds.blueprint import blueprint
from survey_app.rounds.forms import RoundForm
from survey_app.units.models import UnitList


@blueprint.get("/")
@allow(*STAFF)
def index():
    return render_template("rounds/index.html", rounds=rounds.list_rounds(), language=current_language())


@blueprint.route("/new", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR, Role.SCORING_OFFICER)
def create():
    form = RoundForm()
    language = current_language()
    form.framework_id.choices = [(v.id, f"{v.name(language)} — v{v.version}") for v in frameworks.list_versions()]
    unit_lists = db.session.scalars(select(UnitList).order_by(UnitList.level, UnitList.code))
    form.unit_list_id.choices = [(u.id, u.name(language)) for u in unit_lists]
    if form.validate_on_submit():
        try:
            evaluation = rounds.create_round(
                form.code.data,
                form.year.data,
                form.name_vi.data,
                form.name_en.data or "",
                db.session.get(FrameworkVersion, form.framework_id.data),
                db.session.get(UnitList, form.unit_list_id.data),
                actor=g.user,
            )
        except ServiceError as error:
            flash(describe_error(error), "error")
        else:
            flash(_("Round %(code)s created.", code=evaluation.code), "success")
            return redirect(url_for("rounds.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("rounds/new.html", form=form), status
