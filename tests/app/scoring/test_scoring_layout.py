"""The ranking tables in headless Chromium: on a phone the unit, its index and its rank show without scrolling
sideways and the unit stays in view while the other columns scroll; at 1280 px no column is cut off."""

from survey_app.core.extensions import db
from survey_app.publication import operations as publication
from tests.app.scoring.test_scoring import _load, _run_keeping_proposed, scored  # noqa: F401 (fixture)
from tests.browser.test_survey_browser import ARGS, _serious, browser, live_server  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}

#: where the ranking's first row, its wrapper and the page stand, in CSS pixels of the window; the unit, index and
#: rank cells are found by their column's heading, wherever the column is
MEASURE = """() => {
  const table = document.querySelector('table.ranking'), wrap = table.parentElement;
  const headings = [...table.tHead.rows[0].cells].map((cell) => cell.textContent.trim());
  const cell = (heading) => table.tBodies[0].rows[0].cells[headings.indexOf(heading)].getBoundingClientRect();
  return {window: window.innerWidth, page: document.scrollingElement.scrollWidth,
          wrapScroll: wrap.scrollWidth, wrapWidth: wrap.clientWidth,
          unitLeft: cell('Đơn vị').left, unitRight: cell('Đơn vị').right, index: cell('Chỉ số').right,
          rank: cell('Hạng').right};
}"""


def _ranking_pages(live_server, browser, run, device):
    """(page, measures) for the public ranking and the staff run page, as seen on ``device``."""
    context = browser.new_context(locale="vi-VN", **device)
    page = context.new_page()
    found = {}
    page.goto(f"{live_server}/results/province-2023")
    found["public"] = page.evaluate(MEASURE)
    found["public_axe"] = _serious(page)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "viewer@example.vn")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.goto(f"{live_server}/scoring/runs/{run.id}")
    found["staff"] = page.evaluate(MEASURE)
    found["staff_axe"] = _serious(page)
    # scrolled to the last column, the unit stays where it was
    page.evaluate("document.querySelector('table.ranking').parentElement.scrollLeft = 10000")
    found["staff_scrolled"] = page.evaluate(MEASURE)
    context.close()
    return found


def test_the_ranking_tables_fit_a_phone_and_a_1280_px_screen(scored, live_server, browser, create_user):
    _load(scored)
    run = _run_keeping_proposed(scored, excluded=["SEC.2"])
    publication.publish(run, actor=None)
    create_user("viewer", email="viewer@example.vn")
    db.session.commit()

    phone = _ranking_pages(live_server, browser, run, PHONE)
    for name in ("public", "staff"):
        seen = phone[name]
        # the page itself never scrolls sideways; the unit, its index and its rank are on the first screen
        assert seen["page"] <= seen["window"], (name, seen)
        assert seen["unitRight"] < seen["index"] < seen["rank"] <= seen["window"] - 16, (name, seen)
        # the pillar columns scroll inside the table's wrapper
        assert seen["wrapScroll"] > seen["wrapWidth"], (name, seen)
    assert phone["staff_scrolled"]["unitLeft"] == phone["staff"]["unitLeft"]
    assert phone["public_axe"] == [] and phone["staff_axe"] == []

    desktop = _ranking_pages(live_server, browser, run, DESKTOP)
    for name in ("public", "staff"):
        seen = desktop[name]
        # every column is in view: nothing to scroll to, in the wrapper or the page
        assert seen["wrapScroll"] <= seen["wrapWidth"] and seen["page"] <= seen["window"], (name, seen)
