"""The URL space of the rounds area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("rounds", __name__, url_prefix="/rounds", template_folder="templates")

BLUEPRINTS = (blueprint,)
