"""The JSON API. Errors under /api/ answer in JSON (see errors.py)."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from survey_app.extensions import db
from survey_app.security import public

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.get("/health")
@public
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
