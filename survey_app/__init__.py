"""The Flask service: one package per area over the core (``survey_app.core``)."""

from survey_app.core.app import create_app

__all__ = ["create_app"]
