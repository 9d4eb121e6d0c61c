"""Published questionnaires: generate from a framework and a question bank, read, print, export as XLSForm."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from questionnaires import FrameworkInvalid, RespondentGroup, read_bank, to_xlsform
from questionnaires.xlsform import form_id
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import current_language, describe_error, describe_issue, label
from survey_app.core.security import DESIGNERS, STAFF, allow
from survey_app.frameworks import operations as frameworks
from survey_app.frameworks.models import FrameworkVersion
from survey_app.survey import operations as collection
from survey_app.survey.blueprint import questionnaires as blueprint
from survey_app.survey.forms import PublishQuestionnaireForm
from survey_app.survey.models import PublishedQuestionnaire


@blueprint.get("/")
@allow(*STAFF)
def index():
    return render_template("questionnaires/index.html", questionnaires=collection.list_questionnaires())


@blueprint.route("/publish", methods=["GET", "POST"])
@allow(*DESIGNERS)
def publish():
    form = PublishQuestionnaireForm()
    language = current_language()
    form.framework_id.choices = [(v.id, f"{v.name(language)} — v{v.version}") for v in frameworks.list_versions()]
    form.group.choices = [(str(group), label(str(group))) for group in RespondentGroup]
    problems = []
    if form.validate_on_submit():
        try:
            bank = read_bank(form.bank.data.read().decode("utf-8"))
            snapshot, new = collection.publish_questionnaire(
                db.get_or_404(FrameworkVersion, form.framework_id.data),
                RespondentGroup(form.group.data),
                bank,
                code=form.code.data,
                name_vi=form.name_vi.data,
                name_en=form.name_en.data or "",
                actor=g.user,
            )
        except UnicodeDecodeError:
            problems = [_("The file cannot be read as %(kind)s.", kind="YAML (UTF-8)")]
        except FrameworkInvalid as error:
            problems = [describe_issue(issue) for issue in error.issues]
        except ServiceError as error:
            problems = [describe_error(error)]
        else:
            flash(
                _("Questionnaire %(code)s version %(version)s published.", code=snapshot.code, version=snapshot.version)
                if new
                else _("Nothing changed: version %(version)s already has this content.", version=snapshot.version),
                "success",
            )
            return redirect(url_for("questionnaires.show", questionnaire_id=snapshot.id))
    status = 400 if form.is_submitted() else 200
    return render_template("questionnaires/publish.html", form=form, problems=problems), status


def _snapshot(questionnaire_id: int) -> PublishedQuestionnaire:
    return db.get_or_404(PublishedQuestionnaire, questionnaire_id)


@blueprint.get("/<int:questionnaire_id>")
@allow(*STAFF)
def show(questionnaire_id: int):
    """The questionnaire as a printable document, for paper and telephone interviews."""
    snapshot = _snapshot(questionnaire_id)
    return render_template("questionnaires/show.html", snapshot=snapshot, questionnaire=snapshot.questionnaire)


@blueprint.get("/<int:questionnaire_id>/xlsform")
@allow(*STAFF)
def xlsform(questionnaire_id: int):
    snapshot = _snapshot(questionnaire_id)
    if snapshot.for_experts or not snapshot.questionnaire.questions():
        abort(404)
    return Response(
        to_xlsform(snapshot.questionnaire),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f"attachment; filename={form_id(snapshot.questionnaire)}-v{snapshot.version}.xlsx"
        },
    )
