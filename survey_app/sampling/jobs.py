"""The sampling area's background jobs: a weighting run, which at national scale (a million responses) takes
longer than a request may."""

from __future__ import annotations

import base64

from flask import url_for
from flask_babel import lazy_gettext as _l

from survey_app.accounts.models import User
from survey_app.core import jobs
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.security import ANALYSTS
from survey_app.sampling import operations as sampling_service
from survey_app.survey import operations as collection

WEIGHTING = "sampling.weighting"


def subject(fieldwork) -> str:
    return f"fieldwork:{fieldwork.code}"


def start_weighting(fieldwork, data: bytes, filename: str, *, margins, method, count, lower, upper, actor) -> jobs.Job:
    """Check what can be refused at once (margins, method, the population file), then ask for the run as a job.

    :raises sampling.SamplingError, ServiceError: as ``check_weighting_request``
    """
    sampling_service.check_weighting_request(fieldwork, data, filename, margins=margins, method=method, count=count)
    return jobs.enqueue(
        WEIGHTING,
        subject=subject(fieldwork),
        params={
            "fieldwork": fieldwork.code,
            # the population file travels with the job (it is small: a row per unit and cell)
            "population": base64.b64encode(data).decode("ascii"),
            "filename": filename,
            "margins": list(margins),
            "method": method,
            "count": count,
            "lower": lower,
            "upper": upper,
        },
        actor=actor,
    )


def _run_page(job: jobs.Job) -> str:
    return url_for("weighting.show_run", fieldwork_code=job.params["fieldwork"], run_id=job.result["run_id"])


@jobs.job_kind(WEIGHTING, title=_l("Weighting run"), roles=ANALYSTS, result_url=_run_page)
def weighting(context: jobs.JobContext, *, fieldwork, population, filename, margins, method, count, lower, upper):
    found = collection.get_fieldwork(fieldwork)
    if found is None:
        raise ServiceError("fieldwork_gone")
    actor = db.session.get(User, context.actor_id) if context.actor_id else None
    run = sampling_service.run_weighting(
        found,
        base64.b64decode(population),
        filename,
        margins=margins,
        method=method,
        count=count,
        lower=lower,
        upper=upper,
        actor=actor,
        progress=context.progress,
    )
    return {"run_id": run.id}
