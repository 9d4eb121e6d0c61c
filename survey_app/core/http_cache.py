"""HTTP caching of what is published: a published run never changes, so its files (CSV, Excel, PDF) and its JSON
carry an ``ETag`` and a ``Cache-Control`` that lets browsers and the shipped nginx keep them, and a conditional
request for one the client holds is answered ``304 Not Modified`` without its body.

HTML pages are left out: each carries the visitor's session (its CSRF token), so a shared cache must not keep
them. An answer to a visitor with a session is cached by the browser alone (``private``, ``Vary: Cookie``)."""

from __future__ import annotations

from flask import Response, current_app, request, session

#: how long a client or a proxy may use a published file without asking again; a new publication of a round is
#: a new run, so a stale copy is at most this old
PUBLISHED_MAX_AGE = 300


def cache_published(response: Response) -> Response:
    """An ``after_request`` of the blueprints that serve published results."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.is_streamed:
        return response
    if response.mimetype == "text/html":
        return response
    response.add_etag()
    response.cache_control.max_age = PUBLISHED_MAX_AGE
    if session.modified or request.cookies.get(current_app.config["SESSION_COOKIE_NAME"]):
        # the visitor's session (a language chosen, a login) may shape the answer: cached by the browser alone
        response.cache_control.private = True
        response.vary.add("Cookie")
    else:
        response.cache_control.public = True
    return response.make_conditional(request)
