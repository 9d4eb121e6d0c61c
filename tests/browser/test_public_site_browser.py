"""The public results site in a real browser (issue 24): the map, a comparison, a unit's series and the what-if,
in Vietnamese and English, on a phone and a desktop: axe finds nothing serious and nothing scrolls sideways (the
what-if's form and its answers are tested through the service in tests/app/publication/test_what_if.py)."""

from tests.app.publication.test_map import DESKTOP, published_2025_round
from tests.app.publication.test_what_if import FRAMEWORK as WEIGHED
from tests.app.publication.test_what_if import five_provinces, scored_round
from tests.browser.test_survey_browser import PHONE, _serious, browser, live_server  # noqa: F401 (fixtures)

PAGES = {
    "map": "/results/map-2025/map?node=P1",
    "compare": "/results/map-2025/compare?unit=01&unit=79&unit=48",
    "series": "/results/series/province/79",
    "what-if": "/results/weighed/what-if",
}


def _published_rounds():
    """The map's 34-unit round, and a round of main indices with channel shares for the what-if."""
    published_2025_round()
    scored_round(WEIGHED, "weighed", five_provinces(), reading="redistribute", normalisation="none", publish=True)


def test_the_public_pages_pass_axe_on_a_phone_and_a_desktop_in_both_languages(app, live_server, browser):
    _published_rounds()
    found = {}
    for device_name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**device)
        page = context.new_page()
        for language in ("vi", "en"):
            for name, path in PAGES.items():
                response = page.goto(f"{live_server}{path}{'&' if '?' in path else '?'}lang={language}")
                assert response.status == 200, (name, language, response.status)
                assert page.locator("html").get_attribute("lang") == language
                found[device_name, language, name] = _serious(page)
                assert page.evaluate("document.documentElement.scrollWidth") <= device["viewport"]["width"], name
        context.close()
    assert found == {key: [] for key in found}
