"""The URL space of the scoring area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("scoring", __name__, url_prefix="/scoring", template_folder="templates")

BLUEPRINTS = (blueprint,)
