"""Access control and the protections every response carries.

Every view declares who may reach it: ``@public``, or ``@allow(Role...)`` for staff. A view that declares
nothing is refused to everyone (deny by default), so a new route cannot be left open by omission.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import wraps
from typing import Callable
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface

from survey_app.accounts import operations as accounts
from survey_app.accounts.models import Role
from survey_app.audit import operations as audit
from survey_app.core import uploads
from survey_app.core.extensions import limiter
from survey_app.core.rate_limits import parsed_limit

#: the attribute on a view function that holds its access rule
ACCESS_ATTRIBUTE = "access_roles"
PUBLIC = "public"
#: JSON API routes reached with an API key instead of a staff session
API_KEY = "api_key"
#: every staff role, for pages any logged-in staff member may see
STAFF = frozenset(Role)
#: who designs samples, questionnaires, fieldwork and panels
DESIGNERS = (Role.ADMINISTRATOR, Role.SAMPLE_DESIGNER)
#: who may read answers, and experts' names beside their scores: the designers and the scoring officers
ANALYSTS = (Role.ADMINISTRATOR, Role.SAMPLE_DESIGNER, Role.SCORING_OFFICER)
#: who changes scoring inputs, runs and publishes, and reports strategic targets
OFFICERS = (Role.ADMINISTRATOR, Role.SCORING_OFFICER)
SESSION_KEY = "staff_token"


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go after a language switch or a login: ``target`` when it is a path on this site, else
    ``fallback``. The one redirect helper of every ``next``.

    Browsers read a Location loosely: they drop tabs and newlines, take a backslash for a slash and
    ``//host`` for another site. So a target holding any control character, white space or backslash, a
    scheme or a host, or that does not start with exactly one slash (also once percent-decoded, for a
    client that decodes), is refused outright rather than cleaned up.
    """
    if not target or len(target) > 2048 or any(_unsafe_in_location(character) for character in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    decoded = unquote(target)
    for text in (target, decoded):
        if not text.startswith("/") or text[1:2] == "/" or _unsafe_in_location(text[1:2] or "a"):
            return fallback
    return target


def _unsafe_in_location(character: str) -> bool:
    return character == "\\" or character.isspace() or unicodedata.category(character)[0] in "CZ"


def public(view: Callable) -> Callable:
    """Mark a view as open to anyone."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def api_key(view: Callable) -> Callable:
    """Admit requests carrying a live API key (``Authorization: Bearer <key>``); the key is in ``g.api_key``.

    A key found live is admitted for 30 s without asking again (``collection.api_key_for``): a view that
    stores something checks the key in its own statement, as submissions do."""
    setattr(view, ACCESS_ATTRIBUTE, API_KEY)
    return view


def allow(*roles: Role) -> Callable[[Callable], Callable]:
    """Admit staff with one of ``roles`` (pass ``*STAFF`` for every role)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTRIBUTE, frozenset(roles))
        return wrapped

    return decorate


def access_rule(endpoint: str) -> str | frozenset | None:
    """The access rule of an endpoint: PUBLIC, a set of roles, or None when it declares none."""
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTRIBUTE, None)


def _to_api_key_route() -> bool:
    """Whether this request goes to a route admitting API keys (whose requests are the key's, not a staff
    member's)."""
    return request.endpoint is not None and access_rule(request.endpoint) == API_KEY


def load_staff_user() -> None:
    """Put the logged-in staff member, if any, in ``g.user``. A request to an API-key route is the key's,
    whatever cookie it carries: no staff member is looked up for it."""
    g.user = None
    if _to_api_key_route():
        return
    token = session.get(SESSION_KEY)
    if token:
        g.user = accounts.session_user(token, current_app.config["STAFF_IDLE_TIMEOUT"])
        if g.user is None:
            session.pop(SESSION_KEY, None)


def enforce_access():
    """Refuse the request unless the endpoint's rule admits the current user."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: the 404 handler answers
    rule = access_rule(endpoint)
    if rule == PUBLIC:
        return None
    if rule == API_KEY:
        from survey_app.survey.operations.api_keys import api_key_for

        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        g.api_key = api_key_for(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        if g.api_key is None:
            abort(401)
        return None
    if rule is not None and g.user is None:
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if rule is None or g.user.role not in rule:
        # the refusal is audited although the request's work is rolled back
        audit.record_kept("access.denied", actor=g.user, details={"endpoint": endpoint, "path": request.path})
        abort(403)
    return None


#: the headers every response carries, unless its view set its own
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS_HEADER = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def security_headers(response):
    """The headers every response carries."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    # one pass over what the response has: setdefault would search the headers once per header
    headers.extend(
        [(name, value) for lowered, name, value in current_app.extensions[_SECURITY_HEADERS] if lowered not in present]
    )
    if g.get("user") is not None or g.get("api_key") is not None:
        headers.setdefault("Cache-Control", "no-store")
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building a signer for requests that carry no session cookie
    (API calls, first visits) or working out cookie settings for an empty session left unchanged."""

    def open_session(self, app: Flask, request):
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        if _to_api_key_route():
            return  # a key's request (a POST, never cached): a staff cookie it happens to carry is not renewed
        if not session and not session.modified:  # nothing to write, nor a cookie to delete
            if session.accessed:
                # what Flask's own interface does (response.vary.add), without parsing an absent Vary header
                if "Vary" in response.headers:
                    response.vary.add("Cookie")
                else:
                    response.headers["Vary"] = "Cookie"
            return
        super().save_session(app, session, response)


def spend_rate_limit(limit: str, *identifiers: str) -> None:
    """Count this request against ``limit`` ("600 per minute") for ``identifiers``, in the rate limiter's
    storage and with its strategy, and refuse it (429 with Retry-After) once the limit is spent."""
    if not limiter.enabled:
        return
    item = parsed_limit(limit)
    if not limiter.limiter.hit(item, "spend", *identifiers):
        limiter.refuse(item, "spend", *identifiers)


def _unstorable(text: str) -> bool:
    """A NUL, or half of a UTF-16 surrogate pair: neither can be stored in PostgreSQL text or hashed as UTF-8."""
    return "\x00" in text or any("\ud800" <= character <= "\udfff" for character in text)


def _holds_unstorable(value) -> bool:
    if isinstance(value, str):
        return _unstorable(value)
    if isinstance(value, dict):
        return any(_holds_unstorable(key) or _holds_unstorable(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_unstorable(item) for item in value)
    return False


#: JSON can only carry a NUL or a lone surrogate escaped (raw ones are not valid UTF-8 JSON)
_UNSTORABLE_ESCAPES = re.compile(rb"\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def refuse_unstorable_text():
    """Text the database cannot store (a NUL, a lone surrogate) in a form, query or JSON body is refused
    whole (400, translated) before anything reads it, instead of failing at the database. Every name, every
    value of a repeated field and every uploaded file's name is looked at. Forms and queries leave invalid UTF-8
    percent-encoded or decode it to U+FFFD, so only a NUL can reach them."""
    # most requests have no query string: its arguments need not be parsed to be looked at
    if "\x00" in request.path or (request.query_string and _holds_unstorable_field(request.args)):
        abort(400)
    if request.is_json:
        # most bodies hold no such escape and need no walk
        if _UNSTORABLE_ESCAPES.search(request.get_data()) and _holds_unstorable(request.get_json(silent=True)):
            abort(400)
    elif _holds_unstorable_field(request.form) or _holds_unstorable_field(request.files):
        abort(400)
    return None


def _holds_unstorable_field(fields) -> bool:
    """Whether a form's, a query's or the uploads' fields (a MultiDict) hold a NUL in a name or in any of a
    name's values; an upload's value is its file name, which several uploads store."""
    return any(
        _unstorable(name) or _unstorable(value if isinstance(value, str) else value.filename or "")
        for name, value in fields.items(multi=True)
    )


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading only what JSON can store: a body nested too deeply for the parser, NaN,
    Infinity or a number beyond a float's range is invalid JSON (400) rather than a RecursionError that
    escapes ``get_json(silent=True)`` (500) or a value PostgreSQL's jsonb refuses at the commit (500)."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number beyond a float's range")
    return value


#: where an app keeps its security headers, (lowercase name, name, value), worked out once from its settings
_SECURITY_HEADERS = "security_headers"


def init_app(app: Flask) -> None:
    wanted = [*SECURITY_HEADERS, HSTS_HEADER] if app.config.get("HSTS") else SECURITY_HEADERS
    app.extensions[_SECURITY_HEADERS] = tuple((name.lower(), name, value) for name, value in wanted)
    app.session_interface = SessionInterface()
    app.json = JSONProvider(app)
    app.before_request(refuse_unstorable_text)
    uploads.init_app(app)
    app.before_request(load_staff_user)
    app.before_request(enforce_access)
    app.after_request(security_headers)
