"""The what-if page of the public results site (``/results/<round>/what-if``): a visitor moves the main indices'
weights and the channels' shares within stated bounds, with a plain form (no script), and sees the ranking
recomputed from the published run, clearly marked as unofficial."""

from __future__ import annotations

from flask import abort, current_app, render_template, request

from analysis import EstimationError
from survey_app.core.extensions import limiter
from survey_app.core.i18n import current_language, describe_sampling_error
from survey_app.core.security import public
from survey_app.publication import methodology as method
from survey_app.publication import what_if as service
from survey_app.publication.blueprint import results as blueprint
from survey_app.publication.views.results import limited, published

#: each what-if not yet cached recomputes a ranking: a tighter limit than the other public pages', unless the
#: configuration sets one
WHAT_IF_RATE_LIMIT = "60 per minute"


def what_if_limit() -> str:
    return current_app.config.get("WHAT_IF_RATE_LIMIT", WHAT_IF_RATE_LIMIT)


@blueprint.get("/<round_code>/what-if")
@public
@limited
@limiter.limit(what_if_limit)
def what_if(round_code: str):
    evaluation_round, run = published(round_code)
    if evaluation_round.level == method.NATIONAL:
        abort(404)  # one unit: there is no ranking to move
    found = service.model(run)
    choice = service.read_choice(found, request.args)
    rows = None
    if not choice.refusals:
        try:
            rows = service.cached_ranking(run, found, choice)
        except EstimationError as error:  # the domain's own check of the bounds the form was read against
            choice.refusals.append(service.Refusal("", "refused", {"message": describe_sampling_error(error)}))
    page = render_template(
        "results/what_if.html",
        evaluation_round=evaluation_round,
        run=run,
        choice=choice,
        names=service.names(found, current_language()),
        weight_bounds=service.weight_bounds(found),
        share_bounds=service.share_bounds(found.framework),
        official_weights=service.adjustable_weights(found),
        official_shares=found.framework.channel_shares,
        channels=service.CHANNELS,
        weight_field=service.weight_field,
        share_field=service.share_field,
        rows=rows,
    )
    return page, 400 if choice.refusals else 200
