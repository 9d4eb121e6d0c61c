"""The URL space of the reporting area: the units' reporting forms and the officers' view of a round's reporting."""

from flask import Blueprint

reporting = Blueprint("reporting", __name__, url_prefix="/reporting", template_folder="templates")

BLUEPRINTS = (reporting,)
