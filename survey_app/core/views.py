"""The home page and the language switch."""

from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from survey_app.core.blueprint import blueprint
from survey_app.core.extensions import db
from survey_app.core.i18n import LANGUAGE_KEY
from survey_app.core.security import STAFF, allow, public, safe_next
from survey_app.frameworks.models import FrameworkVersion
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import UnitList


@blueprint.get("/")
@public
def home():
    if g.user is not None:
        return redirect(url_for("main.dashboard"))
    return render_template("main/home.html")


@blueprint.get("/dashboard")
@allow(*STAFF)
def dashboard():
    counts = {
        "frameworks": db.session.scalar(select(func.count(FrameworkVersion.id))),
        "unit_lists": db.session.scalar(select(func.count(UnitList.id))),
        "rounds": db.session.scalar(select(func.count(EvaluationRound.id))),
    }
    return render_template("main/dashboard.html", counts=counts)


@blueprint.get("/language/<code>")
@public
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session[LANGUAGE_KEY] = code
    return redirect(safe_next(request.args.get("next"), url_for("main.home")))
