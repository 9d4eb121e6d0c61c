"""A published run never changes: its JSON and its files carry an ETag and may be cached, and a client that
holds one is answered 304 without the body. Its public pages are the same bytes for every visitor without a
session reading in one language (no session opened, no CSRF token, no frame), so a shared cache may keep them;
a logged-in visitor's page is theirs alone."""

import re

from tests.app.publication.test_methodology import _published_round

SESSION_COOKIE = "dti_session"


def _cookies(response) -> dict[str, str]:
    """The cookies an answer sets, by name."""
    return {
        header.split("=", 1)[0]: header.split("=", 1)[1].split(";", 1)[0]
        for header in response.headers.getlist("Set-Cookie")
    }


def _directives(response) -> set[str]:
    return {part.strip() for part in response.headers.get("Cache-Control", "").split(",") if part.strip()}


def test_published_files_and_json_are_cacheable_and_answer_304_when_unchanged(app, client, create_user, login):
    evaluation, _ = _published_round()
    for path in (
        f"/api/v1/results/{evaluation.code}",
        f"/api/v1/results/{evaluation.code}/units/U1",
        f"/results/{evaluation.code}/ranking.csv",
        f"/results/{evaluation.code}/ranking.pdf",
        f"/results/{evaluation.code}/methodology.pdf",
    ):
        first = client.get(path)
        assert first.status_code == 200 and first.data, path
        etag = first.headers["ETag"]
        assert _directives(first) == {"public", "max-age=300"}, path
        # the PDFs are written in the reader's language, which a cookie may choose
        assert "Cookie" in first.headers["Vary"], path
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", path
        assert again.headers["ETag"] == etag
        # a different copy is sent whole
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # a language chosen opens no session: the files stay public, each language its own copy (Vary: Cookie)
    client.get("/language/en")
    english = client.get(f"/results/{evaluation.code}/methodology.pdf")
    assert _directives(english) == {"public", "max-age=300"} and "Cookie" in english.headers["Vary"]
    # a logged-in visitor's copy is kept by their browser alone
    login(create_user("administrator"))
    own = client.get(f"/api/v1/results/{evaluation.code}")
    assert "private" in _directives(own) and "public" not in _directives(own)


def test_an_anonymous_visitor_gets_the_public_pages_as_everyone_does_and_304_when_unchanged(app, client):
    evaluation, _ = _published_round()
    other_visitor = app.test_client()
    for path in (
        "/results/",
        f"/results/{evaluation.code}",
        f"/results/{evaluation.code}/units/U1",
        f"/results/{evaluation.code}/methodology",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        # no session opened, no CSRF token, no frame of a logged-in visitor
        assert "Set-Cookie" not in page.headers, path
        assert "csrf" not in text.lower() and "Log out" not in text and "Đăng xuất" not in text, path
        assert _directives(page) == {"public", "max-age=60"}, path
        assert "Cookie" in page.headers["Vary"], path
        etag = page.headers["ETag"]
        # the same bytes for everyone reading in Vietnamese (the default language)
        assert other_visitor.get(path).data == page.data, path
        unchanged = client.get(path, headers={"If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.data == b"" and unchanged.headers["ETag"] == etag, path
    # the ranking's search is a GET form: it needs no token and works for such a visitor
    found = client.get(f"/results/{evaluation.code}?q=Hai")
    assert found.status_code == 200 and "Set-Cookie" not in found.headers
    assert "Tỉnh Hai" in found.get_data(as_text=True) and "Tỉnh Ba" not in found.get_data(as_text=True)


def test_each_language_has_its_own_copy_keyed_on_the_address_or_the_language_cookie(app, client):
    evaluation, _ = _published_round()
    path = f"/results/{evaluation.code}"
    vietnamese = client.get(path)
    assert '<html lang="vi">' in vietnamese.get_data(as_text=True)

    # a shared link in Vietnamese, Vietnamese being the visitor's language already: nothing to keep, still public
    as_link = client.get(f"{path}?lang=vi")
    assert "Set-Cookie" not in as_link.headers and _directives(as_link) == {"public", "max-age=60"}
    assert '<html lang="vi">' in as_link.get_data(as_text=True)

    # a link in English switches the visitor to English with the language cookie, never a session; the answer
    # that sets the cookie is the visitor's own
    switched = client.get(f"{path}?lang=en")
    assert _cookies(switched) == {"lang": "en"} and SESSION_COOKIE not in _cookies(switched)
    assert '<html lang="en">' in switched.get_data(as_text=True)
    assert {"private", "no-store"} <= _directives(switched) and "ETag" not in switched.headers

    # from then on the visitor reads the English copy: public, its own ETag, and the Vietnamese one does not match
    english = client.get(path, headers={"If-None-Match": vietnamese.headers["ETag"]})
    assert english.status_code == 200 and '<html lang="en">' in english.get_data(as_text=True)
    assert "Set-Cookie" not in english.headers and _directives(english) == {"public", "max-age=60"}
    assert "Cookie" in english.headers["Vary"] and english.headers["ETag"] != vietnamese.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": english.headers["ETag"]}).status_code == 304
    # ... the same bytes as any other English reader's, whether the address or the cookie says English
    reader = app.test_client()
    reader.set_cookie("lang", "en")
    assert reader.get(path).data == english.data

    # the language switch goes back to the page without a ?lang= that would switch it back, and opens no session
    back = client.get(f"/language/vi?next={path}%3Flang%3Den%26sort%3Dname")
    assert back.status_code == 302 and back.headers["Location"] == f"{path}?sort=name"
    assert _cookies(back) == {"lang": "vi"}
    assert '<html lang="vi">' in client.get(path).get_data(as_text=True)


def test_a_logged_in_visitor_sees_the_frame_on_a_page_kept_by_no_one(app, client, create_user, login):
    evaluation, _ = _published_round()
    path = f"/results/{evaluation.code}"
    anonymous = app.test_client().get(path)
    login(create_user("administrator", email="analyst@example.gov.vn"))
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    # the frame: the staff menu and the log-out form with its token
    assert "analyst@example.gov.vn" in text and re.search(r'name="csrf-token" content="[^"]+"', text)
    assert re.search(r'action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token" value="[^"]+"', text)
    assert {"private", "no-store"} <= _directives(page) and "public" not in _directives(page)
    assert "ETag" not in page.headers and "Cookie" in page.headers["Vary"]
    # the anonymous copy's ETag does not answer for the logged-in visitor's page
    assert client.get(path, headers={"If-None-Match": anonymous.headers["ETag"]}).status_code == 200
