"""The area's pages, a module per blueprint; importing the package registers every route."""

from survey_app.publication.views import api, results, targets

__all__ = ["api", "results", "targets"]
