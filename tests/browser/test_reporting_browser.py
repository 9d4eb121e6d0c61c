"""One province reports in headless Chromium, in Vietnamese, its reporter at phone width: the reporter fills
the form with evidence (a reference on every value, a PDF on one) and one written explanation, the approver
returns it once with a comment, the reporter corrects it, the approver approves, the signatory signs off with a
code of the second factor; an officer appraises one value with a reason, and the unit sees it; a run is
published, and the unit sees its rank. axe finds no serious accessibility violation on the way."""

import re

import pyotp
import pytest
from sqlalchemy import select

from survey_app.core.extensions import db
from survey_app.reporting.models import ReportStatus, UnitReport
from survey_app.scoring.models import SelfAssessment
from tests.browser.test_survey_browser import ARGS, CHROMIUM, PHONE, _serious
from tests.conftest import PASSWORD, pdf_document

#: the demo framework's self-reported criteria and a value for each; DS.3 is explained rather than proved
VALUES = {
    "AW.1": "có",
    "AW.2": "không",
    "INST.1": "2",
    "INST.2": "1",
    "INFRA.1": "85%",
    "INFRA.3": "có",
    "HR.1": "85,5",
    "SEC.1": "100",
    "SEC.2": "có",
    "DG.1": "50",
    "DG.2": "40",
    "DG.5": "30",
    "DE.3": "10",
    "DS.3": "0",
}
EXPLAINED = "DS.3"
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "vi-VN"}


@pytest.fixture
def live_server(app):
    import threading

    from werkzeug.serving import make_server

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


@pytest.fixture
def province(app, create_user):
    """A 2023 province round on the demo framework; Hà Nội's reporter, approver and signatory (with a second
    factor), and a scoring officer."""
    from questionnaires import read_yaml
    from survey_app.accounts import operations as accounts
    from survey_app.accounts import unit_accounts
    from survey_app.core.demo import demo_framework_path
    from survey_app.frameworks import operations as frameworks
    from survey_app.rounds import operations as rounds
    from survey_app.units import operations as units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    rounds.create_round("r2023", 2023, "Vòng 2023", "Round 2023", framework, unit_list, actor=None)
    hanoi = next(unit for unit in unit_list.units if unit.code == "01")
    made = {}
    for role in ("reporter", "approver", "signatory"):
        user, _ = unit_accounts.create_unit_account(hanoi, f"{role}@hanoi.gov.vn", role, role, actor=None)
        accounts.set_password(user, PASSWORD, actor=None)
        made[role] = user
    made["signatory"].totp_secret = pyotp.random_base32()
    made["officer"] = create_user("scoring_officer", email="thamdinh@mic.gov.vn")
    db.session.commit()
    return made


def _log_in(browser, live_server, user, *, phone=False):
    context = browser.new_context(**(PHONE if phone else DESKTOP))
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    if user.totp_secret:
        page.locator("#code").fill(pyotp.TOTP(user.totp_secret).now())
        page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_load_state()
    return context, page


def _by_id(page, element_id: str):
    """An element by its id, which holds a criterion's code with its dot."""
    return page.locator(f'[id="{element_id}"]')


def _status() -> str:
    db.session.expire_all()
    return db.session.scalar(select(UnitReport.status))


def test_a_province_reports_is_returned_corrects_signs_off_and_sees_its_appraisal(
    live_server, browser, province, tmp_path
):
    report = f"{live_server}/reporting/r2023/2023/01"
    violations = {}

    # the reporter, on a phone: the unit's rounds, then the form
    context, page = _log_in(browser, live_server, province["reporter"], phone=True)
    assert page.locator("html").get_attribute("lang") == "vi"
    violations["home"] = _serious(page)
    page.get_by_role("link", name="Vòng 2023").click()
    for number, (code, value) in enumerate(VALUES.items()):
        _by_id(page, f"value-{code}").fill(value)
        if code == EXPLAINED:
            _by_id(page, f"explanation-{code}").fill("Chưa có văn bản: xã chưa triển khai nền tảng này năm 2023.")
        else:
            _by_id(page, f"evidence-{code}").fill(f"QĐ {number + 1}/QĐ-UBND")
    # a wrong value first: its message beside the field, in Vietnamese, and what was typed kept
    _by_id(page, "value-INFRA.1").fill("120")
    page.get_by_role("button", name="Lưu bản nháp").click()
    assert _by_id(page, "error-INFRA.1").is_visible()
    assert _by_id(page, "value-DG.1").input_value() == "50"
    violations["error"] = _serious(page)
    _by_id(page, "value-INFRA.1").fill(VALUES["INFRA.1"])
    page.get_by_role("button", name="Lưu bản nháp").click()
    # a PDF proving SEC.1
    pdf = tmp_path / "quyet-dinh-an-toan-thong-tin.pdf"
    pdf.write_bytes(pdf_document())
    page.locator("#document-criterion").select_option("SEC.1")
    page.locator("#document-file").set_input_files(str(pdf))
    page.get_by_role("button", name="Tải lên").click()
    assert page.get_by_role("link", name=pdf.name).is_visible()
    violations["form"] = _serious(page)
    page.get_by_role("button", name="Lưu và gửi người phê duyệt").click()
    page.get_by_text("Đã gửi người phê duyệt.").wait_for()
    assert _status() == ReportStatus.SUBMITTED
    context.close()

    # the approver returns it once, with what to correct
    context, page = _log_in(browser, live_server, province["approver"])
    page.goto(report)
    violations["approver"] = _serious(page)
    page.locator("#comment").fill("HR.1: số liệu đúng là 90%, theo báo cáo của Sở Nội vụ.")
    page.get_by_role("button", name="Trả lại cán bộ nhập liệu").click()
    page.get_by_text("Đã trả lại cán bộ nhập liệu.").wait_for()
    assert _status() == ReportStatus.RETURNED
    context.close()

    # the reporter sees the comment and corrects
    context, page = _log_in(browser, live_server, province["reporter"], phone=True)
    page.goto(report)
    assert "số liệu đúng là 90%" in page.locator(".flash-error").first.inner_text()
    violations["returned"] = _serious(page)
    _by_id(page, "value-HR.1").fill("90")
    page.get_by_role("button", name="Lưu và gửi người phê duyệt").click()
    page.get_by_text("Đã gửi người phê duyệt.").wait_for()
    context.close()

    context, page = _log_in(browser, live_server, province["approver"])
    page.goto(report)
    page.get_by_role("button", name="Phê duyệt").click()
    page.get_by_text("Đã phê duyệt.").wait_for()
    assert _status() == ReportStatus.APPROVED
    context.close()

    # the signatory logs in with a code of its second factor and signs off
    context, page = _log_in(browser, live_server, province["signatory"])
    page.goto(report)
    violations["signatory"] = _serious(page)
    page.get_by_role("button", name="Ký duyệt").click()
    page.get_by_text("Đã ký duyệt").first.wait_for()
    assert _status() == ReportStatus.SIGNED_OFF
    context.close()
    stored = {row.criterion: row for row in db.session.scalars(select(SelfAssessment))}
    # by hand: 90/100 of HR.1's 45 points (the demo's 50 × 0.9, HR.E has the other 10%); SEC.1's PDF copied to
    # scoring's evidence; DS.3 explained
    assert stored["HR.1"].value == 90 and stored["HR.1"].points == pytest.approx(40.5)
    assert [document.original_name for document in stored["SEC.1"].documents] == [pdf.name]
    assert stored[EXPLAINED].explanation.startswith("Chưa có văn bản") and stored[EXPLAINED].evidence == ""

    # an officer appraises INST.1 with a reason
    context, page = _log_in(browser, live_server, province["officer"])
    page.goto(f"{live_server}/scoring/r2023/units/01")
    row = _by_id(page, "criterion-INST.1")
    row.get_by_label("Điểm").fill("20")
    row.get_by_label("Lý do").fill("Chỉ một văn bản có hiệu lực trong năm 2023")
    row.get_by_role("button", name="Thẩm định").click()
    page.wait_for_load_state()
    context.close()

    # the unit sees the appraised value and its reason on its report
    context, page = _log_in(browser, live_server, province["reporter"], phone=True)
    page.goto(report)
    appraised = _by_id(page, "appraisal-INST.1")
    assert "20" in appraised.locator("strong").inner_text()
    assert "Chỉ một văn bản có hiệu lực trong năm 2023" in appraised.inner_text()
    violations["appraisal"] = _serious(page)
    context.close()

    # a run is published (every other province on 0: Hà Nội first of 63), and the unit sees its rank
    from survey_app.publication import operations as publication
    from survey_app.rounds.models import EvaluationRound
    from survey_app.scoring import operations as scoring

    evaluation = db.session.scalar(select(EvaluationRound))
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    publication.publish(scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None), actor=None)
    db.session.commit()
    context, page = _log_in(browser, live_server, province["reporter"], phone=True)
    page.locator('a[href="/reporting/r2023/results/01"]').first.click()
    published = page.locator("#published")
    # the rank and the count, whatever the sentence's words (its translation comes with the catalogue)
    assert re.search(r"\b1\b\D+\b63\b", published.inner_text())
    assert published.locator('a[href="/results/r2023/units/01"]').is_visible()
    violations["results"] = _serious(page)
    context.close()

    assert violations == {name: [] for name in violations}
