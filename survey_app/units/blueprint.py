"""The URL space of the units area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("units", __name__, url_prefix="/units", template_folder="templates")

BLUEPRINTS = (blueprint,)
