"""The area's pages, a module per blueprint; importing the package registers every route."""

from survey_app.accounts.views import auth, unit_accounts, users

__all__ = ["auth", "unit_accounts", "users"]
