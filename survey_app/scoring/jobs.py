"""The scoring area's background jobs: a scoring run, which gathers every channel's inputs, computes the index
and, for its page, the rank simulation and the sensitivity run: at national scale longer than a request may
take."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from survey_app.accounts.models import User
from survey_app.core import jobs
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.security import OFFICERS
from survey_app.rounds.operations import get_round
from survey_app.scoring import operations as scoring

RUN = "scoring.run"
#: the steps of a run a progress bar counts, in words
RUN_STEPS = {
    "computing": _l("gathering the inputs and computing the index"),
    "simulating": _l("simulating the ranks"),
    "sensitivity": _l("recomputing under the other methods"),
}


def subject(evaluation_round) -> str:
    return f"round:{evaluation_round.code}"


def start_run(evaluation_round, *, excluded, kept, rules, normalisation, exclusion, note, actor) -> jobs.Job:
    """Ask for a scoring run of the round's inputs as they will stand when a worker takes it; options that
    cannot hold are refused here, at once.

    :raises ServiceError: as ``scoring.check_run_options``
    """
    scoring.check_run_options(
        evaluation_round, excluded=excluded, kept=kept, normalisation=normalisation, exclusion=exclusion
    )
    return jobs.enqueue(
        RUN,
        subject=subject(evaluation_round),
        params={
            "round_code": evaluation_round.code,
            "excluded": list(excluded),
            "kept": list(kept),
            "rules": rules,
            "normalisation": normalisation,
            "exclusion": exclusion,
            "note": note,
        },
        actor=actor,
    )


def _run_page(job: jobs.Job) -> str:
    return url_for("scoring.show_run", run_id=job.result["run_id"])


@jobs.job_kind(RUN, title=_l("Scoring run"), roles=OFFICERS, result_url=_run_page, steps=RUN_STEPS)
def scoring_run(context: jobs.JobContext, *, round_code, excluded, kept, rules, normalisation, exclusion, note):
    evaluation_round = get_round(round_code)
    if evaluation_round is None:
        raise ServiceError("round_gone")
    context.progress(0, 3, "computing")
    made = scoring.run_scoring(
        evaluation_round,
        excluded=excluded,
        kept=kept,
        rules=rules,
        normalisation=normalisation,
        exclusion=exclusion,
        note=note,
        actor=db.session.get(User, context.actor_id) if context.actor_id else None,
    )
    # the run's page shows both: computed once here and kept with the run, so that no page computes them
    context.progress(1, 3, "simulating")
    scoring.uncertainty(made)
    context.progress(2, 3, "sensitivity")
    scoring.store_derived(made)
    return {"run_id": made.id}
