"""The URL space of the publication area: its blueprints, their prefixes and templates."""

from flask import Blueprint

from survey_app.core.extensions import csrf
from survey_app.core.http_cache import cache_published, share_pages

results = Blueprint("results", __name__, url_prefix="/results", template_folder="templates")
targets = Blueprint("targets", __name__, url_prefix="/targets", template_folder="templates")
results_api = Blueprint("results_api", __name__, url_prefix="/api")
csrf.exempt(results_api)
# a published run's files and JSON carry an ETag and may be cached (core.http_cache)
results.after_request(cache_published)
results_api.after_request(cache_published)
# the public pages of published results, with no form that posts: the same for every visitor without a session
# in a language, so nginx may keep them on publication day (a page with a form that posts must not be listed)
share_pages(
    results, "index", "ranking", "scorecard", "methodology", "map", "compare", "series", "what_if", "open_data_page"
)

BLUEPRINTS = (
    results_api,
    results,
    targets,
)
