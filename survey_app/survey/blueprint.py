"""The URL space of the survey area: its blueprints, their prefixes and templates."""

from flask import Blueprint

from survey_app.core.extensions import csrf

questionnaires = Blueprint("questionnaires", __name__, url_prefix="/questionnaires", template_folder="templates")
fieldwork = Blueprint("fieldwork", __name__, url_prefix="/fieldwork", template_folder="templates")
api_keys = Blueprint("api_keys", __name__, url_prefix="/api-keys", template_folder="templates")
respond = Blueprint("respond", __name__, template_folder="templates")
api = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(api)

BLUEPRINTS = (
    questionnaires,
    fieldwork,
    api_keys,
    respond,
    api,
)
