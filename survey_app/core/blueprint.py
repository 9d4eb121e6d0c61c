"""The URL space of the core area: its blueprints, their prefixes and templates."""

from flask import Blueprint

blueprint = Blueprint("main", __name__)

BLUEPRINTS = (blueprint,)
