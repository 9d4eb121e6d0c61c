"""The home page, the language switch, and the pages of background jobs (progress, result, cancel)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from survey_app.audit import operations as audit
from survey_app.core import jobs
from survey_app.core.blueprint import blueprint
from survey_app.core.errors import or_404
from survey_app.core.extensions import db
from survey_app.core.forms import ConfirmForm
from survey_app.core.i18n import LANGUAGE_KEY, remember_language
from survey_app.core.security import STAFF, allow, public, safe_next
from survey_app.frameworks.models import FrameworkVersion
from survey_app.rounds.models import EvaluationRound
from survey_app.units.models import UnitList


@blueprint.get("/")
@public
def home():
    if g.user is not None:
        # a unit's account has its reporting for a home; staff their overview
        return redirect(url_for("reporting.home" if g.user.is_unit_account else "main.dashboard"))
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
    remember_language(code)
    return redirect(_without_language(safe_next(request.args.get("next"), url_for("main.home"))))


def _without_language(target: str) -> str:
    """The page to go back to, without a ``?lang=`` of its own that would switch the language back."""
    parts = urlsplit(target)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != LANGUAGE_KEY]
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- background jobs ---------------------------------------------------------------------------------------


def _followed_job(job_id: int) -> jobs.Job:
    """A job the current staff member may follow; others' jobs are not found, as if they did not exist."""
    job = or_404(db.session.get(jobs.Job, job_id))
    if not jobs.may_follow(job, g.user):
        abort(404)
    return job


@blueprint.get("/jobs")
@allow(*STAFF)
def job_list():
    query = select(jobs.Job).order_by(jobs.Job.id.desc()).limit(100)
    followed = [job for job in db.session.scalars(query) if jobs.may_follow(job, g.user)]
    return render_template("main/jobs.html", jobs=followed, kinds=jobs.KINDS)


@blueprint.get("/jobs/<int:job_id>")
@allow(*STAFF)
def job_page(job_id: int):
    job = _followed_job(job_id)
    queue = jobs.queue()
    if queue.embedded and not job.finished:
        queue.start_embedded_worker()  # a `make run` restarted since the job was asked for picks it up
    kind = jobs.KINDS.get(job.kind)
    result_url = kind.result_url(job) if kind and kind.result_url and job.state == jobs.JobState.DONE else None
    return render_template(
        "main/job.html",
        job=job,
        kind=kind,
        failure=jobs.describe_failure(job),
        step=jobs.step_name(job),
        result_url=result_url,
        form=ConfirmForm(),
    )


@blueprint.post("/jobs/<int:job_id>/cancel")
@allow(*STAFF)
def cancel_job(job_id: int):
    job = _followed_job(job_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if not job.finished:
        jobs.cancel(job)
        audit.record("jobs.cancel_requested", actor=g.user, entity=job, new={"kind": job.kind})
        flash(_("Cancelling: the job stops at its next step."))
    return redirect(url_for("main.job_page", job_id=job.id))
