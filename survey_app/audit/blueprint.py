"""The URL space of the audit area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

BLUEPRINTS = (blueprint,)
