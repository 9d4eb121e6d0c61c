"""Links that open a form without a login (a respondent's invitation ``/i/<token>``, a resume code ``/r/<code>``,
an expert's ``/e/<token>``), guarded against guessing, and what a browser remembers of the links it used."""

from __future__ import annotations

from functools import wraps

from flask import current_app, make_response, request, session

from survey_app.core.extensions import client_address, limiter
from survey_app.core.rate_limits import parsed_limit
from survey_app.core.tokens import normalise_resume_code, token_hash

#: link problems and the status they answer with
LINK_STATUS = {"unknown_link": 404, "link_used": 410, "link_revoked": 410, "fieldwork_closed": 410}


#: the session's keys: the resume codes this browser holds (began or opened), and the receipts of the links
#: it sent answers with, each by a short hash of the link
HELD_KEY, SENT_KEY = "held_codes", "sent_links"
#: how many of each a session remembers (the cookie stays small)
REMEMBERED = 8


def link_id(kind: str, key: str) -> str:
    return token_hash(f"{kind}:{normalise_resume_code(key) if kind == 'r' else key}")[:16]


def remembered(name: str) -> dict:
    return dict(session.get(name, []))


def remember(name: str, link: str, value) -> None:
    """Keep ``value`` for the link in the session, with the last few others (a list: the session's JSON sorts
    the keys of a mapping, which would lose which are the last)."""
    kept = [[k, v] for k, v in session.get(name, []) if k != link]
    session[name] = kept[-(REMEMBERED - 1) :] + [[link, value]]


def _resume_code(kwargs) -> str | None:
    """The resume code a guarded view looks up, if it looks one up."""
    if kwargs.get("kind") == "r":
        return kwargs["key"]
    if request.endpoint == "respond.resume" and request.method == "POST":
        return request.form.get("code", "")
    return None


def guarded(view):
    """Guard a view that looks up a link or a resume code against guessing.

    A lookup that finds nothing (404) counts against the client's address, and once the address has spent
    ``LINK_GUESS_RATE_LIMIT`` its unknown links are refused (429). A working link always opens: many people
    share one address (a ministry's office behind one NAT), and one person's wrong guesses must not lock the
    others out of their links. Resume codes, though, have only 60 bits: an address that has spent its guesses
    could otherwise go on testing codes as fast as it likes, so over the limit a resume code is looked up only
    in a browser that already holds it (it began the draft, or opened it before).
    """

    @wraps(view)
    def guarded_view(*args, **kwargs):
        if not limiter.enabled:
            return view(*args, **kwargs)
        limit, identifiers = parsed_limit(current_app.config["LINK_GUESS_RATE_LIMIT"]), ("link-guess", client_address())
        code = _resume_code(kwargs)
        held = code is not None and link_id("r", code) in remembered(HELD_KEY)
        if code is not None and not held and not limiter.limiter.test(limit, *identifiers):
            limiter.refuse(limit, *identifiers)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 404 and not limiter.limiter.hit(limit, *identifiers):
            limiter.refuse(limit, *identifiers)
        if code is not None and not held and response.status_code < 400:
            remember(HELD_KEY, link_id("r", code), 1)
        return response

    return guarded_view
