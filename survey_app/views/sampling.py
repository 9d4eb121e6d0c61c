from flask import Blueprint, Response, render_template, request

from questionnaires.exports import to_csv
from sampling import SamplingError
from survey_app.forms.sampling import SamplePlanForm
from survey_app.i18n import describe_sampling_error
from survey_app.models import Role
from survey_app.security import allow
from survey_app.services.sampling import sample_plan

blueprint = Blueprint("sampling", __name__, url_prefix="/sampling")


@blueprint.route("/plan", methods=["GET", "POST"])
@allow(Role.ADMINISTRATOR, Role.SAMPLE_DESIGNER)
def plan():
    form = SamplePlanForm()
    table, problem = None, None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            table = sample_plan(
                upload.read(), upload.filename or "frame.csv",
                [column.strip() for column in form.strata.data.split(",") if column.strip()],
                form.count.data.strip(), form.method.data, total=form.total.data,
                margin=float(form.margin.data) if form.margin.data is not None else None,
                power=float(form.power.data if form.power.data is not None else 0.5),
                minimum=form.minimum.data or 0, maximum=form.maximum.data,
                deff=float(form.deff.data or 1), response_rate=float(form.response_rate.data or 1))
        except SamplingError as error:
            problem = describe_sampling_error(error)
    if table is not None and request.form.get("action") == "download":
        return _csv(table)
    status = 400 if problem or form.errors else 200
    return render_template("sampling/plan.html", form=form, table=table, problem=problem), status


def _csv(table) -> Response:
    return Response(to_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sample-plan.csv"})

