"""A crawl of the seeded demo, as a new user would walk it: every page and download reachable by links, as
anonymous and as every demo account (and the demo expert through their personal link), in both languages.
No answer may be a server error, and no link the service shows may lead nowhere (404) or to a page the
visitor may not see (403).

This is the net for whole classes of bugs: a page that crashes on the demo's own data, a link built for the
wrong role, a download that fails in one language.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import text

from survey_app.core import demo
from survey_app.core.app import create_app
from survey_app.core.extensions import db, limiter
from tests.conftest import IsolatedClient, csrf_token

#: links followed on each page: anchors and stylesheet/script/image sources
LINK = re.compile(r'<(?:a|link)\b[^>]*?\bhref="([^"]*)"|<(?:script|img)\b[^>]*?\bsrc="([^"]*)"')
#: what the crawl does not follow: switching language changes the visitor's session mid-walk (each language is
#: crawled on its own), and a page's own fragment is the same page
SKIP = re.compile(r"^/language/")
#: a crawl of one visitor in one language stops at this many pages (the demo has far fewer per visitor)
PAGE_LIMIT = 3000
#: pages that differ only by a unit or record (the 63 provinces' scorecards, PDFs, templates) form a family:
#: the first visitor to reach a family in a language visits every member, later visitors this many of it,
#: so every page is visited in both languages and every visitor sees every kind of page
FAMILY_SAMPLE = 3
ID_SEGMENT = re.compile(r"^(\d+|[A-Z0-9]{2,4})(\.\w+)?$")


def family(page: str) -> str:
    """``/results/r/units/94.pdf?lang=en`` → ``/results/r/units/*.pdf?lang``."""
    parts = urlsplit(page)
    path = "/".join(ID_SEGMENT.sub(lambda m: "*" + (m.group(2) or ""), segment) for segment in parts.path.split("/"))
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return path + ("?" + "&".join(keys) if keys else "")


@dataclass
class Walk:
    visitor: str
    language: str
    statuses: dict[str, int] = field(default_factory=dict)
    #: (page, the page that linked to it, status) of every answer that is a failure
    failures: list[tuple[str, str, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def demo_app(database_url, tmp_path_factory):
    """One seeded demo for the whole crawl, on the test database, emptied afterwards."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "SECRET_KEY": "crawl",
            "SERVER_NAME": "localhost",
            # one visitor reads thousands of public pages: limits as high as a test client needs (turning
            # the limiter off would turn it off for every later app of the run, the extension is shared)
            "PUBLIC_RATE_LIMIT": "1000000 per minute",
            "LINK_GUESS_RATE_LIMIT": "1000000 per minute",
            "OPEN_LINK_RATE_LIMIT": "1000000 per minute",
            # a crash is an answer to record (500), not an exception that ends the crawl
            "PROPAGATE_EXCEPTIONS": False,
            "EVIDENCE_FOLDER": str(tmp_path_factory.mktemp("evidence")),
        }
    )
    app.test_client_class = IsolatedClient
    limiter.reset()
    with app.app_context():
        seeded = demo.seed()
        db.session.commit()
        db.session.remove()
    yield app, seeded
    with app.app_context():
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for engine in db.engines.values():
            engine.dispose()


def _links(html: str) -> list[str]:
    found = []
    for anchor, source in LINK.findall(html):
        target = unescape(anchor or source)
        target = urldefrag(target)[0]
        parts = urlsplit(target)
        if not target or parts.scheme or parts.netloc or not target.startswith("/") or SKIP.match(target):
            continue
        found.append(target)
    return found


def crawl(client, start: list[str], walk: Walk, covered: dict[str, str]) -> Walk:
    """Visit what ``start`` links to, breadth first. ``covered`` maps each family to the visitor who walked it
    whole in this language."""
    queue = deque((page, "(start)") for page in start)
    seen = set(start)
    sampled: dict[str, int] = {}
    while queue and len(walk.statuses) < PAGE_LIMIT:
        page, referrer = queue.popleft()
        kind = family(page)
        if covered.setdefault(kind, walk.visitor) != walk.visitor:
            sampled[kind] = sampled.get(kind, 0) + 1
            if sampled[kind] > FAMILY_SAMPLE:
                continue
        response = client.get(page)
        walk.statuses[page] = response.status_code
        if response.status_code >= 500 or (response.status_code in (403, 404) and referrer != "(start)"):
            walk.failures.append((page, referrer, response.status_code))
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(response.headers["Location"])
            location = target.path + (f"?{target.query}" if target.query else "")
            if not target.netloc or target.netloc == "localhost":
                if location not in seen and not SKIP.match(location):
                    seen.add(location)
                    queue.append((location, page))
            continue
        if response.mimetype != "text/html":
            continue
        for link in _links(response.get_data(as_text=True)):
            if link not in seen:
                seen.add(link)
                queue.append((link, page))
    return walk


def _visitor(app, language: str, account: tuple[str, str, str] | None):
    client = app.test_client()
    client.get(f"/language/{language}?next=/")
    if account is not None:
        email, _, password = account
        answer = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
        )
        assert answer.status_code == 302, f"demo account {email} cannot log in"
    return client


#: per language, which visitor walked each family whole
COVERED: dict[str, dict[str, str]] = {"vi": {}, "en": {}}
VISITORS = ["anonymous", "expert"] + [email for email, *_ in demo.DEMO_ACCOUNTS + demo.DEMO_UNIT_ACCOUNTS]
#: a unit's accounts, whose pages are their unit's reporting
UNIT_VISITORS = {email for email, *_ in demo.DEMO_UNIT_ACCOUNTS}


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("visitor", VISITORS)
def test_every_linked_page_and_download_of_the_demo_answers_without_error(demo_app, visitor, language):
    app, seeded = demo_app
    account = next((a for a in seeded.accounts if a[0] == visitor), None)
    started = time.monotonic()
    with app.app_context():
        client = _visitor(app, language, account)
        start = ["/", "/results/"]
        if visitor == "expert":
            assert seeded.expert_link, "the demo prints a demo expert's link"
            start = [f"/e/{seeded.expert_link}"]
        elif visitor in UNIT_VISITORS:
            start = ["/reporting/"]
        elif account is not None:
            # the units' reporting as officers follow it (the staff menu does not name it yet)
            start = ["/dashboard", "/results/", "/reporting/"]
        walk = crawl(client, start, Walk(visitor, language), COVERED[language])
    seconds = time.monotonic() - started
    print(f"crawl {visitor} ({language}): {len(walk.statuses)} pages in {seconds:.1f} s")
    # an expert's form and a unit's reporting are a few pages each
    least = 3 if visitor == "expert" or visitor in UNIT_VISITORS else 20
    assert len(walk.statuses) >= least, "the crawl reached almost nothing"
    assert len(walk.statuses) < PAGE_LIMIT, "the crawl hit its page limit: links multiply without end"
    assert walk.failures == [], "\n".join(
        f"{status} {page} (linked from {referrer})" for page, referrer, status in walk.failures
    )
