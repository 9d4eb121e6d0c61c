"""The area's pages, a module per blueprint; importing the package registers every route."""

from survey_app.experts.views import expert, staff

__all__ = ["expert", "staff"]
