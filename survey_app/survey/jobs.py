"""The survey area's background jobs: an export of a fieldwork's responses too large to send while a request
waits (above ``EXPORT_INLINE_MAX_ROWS`` responses) is written to a file kept in the database, which the job's
page then links to."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from survey_app.core import jobs
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.survey import operations as collection

EXPORT = "survey.export"
#: responses above which an export is written by a job rather than sent while the request waits
DEFAULT_INLINE_MAX_ROWS = 50_000
#: days an export file is kept
DEFAULT_FILE_DAYS = 7


def inline_max_rows() -> int:
    return int(current_app.config.get("EXPORT_INLINE_MAX_ROWS", DEFAULT_INLINE_MAX_ROWS))


def subject(fieldwork) -> str:
    return f"fieldwork:{fieldwork.code}"


def start_export(fieldwork, fmt: str, language: str, *, actor) -> jobs.Job:
    """Ask for the export as a job, in the caller's transaction; the same export asked for again by the same
    person while their job is still queued or running is that job (the file is written once)."""
    params = {"fieldwork": fieldwork.code, "fmt": fmt, "language": language}
    waiting = db.session.scalars(
        select(jobs.Job).where(
            jobs.Job.subject == subject(fieldwork),
            jobs.Job.kind == EXPORT,
            jobs.Job.created_by_id == actor.id,
            jobs.Job.state.in_((jobs.JobState.QUEUED, jobs.JobState.RUNNING)),
        )
    )
    for job in waiting:
        if job.params == params:
            return job
    return jobs.enqueue(EXPORT, subject=subject(fieldwork), params=params, actor=actor)


def _file_url(job: jobs.Job) -> str:
    return url_for("fieldwork.export_file", fieldwork_code=job.params["fieldwork"], file_id=job.result["file_id"])


@jobs.job_kind(
    EXPORT,
    title=_l("Export of the responses"),
    # every response's answers: the file is for whoever asked for it (and administrators), not for every
    # analyst who might open the job's page
    roles=(),
    result_url=_file_url,
    steps={"export_reading": _l("reading and writing the responses")},
)
def export(context: jobs.JobContext, *, fieldwork: str, fmt: str, language: str) -> dict:
    found = collection.get_fieldwork(fieldwork)
    if found is None:
        raise ServiceError("fieldwork_gone")
    stored = collection.store_export(
        found,
        fmt,
        language,
        job_id=context.job_id,
        days=float(current_app.config.get("EXPORT_FILE_DAYS", DEFAULT_FILE_DAYS)),
        progress=lambda done, total: context.progress(done, total, "export_reading"),
    )
    return {"file_id": stored.id, "rows": stored.rows, "size": stored.size}
