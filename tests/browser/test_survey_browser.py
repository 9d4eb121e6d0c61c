"""A citizen answers on a phone in Vietnamese in headless Chromium: leaves halfway, comes back by the link,
finishes; the stored answers are asserted, and axe finds no serious accessibility violation on the way."""

import os
import shutil
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Response, ResponseDraft

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}


@pytest.fixture
def live_server(app):
    app.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: `make test` installs it (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in result.response["violations"] if v["impact"] in ("serious", "critical")]


def _choose(page, code, value):
    page.locator(f'input[name="{code}"][value="{value}"]').check()


def test_a_citizen_answers_on_a_phone_leaves_resumes_and_finishes(live_server, browser, survey):
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    db.session.commit()
    link = f"{live_server}/i/{issued.token}"
    violations = {}

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(link)
    assert page.locator("html").get_attribute("lang") == "vi"
    violations["start"] = _serious(page)
    page.get_by_role("link", name="Bắt đầu").click()
    # section 1: nothing answered, so the page asks for it next to the field
    page.get_by_role("button", name="Tiếp tục").click()
    assert page.locator("#q_aw3-error").inner_text() == "Vui lòng trả lời câu hỏi này."
    violations["error"] = _serious(page)
    _choose(page, "q_aw3", "yes")
    page.get_by_role("button", name="Tiếp tục").click()
    _choose(page, "q_infra2", "yes")
    page.get_by_role("button", name="Tiếp tục").click()
    violations["section"] = _serious(page)
    # section 3 (multiple choice): answered, saved as one goes, then the respondent leaves
    page.locator('input[name="q_hr2"][value="email"]').check()
    page.locator('input[name="q_hr2"][value="payment"]').check()
    page.locator(".save-status").filter(has_text="đã được lưu").wait_for()
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(link)
    assert page.locator("progress").get_attribute("value") == "2"
    assert page.locator('input[name="q_hr2"][value="payment"]').is_checked()
    page.get_by_role("button", name="Tiếp tục").click()
    _choose(page, "q_dg3", "yes")
    _choose(page, "q_dg4", "4")
    page.get_by_role("button", name="Tiếp tục").click()
    _choose(page, "q_ds1", "yes")
    _choose(page, "q_ds2", "no")
    page.get_by_role("button", name="Tiếp tục").click()
    _choose(page, "attention", "agree")
    # the province is the link's, shown and not typed
    assert page.locator("#a-province").is_disabled()
    assert page.locator("#a-province").input_value() == survey.units[0].code
    _choose(page, "urban", "urban")
    _choose(page, "sex", "male")
    _choose(page, "age", "35-44")
    page.get_by_role("button", name="Xem lại và gửi").click()
    violations["review"] = _serious(page)
    page.get_by_role("button", name="Gửi câu trả lời").click()
    page.get_by_role("heading", name="Cảm ơn ông/bà: câu trả lời đã được nhận").wait_for()
    violations["done"] = _serious(page)
    context.close()

    [stored] = db.session.scalars(select(Response)).all()
    assert stored.answers == {
        "q_aw3": "yes",
        "q_infra2": "yes",
        "q_hr2": ["email", "payment"],
        "q_dg3": "yes",
        "q_dg4": "4",
        "q_ds1": "yes",
        "q_ds2": "no",
        "attention": "agree",
        "urban": "urban",
        "sex": "male",
        "age": "35-44",
    }
    assert violations == {name: [] for name in violations}


def _on_the_third_section(live_server, browser, survey):
    """A phone opened on a new invitation and answered to its third section: (context, page)."""
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    db.session.commit()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/i/{issued.token}/0")
    for code, value in (("q_aw3", "yes"), ("q_infra2", "no")):
        _choose(page, code, value)
        page.get_by_role("button", name="Tiếp tục").click()
    return context, page


def test_a_question_shows_only_when_its_condition_holds(live_server, browser, survey):
    context, page = _on_the_third_section(live_server, browser, survey)
    page.locator('input[name="q_hr2"][value="none"]').check()
    page.get_by_role("button", name="Tiếp tục").click()
    assert page.locator("#q-q_dg4").is_hidden()
    _choose(page, "q_dg3", "yes")
    assert page.locator("#q-q_dg4").is_visible()
    _choose(page, "q_dg3", "no")
    assert page.locator("#q-q_dg4").is_hidden()
    context.close()


def test_none_of_these_unticks_the_other_choices_and_they_untick_it(live_server, browser, survey):
    context, page = _on_the_third_section(live_server, browser, survey)
    choice = lambda value: page.locator(f'input[name="q_hr2"][value="{value}"]')  # noqa: E731
    choice("email").check()
    choice("search").check()
    choice("none").check()
    assert [choice(v).is_checked() for v in ("email", "search", "payment", "none")] == [False, False, False, True]
    choice("payment").check()
    assert [choice(v).is_checked() for v in ("email", "search", "payment", "none")] == [False, False, True, False]
    page.locator(".save-status").filter(has_text="đã được lưu").wait_for()
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_url("**/3")
    context.close()
    draft = db.session.scalar(select(ResponseDraft))
    db.session.refresh(draft)
    assert draft.answers["q_hr2"] == ["payment"]
