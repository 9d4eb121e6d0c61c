"""A published run never changes: its JSON and its files carry an ETag and may be cached, and a client that
holds one is answered 304 without the body; its HTML pages, which carry the visitor's session, are not cached."""

from tests.app.publication.test_methodology import _published_round


def test_published_files_and_json_are_cacheable_and_answer_304_when_unchanged(app, client):
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
        assert first.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public"), path
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", path
        assert again.headers["ETag"] == etag
        # a different copy is sent whole
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # a visitor with a session (a language chosen) gets the same files, kept by the browser alone
    client.get("/language/en")
    english = client.get(f"/api/v1/results/{evaluation.code}")
    assert "private" in english.headers["Cache-Control"] and "Cookie" in english.headers["Vary"]


def test_the_html_pages_carry_the_session_and_are_not_cached(app, client):
    evaluation, _ = _published_round()
    page = client.get(f"/results/{evaluation.code}")
    assert page.status_code == 200 and "ETag" not in page.headers
    assert "public" not in page.headers.get("Cache-Control", "")
