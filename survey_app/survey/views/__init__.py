"""The area's pages, a module per blueprint; importing the package registers every route."""

from survey_app.survey.views import api, fieldwork, questionnaires, respond

__all__ = ["api", "fieldwork", "questionnaires", "respond"]
