"""The URL space of the privacy area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("privacy", __name__, url_prefix="/privacy", template_folder="templates")

BLUEPRINTS = (blueprint,)
