"""The area's pages, a module per blueprint; importing the package registers every route."""

from survey_app.publication.views import api, compare, maps, open_data, results, targets, what_if

__all__ = ["api", "compare", "maps", "open_data", "results", "targets", "what_if"]
