"""The URL space of the accounts area: its blueprints, their prefixes and templates."""

from flask import Blueprint

auth = Blueprint("auth", __name__, template_folder="templates")
users = Blueprint("users", __name__, url_prefix="/users", template_folder="templates")

BLUEPRINTS = (
    auth,
    users,
)
