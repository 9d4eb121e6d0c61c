"""The URL space of the frameworks area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("frameworks", __name__, url_prefix="/frameworks", template_folder="templates")

BLUEPRINTS = (blueprint,)
