from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.forms.rounds import RoundForm
from survey_app.i18n import current_language, describe_error
from survey_app.models import EvaluationRound, FrameworkVersion, Role, UnitList
from survey_app.security import STAFF, allow
from survey_app.services import ServiceError, frameworks, rounds

blueprint = Blueprint("rounds", __name__, url_prefix="/rounds")


def round_or_404(round_code: str) -> EvaluationRound:
    """The round an address names; any other is not found."""
    found = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == round_code))
    if found is None:
        abort(404)
    return found


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
