"""Index frameworks (``/frameworks``): uploaded (checked first), shown, exported and frozen."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from questionnaires import FrameworkInvalid, read_workbook, read_yaml, to_workbook, to_yaml
from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.forms import ConfirmForm
from survey_app.core.i18n import current_language, describe_error, describe_issue
from survey_app.core.security import STAFF, allow
from survey_app.frameworks import operations as frameworks
from survey_app.frameworks.blueprint import blueprint
from survey_app.frameworks.forms import FrameworkUploadForm
from survey_app.frameworks.models import FrameworkVersion

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _version_or_404(framework_id: int) -> FrameworkVersion:
    stored = db.session.get(FrameworkVersion, framework_id)
    if stored is None:
        abort(404)
    return stored


@blueprint.get("/")
@allow(*STAFF)
def index():
    return render_template("frameworks/index.html", versions=frameworks.list_versions())


@blueprint.get("/<int:framework_id>")
@allow(*STAFF)
def show(framework_id: int):
    stored = _version_or_404(framework_id)
    return render_template(
        "frameworks/show.html",
        stored=stored,
        framework=frameworks.framework_of(stored),
        language=current_language(),
        confirm=ConfirmForm(),
    )


def _download_name(stored: FrameworkVersion, extension: str) -> str:
    return f"{stored.code}-{stored.year}-v{stored.version}.{extension}"


@blueprint.get("/<int:framework_id>/export.xlsx")
@allow(*STAFF)
def export_xlsx(framework_id: int):
    stored = _version_or_404(framework_id)
    return Response(
        to_workbook(frameworks.framework_of(stored)),
        mimetype=XLSX_TYPE,
        headers={"Content-Disposition": f"attachment; filename={_download_name(stored, 'xlsx')}"},
    )


@blueprint.get("/<int:framework_id>/export.yaml")
@allow(*STAFF)
def export_yaml(framework_id: int):
    stored = _version_or_404(framework_id)
    return Response(
        to_yaml(frameworks.framework_of(stored)),
        mimetype="application/yaml",
        headers={"Content-Disposition": f"attachment; filename={_download_name(stored, 'yaml')}"},
    )


@blueprint.route("/upload", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR, Role.SCORING_OFFICER)
def upload():
    form = FrameworkUploadForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        try:
            if Path(upload.filename or "").suffix.lower() == ".xlsx":
                framework = read_workbook(data)
            else:
                framework = read_yaml(data)
        except FrameworkInvalid as invalid:
            problems = [describe_issue(issue) for issue in invalid.issues]
        else:
            stored, outcome = frameworks.store_framework(framework, actor=g.user)
            messages = {
                frameworks.StoreOutcome.CREATED: _("Framework loaded."),
                frameworks.StoreOutcome.UNCHANGED: _("This framework is already loaded with the same content."),
                frameworks.StoreOutcome.UPDATED: _("Framework updated."),
                frameworks.StoreOutcome.NEW_VERSION: _(
                    "The framework is frozen, so the change was stored as version %(version)s.", version=stored.version
                ),
            }
            flash(messages[outcome], "success")
            return redirect(url_for("frameworks.show", framework_id=stored.id))
    status = 400 if problems or form.errors else 200
    return render_template("frameworks/upload.html", form=form, problems=problems), status


@blueprint.post("/<int:framework_id>/freeze")
@allow(Role.ADMINISTRATOR)
def freeze(framework_id: int):
    stored = _version_or_404(framework_id)
    if ConfirmForm().validate_on_submit():
        try:
            frameworks.freeze(stored, actor=g.user)
        except ServiceError as error:
            flash(describe_error(error), "error")
        else:
            flash(_("Framework frozen: any change will make a new version."), "success")
    return redirect(url_for("frameworks.show", framework_id=stored.id))
