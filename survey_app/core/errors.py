"""Error pages: translated HTML, or JSON under /api/."""

from __future__ import annotations

import traceback

from flask import Flask, abort, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from survey_app.core.extensions import db
from survey_app.core.request_limits import RequestTooLong

#: SQLSTATE classes and codes that mean the database is away or refusing writes for now, not that the request
#: is wrong: connection exceptions (08), server shutting down (57P01-57P03), insufficient resources (53),
#: permission withdrawn (42501), read-only transaction (25006)
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53", "42501", "25006")


#: SQLSTATE of a statement cancelled by ``statement_timeout`` (REQUEST_STATEMENT_TIMEOUT_SECONDS)
_STATEMENT_TIMEOUT = "57014"
_TOO_LONG = _l(
    "This request took longer than a page may, so it was stopped and nothing was saved. Work on a national scale "
    "(weighting, large exports, scoring runs, audits) runs as a background job: start it from its page and follow "
    "it under Background jobs (/jobs)."
)

#: each error page's title and message, translated when a page shows them (only the one shown)
_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Check what you sent and try again.")),
    401: (_l("Login required"), _l("Log in to use this part of the service.")),
    403: (_l("Access denied"), _l("Your account does not have the right to open this page.")),
    404: (_l("Page not found"), _l("The page you asked for does not exist or has moved.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("File too large"), _l("The file is larger than the service accepts.")),
    429: (_l("Too many requests"), _l("You have made too many attempts. Wait a few minutes and try again.")),
    500: (_l("Something went wrong"), _l("An error occurred on our side. Nothing was saved; please try again.")),
    503: (_l("Service unavailable"), _l("The service is temporarily unavailable. Please try again shortly.")),
}


def database_unavailable(error: DBAPIError) -> bool:
    """Whether a database error is the database being unavailable (answer 503, the client may retry)."""
    if isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    return state.startswith(_UNAVAILABLE_STATES)


def _respond(code: int, detail: str | None = None):
    title, message = _TEXTS.get(code, _TEXTS[500] if code >= 500 else _TEXTS[400])
    title, message = str(title), detail or str(message)
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(error={"code": code, "title": title, "message": message}), code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, _("The form has expired or did not come from this site. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response = make_response(_respond(error.code or 500, getattr(error, "detail", None)))
        for name, value in error.get_headers():
            # a 429 or 503 may say when to come back, a 405 which methods the address takes
            if name in ("Retry-After", "Allow"):
                response.headers[name] = value
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error):
        return _respond(500)

    app.register_error_handler(DBAPIError, database_error_response)

    @app.errorhandler(RequestTooLong)
    def request_too_long(error):
        current_app.logger.warning("request stopped after REQUEST_TIMEOUT_SECONDS at %s", request.endpoint)
        try:
            db.session.rollback()
        except DBAPIError:
            pass
        response = make_response(_respond(503, str(_TOO_LONG)))
        response.headers["Retry-After"] = "30"
        return response


def or_404(found):
    """What an address names, or a 404 when it names nothing."""
    if found is None:
        abort(404)
    return found


def owned_or_404(model, record_id: int, **owner):
    """The record of the address that belongs to the owner the address names too (``fieldwork_id=...``); any other
    record is not found, as if it did not exist."""
    record = db.get_or_404(model, record_id)
    if any(getattr(record, field) != value for field, value in owner.items()):
        abort(404)
    return record


def api_error(status: int, message: str, **details):
    """A JSON error of the API: ``{"error": {"code", "message", ...details}}`` with its status."""
    return jsonify(error={"code": status, "message": message, **details}), status


def database_error_response(error: DBAPIError):
    """503 with Retry-After when the database is away or refuses writes for now, else 500; the request's
    transaction is rolled back either way, so a retry with the same submission identifier is safe."""
    try:
        db.session.rollback()
    except DBAPIError:
        pass
    if getattr(error.orig, "sqlstate", None) == _STATEMENT_TIMEOUT:
        current_app.logger.warning("statement timeout at %s", request.endpoint)
        response = make_response(_respond(503, str(_TOO_LONG)))
        response.headers["Retry-After"] = "30"
        return response
    if not database_unavailable(error):
        # the database's message can quote the values it was given (answers, contact data): log where and what
        # kind of error, not the message
        current_app.logger.error(
            "database error %s (SQLSTATE %s) at %s\n%s",
            type(error.orig).__name__,
            getattr(error.orig, "sqlstate", None),
            request.endpoint,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        return make_response(_respond(500))
    current_app.logger.warning("database unavailable: %s", type(error.orig).__name__)
    response = make_response(_respond(503))
    response.headers["Retry-After"] = "5"
    return response


class ServiceError(Exception):
    """A refused operation, with a code the interface translates and the values its message names."""

    def __init__(self, code: str, /, **params):  # positional: a message may name a "code" of its own
        self.code = code
        self.params = params
        super().__init__(code, params)
