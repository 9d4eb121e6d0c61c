"""Every ``next`` goes through one helper (``security.safe_next``): a path on this site or the fallback. The table
holds what browsers read loosely — tabs and newlines they drop, backslashes they take for slashes, white space
and control characters, schemes and hosts — raw and percent-encoded, as the language switch and the login
receive them."""

import pytest

from survey_app.core.security import safe_next
from tests.conftest import PASSWORD, csrf_token

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil.example",
    "/%0a/x",
    "/%0d%0a/evil.example",
    "/\r/evil.example",
    "/ /evil.example",
    "/%20/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%5c%5cevil.example",
    "http://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,x",
    "evil.example",
    "../evil",
    "",
    "/\u3000/evil.example",
    "/%E3%80%80/evil.example",
    "/\u200b/evil.example",
    "/\x00/x",
    "/x\x7f",
    "/" + "a" * 3000,
]
SAFE = [
    "/",
    "/login",
    "/results/province-2022-demo?sort=name&order=desc",
    "/results/?q=H%C3%A0%20N%E1%BB%99i",
    "/login?next=//evil.example",
    "/scoring/runs/1#ranking",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_next_falls_back(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", SAFE)
def test_a_path_on_this_site_is_kept(target):
    assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%0a/x", "//evil.example", "/%5Cevil.example", "https:evil.example"]
)
def test_the_language_switch_never_leaves_the_site(client, target):
    response = client.get(f"/language/en?next={target}")
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0a/x", "//evil.example"])
def test_a_login_with_a_hostile_next_lands_on_the_dashboard(client, create_user, target):
    user = create_user("viewer")
    response = client.post(
        f"/login?next={target}",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_a_login_keeps_a_next_on_this_site(client, create_user):
    user = create_user("viewer")
    response = client.post(
        "/login?next=/results/",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/login")},
    )
    assert response.headers["Location"] == "/results/"
