"""The URL space of the sampling area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("sampling", __name__, url_prefix="/sampling", template_folder="templates")
weighting = Blueprint("weighting", __name__, url_prefix="/fieldwork", template_folder="templates")

BLUEPRINTS = (
    blueprint,
    weighting,
)
