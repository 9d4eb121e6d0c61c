"""HTTP caching of what is published: a published run never changes, so its files (CSV, Excel, PDF) and its JSON
carry an ``ETag`` and a ``Cache-Control`` that lets browsers and the shipped nginx keep them, and a conditional
request for one the client holds is answered ``304 Not Modified`` without its body.

The public HTML pages of published results (``share_pages``) are cached too, for visitors without a session: for
them such a page carries no CSRF token and no frame of a logged-in visitor, so it is the same bytes for everyone
reading in one language. The language is in the address (``?lang=``) or in the language cookie
(``core.i18n.LANGUAGE_COOKIE``), never in a session: every answer says ``Vary: Cookie``, and the shipped nginx
keys its cache on that cookie and passes every visitor with a session cookie to the app servers. A visitor with a
session (logged in, or holding a form's token) gets their own page, kept by no one (``private, no-store``)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, session

#: how long a client or a proxy may use a published file without asking again; a new publication of a round is
#: a new run, so a stale copy is at most this old
PUBLISHED_MAX_AGE = 300
#: the same for the HTML pages: they also show what comes after a publication (strategic targets reported, an
#: audit of the run, a newly published round in the list), so a shared copy is kept a shorter time
PAGE_MAX_AGE = 60
#: app.extensions key of the endpoints marked by ``share_pages``
SHARED_PAGES = "dti_shared_pages"


def share_pages(blueprint: Blueprint, *endpoints: str) -> None:
    """Mark pages of ``blueprint`` as the same for every visitor without a session who reads them in one language:
    they have no form that posts for such a visitor. For that visitor their page leaves out the CSRF token (which
    would open a session and make each copy different) and may be kept by nginx; ``page_is_shared`` tells the
    templates."""
    names = {f"{blueprint.name}.{endpoint}" for endpoint in endpoints}
    blueprint.record_once(lambda state: state.app.extensions.setdefault(SHARED_PAGES, set()).update(names))
    blueprint.context_processor(lambda: {"page_is_shared": shared_page()})


def has_session() -> bool:
    """Whether the visitor came with a session cookie (logged in, a form's token, a survey in progress)."""
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def shared_page() -> bool:
    """Whether this request is answered with a page every visitor without a session sees alike: a GET of a page
    marked by ``share_pages``, from a visitor without a session."""
    return (
        request.method in ("GET", "HEAD")
        and request.endpoint in current_app.extensions.get(SHARED_PAGES, ())
        and not has_session()
    )


def cache_published(response: Response) -> Response:
    """An ``after_request`` of the blueprints that serve published results."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.is_streamed:
        return response
    # a cookie set (a language switched) or a session written by this answer (a form's token, a message) makes
    # it this visitor's; the session cookie itself is added after this function, so ``session.modified`` tells
    personal = has_session() or session.modified or "Set-Cookie" in response.headers
    # the language cookie and the session cookie choose what is sent: a cache must key on them
    response.vary.add("Cookie")
    if response.mimetype == "text/html":
        if personal:
            # the visitor's frame and form tokens: not for a shared cache, nor for the next user of a shared computer
            response.cache_control.private = True
            response.cache_control.no_store = True
            return response
        if not shared_page():
            return response
        max_age = PAGE_MAX_AGE
    else:
        max_age = PUBLISHED_MAX_AGE
    response.add_etag()
    response.cache_control.max_age = max_age
    if personal:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    return response.make_conditional(request)
