"""The URL space of the publication area: its blueprints, their prefixes and templates."""

from flask import Blueprint

from survey_app.core.extensions import csrf

results = Blueprint("results", __name__, url_prefix="/results", template_folder="templates")
targets = Blueprint("targets", __name__, url_prefix="/targets", template_folder="templates")
results_api = Blueprint("results_api", __name__, url_prefix="/api")
csrf.exempt(results_api)

BLUEPRINTS = (
    results_api,
    results,
    targets,
)
