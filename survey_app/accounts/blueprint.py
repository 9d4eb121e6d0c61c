"""The URL space of the accounts area: its blueprints, their prefixes and templates."""

from flask import Blueprint

auth = Blueprint("auth", __name__, template_folder="templates")
users = Blueprint("users", __name__, url_prefix="/users", template_folder="templates")
unit_accounts = Blueprint("unit_accounts", __name__, url_prefix="/unit-accounts", template_folder="templates")

BLUEPRINTS = (
    auth,
    users,
    unit_accounts,
)
