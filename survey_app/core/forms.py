"""WTForms forms, a module per area; every label and message goes through Babel.

Forms derive from ``Form``, whose WTForms messages ("Not a valid choice.", "This field is required.", ...)
come from the service's own catalogue: WTForms ships no Vietnamese."""

from __future__ import annotations

from flask_babel import get_translations
from flask_wtf import FlaskForm


class _ServiceCatalogue:
    """WTForms' translation interface over the service's catalogue (WTForms formats the result itself)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_CATALOGUE = _ServiceCatalogue()


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return _CATALOGUE


class ConfirmForm(Form):
    """A form with nothing but its CSRF token, behind every button that changes state."""


def _wtforms_messages(gettext, ngettext):
    """Never called: declares WTForms' built-in messages the forms can show, so that Babel extracts them."""
    gettext("This field is required.")
    gettext("Invalid input.")
    gettext("Invalid email address.")
    gettext("Not a valid choice.")
    gettext("Invalid Choice: could not coerce.")
    gettext("Invalid choice(s): one or more data inputs could not be coerced.")
    ngettext(
        "'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 1
    )
    gettext("Not a valid integer value.")
    gettext("Not a valid decimal value.")
    gettext("Not a valid float value.")
    gettext("Not a valid date value.")
    gettext("Not a valid datetime value.")
    gettext("Number must be at least %(min)s.")
    gettext("Number must be at most %(max)s.")
    gettext("Number must be between %(min)s and %(max)s.")
    gettext("Field must be equal to %(other_name)s.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1)
    gettext("Field must be between %(min)d and %(max)d characters long.")
    gettext("The CSRF token is missing.")
    gettext("The CSRF token is invalid.")
    gettext("The CSRF session token is missing.")
    gettext("The CSRF tokens do not match.")
