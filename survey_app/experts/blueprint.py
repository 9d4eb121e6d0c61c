"""The URL space of the experts area: its blueprints, their prefixes and templates."""

from flask import Blueprint

staff = Blueprint("experts", __name__, url_prefix="/experts", template_folder="templates")
expert_side = Blueprint("expert", __name__, template_folder="templates")

BLUEPRINTS = (
    staff,
    expert_side,
)
